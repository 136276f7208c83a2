// The event pipeline's own overhead in local mode: a chat message in over the local WebSocket ->
// web producer -> bus -> (stand-in agent) -> bus -> web consumer -> @connections -> reply frame out.
// The stand-in sits where the runtime selector's target is (as in test/slack-round-trip.test.ts) and
// answers at once through the real publisher, so the agent's own time is ~0 and what is measured is
// ours: API Gateway stand-in, producer (auth, dedupe in DynamoDB, publish), bus, consumer, posting.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createPublisher, type Publisher, type TargetId } from '../bus/index.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import { startLocalStack } from '../infra/local/stack.ts';
import { type BusEnvelope, EventSources, type MessageReceived, type ServerFrame } from '../schemas/index.ts';
import { signIn, withToken } from '../test/fixtures/local-auth.ts';
import { connectTestSocket, type TestSocket } from '../test/fixtures/ws-client.ts';

/** One user per conversation: the web consumer sends a reply to every open socket of its user. */
const MAX_USERS = 50;
const USERS = Array.from({ length: MAX_USERS }, (_, i) => ({
  username: `bench-${i}`,
  password: `bench-password-${i}-0123456789`,
}));

/** One load level: this many conversations at once, each sending this many messages in turn. */
export interface PipelineLoad {
  conversations: number;
  messagesEach: number;
  /**
   * Paced like people: each conversation starts after a random pause in this range (ms) and pauses again
   * after every reply. @default none: closed loop, the next message goes as soon as the reply arrives
   */
  thinkMs?: readonly [min: number, max: number];
}

/** Latencies of one load level, in ms. */
export interface PipelineResult {
  conversations: number;
  /** The load's pacing, when it had one. */
  thinkMs?: readonly [min: number, max: number];
  /** Message sent -> its `completed` reply frame received. */
  samples: number[];
  /** Message sent -> its `ack` frame (the producer's part: auth, dedupe, publish). */
  ackSamples: number[];
  /** This process's CPU time (all threads) per measured message, and the wall time of the level, in ms. */
  cpuMsPerMessage: number;
  /** The main thread's busy time per measured message (event-loop utilisation), in ms: every handler runs there. */
  mainThreadMsPerMessage: number;
  wallMs: number;
  /** What one message cost, counted at the stand-ins over the measured messages (warm-up excluded). */
  perMessage: PipelineCalls;
}

/** Calls per message: DynamoDB by operation, PutEvents requests, frames posted to the sockets. */
export interface PipelineCalls {
  dynamo: Record<string, number>;
  dynamoTotal: number;
  putEvents: number;
  postToConnection: number;
}

/** Counts the stack's calls to its stand-ins, so each load level can say what a message costs. */
function createCallCounter() {
  const dynamo = new Map<string, number>();
  let putEvents = 0;
  let postToConnection = 0;
  return {
    countDynamo: (command: string) => dynamo.set(command, (dynamo.get(command) ?? 0) + 1),
    countPutEvents: () => putEvents++,
    countPost: () => postToConnection++,
    /** The counts so far, then starts again from zero. */
    take(messages: number): PipelineCalls {
      const per = (n: number) => Math.round((n / messages) * 100) / 100;
      const byOperation = Object.fromEntries([...dynamo].sort().map(([name, n]) => [name, per(n)]));
      const total = [...dynamo.values()].reduce((sum, n) => sum + n, 0);
      const result = {
        dynamo: byOperation,
        dynamoTotal: per(total),
        putEvents: per(putEvents),
        postToConnection: per(postToConnection),
      };
      dynamo.clear();
      putEvents = 0;
      postToConnection = 0;
      return result;
    },
  };
}

/** Answers like the agent does (a delta, then the completed reply), with no thinking in between. */
function standInAgent(publisher: () => Publisher) {
  return async (envelope: BusEnvelope) => {
    const message = envelope.detail as MessageReceived;
    const about = {
      userId: message.userId,
      conversationId: message.conversationId,
      replyTo: message.replyTo,
      inReplyTo: message.messageId,
    };
    const text = `You said: ${message.text}`;
    await publisher().publish({
      source: EventSources.agent,
      detailType: 'ReplyDelta.v1',
      detail: { ...about, seq: 1, text: text.slice(0, 8) },
    });
    await publisher().publish({
      source: EventSources.agent,
      detailType: 'ReplyCompleted.v1',
      detail: { ...about, seq: 2, status: 'ok', text },
    });
  };
}

let sent = 0;
/** One message of one conversation, timed until its completed reply frame. */
async function roundTrip(
  socket: TestSocket,
  conversationId: string,
  countPost: () => void,
): Promise<{ ackMs: number; replyMs: number }> {
  const clientMessageId = `bench-${process.pid}-${++sent}`;
  const started = performance.now();
  socket.send({ action: 'sendMessage', conversationId, clientMessageId, text: `message ${sent}` });
  const ack = (await socket.waitFor(
    (frame) => frame.type === 'ack' && frame.clientMessageId === clientMessageId,
  )) as Extract<ServerFrame, { type: 'ack' }>;
  const ackMs = performance.now() - started;
  await socket.waitFor((frame) => frame.type === 'completed' && frame.inReplyTo === ack.messageId);
  const replyMs = performance.now() - started;
  // Every frame but the route response (the ack) was a PostToConnection.
  for (const frame of socket.frames) if (frame.type !== 'ack') countPost();
  // Keep the frame log short: waitFor scans it.
  socket.frames.length = 0;
  return { ackMs, replyMs };
}

/**
 * Starts the local stack in this process and runs each load level: its conversations at once (one user
 * and WebSocket each), after one uncounted warm-up message per conversation.
 */
export async function measurePipeline(loads: readonly PipelineLoad[]): Promise<PipelineResult[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'openclaw-bench-pipeline-'));
  const calls = createCallCounter();
  const stack = await startLocalStack({
    dataDir,
    port: 0,
    users: USERS,
    env: {},
    preloadAgent: false,
    logLevel: 'SILENT',
    schedulerTickMs: 0,
    configureDynamo: (client) =>
      client.middlewareStack.add(
        (next, context) => (args) => {
          calls.countDynamo(context.commandName ?? 'unknown');
          return next(args);
        },
        { step: 'initialize', name: 'benchCountCalls' },
      ),
  });
  const endpoint = await startEventBridgeEndpoint(stack.bus);
  const eventBridge = new EventBridgeClient(localClientConfig(endpoint.endpoint));
  const publisher = createPublisher({ client: eventBridge, eventBusName: 'bench' });
  // The stack fills its bus's target table after building the bus and keeps no other handle on it;
  // swapping the selector's entry is the seam the end-to-end tests use for a stand-in agent.
  const targets = (stack.bus as unknown as { targets: Partial<Record<TargetId, unknown>> }).targets;
  if (!('runtime-selector' in targets)) throw new Error('the local stack has no runtime-selector target');
  targets['runtime-selector'] = standInAgent(() => publisher);
  const putEvents = stack.bus.putEvents.bind(stack.bus);
  stack.bus.putEvents = (entries) => {
    calls.countPutEvents();
    return putEvents(entries);
  };
  const sockets: TestSocket[] = [];
  try {
    const results: PipelineResult[] = [];
    for (const { conversations, messagesEach, thinkMs } of loads) {
      if (conversations > MAX_USERS) throw new RangeError(`at most ${MAX_USERS} concurrent conversations`);
      while (sockets.length < conversations) {
        const user = USERS[sockets.length]!;
        const { idToken } = await signIn(stack.url, user.username, user.password);
        sockets.push(await connectTestSocket(withToken(stack.wsUrl, idToken)));
      }
      const active = sockets.slice(0, conversations);
      const think = () =>
        thinkMs
          ? new Promise((resolve) =>
              setTimeout(resolve, thinkMs[0] + Math.random() * (thinkMs[1] - thinkMs[0])),
            )
          : undefined;
      await Promise.all(active.map((socket, i) => roundTrip(socket, `conv-warm-${i}`, calls.countPost)));
      await stack.bus.idle();
      calls.take(1);
      const samples: number[] = [];
      const ackSamples: number[] = [];
      const cpuBefore = process.cpuUsage();
      const loopBefore = performance.eventLoopUtilization();
      const wallBefore = performance.now();
      await Promise.all(
        active.map(async (socket, i) => {
          for (let m = 0; m < messagesEach; m++) {
            await think();
            const { ackMs, replyMs } = await roundTrip(
              socket,
              `conv-${conversations}${thinkMs ? '-paced' : ''}-${i}`,
              calls.countPost,
            );
            samples.push(replyMs);
            ackSamples.push(ackMs);
          }
        }),
      );
      await stack.bus.idle();
      const cpu = process.cpuUsage(cpuBefore);
      const loop = performance.eventLoopUtilization(loopBefore);
      results.push({
        conversations,
        ...(thinkMs ? { thinkMs } : {}),
        samples,
        ackSamples,
        cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / samples.length,
        mainThreadMsPerMessage: loop.active / samples.length,
        wallMs: performance.now() - wallBefore,
        perMessage: calls.take(samples.length),
      });
    }
    return results;
  } finally {
    // The stack closes its gateway first, which ends these sockets and runs their $disconnect while the
    // table still exists; closing them here first would race its shutdown.
    await stack.close();
    await Promise.all(sockets.map((socket) => socket.close()));
    eventBridge.destroy();
    await endpoint.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
