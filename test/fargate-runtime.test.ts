import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../schemas/index.ts';
import { type FakeLlm, startFakeLlm, userTexts } from './fixtures/fake-llm.ts';
import { signIn, withToken } from './fixtures/local-auth.ts';
import { type LocalProcess, startLocalProcess } from './fixtures/local-process.ts';
import { connectTestSocket, type TestSocket } from './fixtures/ws-client.ts';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Pids of the container processes the stack started, from the line each prints when ready. */
const containerPids = (output: string) =>
  [...output.matchAll(/openclaw-container ready local:(\d+)/g)].map((match) => Number(match[1]));

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let clientIds = 0;
/** Sends one message without waiting for anything; returns its client id. */
function send(socket: TestSocket, conversationId: string, text: string): string {
  const clientMessageId = `fargate-${process.pid}-${++clientIds}`;
  socket.send({ action: 'sendMessage', conversationId, clientMessageId, text });
  return clientMessageId;
}

describe('the Fargate runtime in local mode: a container process started on demand', () => {
  let llm: FakeLlm;
  let dataDir: string;
  let stack: LocalProcess | undefined;
  const conversationId = `conv-fargate-${Date.now()}`;
  const idleTimeoutMs = 8_000;

  beforeAll(async () => {
    // The first request for an interrupted message hangs, like a long turn that Spot cuts short.
    let interruptedOnce = false;
    llm = await startFakeLlm({
      chunkDelayMs: 20,
      hang: (request) => {
        const last = userTexts(request).at(-1) ?? '';
        if (!last.includes('SPOT-INTERRUPT') || interruptedOnce) return false;
        interruptedOnce = true;
        return true;
      },
    });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-fargate-'));
    stack = await startLocalProcess({
      DATA_DIR: dataDir,
      DEFAULT_RUNTIME: 'fargate',
      IDLE_TIMEOUT_MS: String(idleTimeoutMs),
      OPENCLAW_LLM_BASE_URL: llm.baseUrl,
      OPENCLAW_LLM_MODEL: 'fake-model',
      OPENCLAW_LLM_API_KEY: 'sk-test-fargate-0123456789',
    });
  });

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.log(stack?.output().slice(-10000));
  });

  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers five messages sent while it starts, in order, after telling the user it is waking up', async () => {
    // Prepare
    const socket = await connectTestSocket(withToken(stack!.wsUrl, (await signIn(stack!.url)).idToken));
    const texts = ['one', 'two', 'three', 'four', 'five'].map((word) => `Message ${word}, please echo.`);

    // Act: five messages at once, before any container exists
    const clientIds = texts.map((text) => send(socket, conversationId, text));
    const acks = await Promise.all(
      clientIds.map((id) =>
        socket.waitFor(
          (frame): frame is Frame<'ack'> => frame.type === 'ack' && frame.clientMessageId === id,
        ),
      ),
    );
    const messageIds = acks.map((ack) => ack.messageId);
    for (const messageId of messageIds) {
      await socket.waitFor(
        (frame): frame is Frame<'completed'> => frame.type === 'completed' && frame.inReplyTo === messageId,
        180_000,
      );
    }

    // Assess: the waking status came before any reply to the first message
    const firstFrames = socket.frames.filter(
      (frame) => 'inReplyTo' in frame && frame.inReplyTo === messageIds[0],
    );
    expect(firstFrames[0]).toMatchObject({ type: 'status', status: 'waking' });
    expect((firstFrames[0] as Frame<'status'>).message).toMatch(/Waking up the agent/);
    // Every message got an ok reply to itself, and the replies completed in the order sent
    const completed = socket.frames.filter(
      (frame): frame is Frame<'completed'> => frame.type === 'completed',
    );
    expect(completed.map((frame) => frame.inReplyTo)).toEqual(messageIds);
    completed.forEach((frame, index) => {
      expect(frame.status).toBe('ok');
      expect(frame.text).toContain(texts[index]);
    });
    // One container served them all
    expect(containerPids(stack!.output())).toHaveLength(1);
    socket.close();
  }, 240_000);

  it('stops the container after the idle timeout, and a new one still remembers the conversation', async () => {
    // Prepare: the container from the first test
    const [firstPid] = containerPids(stack!.output());
    expect(firstPid).toBeDefined();

    // Act: wait out the idle timeout
    await waitFor(() => !isAlive(firstPid!), idleTimeoutMs + 60_000, 'the idle container to exit');
    const socket = await connectTestSocket(withToken(stack!.wsUrl, (await signIn(stack!.url)).idToken));
    const clientId = send(socket, conversationId, 'What was my first message?');
    const ack = await socket.waitFor(
      (frame): frame is Frame<'ack'> => frame.type === 'ack' && frame.clientMessageId === clientId,
    );
    const reply = await socket.waitFor(
      (frame): frame is Frame<'completed'> => frame.type === 'completed' && frame.inReplyTo === ack.messageId,
      180_000,
    );

    // Assess: a second container, woken with the status, with the earlier turns in its session
    const pids = containerPids(stack!.output());
    expect(pids).toHaveLength(2);
    expect(pids[1]).not.toBe(firstPid);
    expect(
      socket.frames.find((frame) => 'inReplyTo' in frame && frame.inReplyTo === ack.messageId),
    ).toMatchObject({
      type: 'status',
      status: 'waking',
    });
    expect(reply.status).toBe('ok');
    expect(userTexts(llm.requests.at(-1)!).join('\n')).toContain('Message one, please echo.');
    socket.close();
  }, 240_000);

  it('hands a turn cut short by SIGTERM (a Spot interruption) to a new container, which answers it and the next', async () => {
    // Prepare
    const socket = await connectTestSocket(withToken(stack!.wsUrl, (await signIn(stack!.url)).idToken));
    const before = containerPids(stack!.output()).length;

    // Act: a message whose turn hangs, one behind it, then SIGTERM to the container mid-turn
    const first = send(socket, conversationId, 'SPOT-INTERRUPT: this turn is cut short.');
    const second = send(socket, conversationId, 'And this one waits behind it.');
    const acks = await Promise.all(
      [first, second].map((id) =>
        socket.waitFor(
          (frame): frame is Frame<'ack'> => frame.type === 'ack' && frame.clientMessageId === id,
        ),
      ),
    );
    await waitFor(
      () => llm.requests.some((request) => userTexts(request).at(-1)?.includes('SPOT-INTERRUPT') === true),
      120_000,
      'the hanging turn to reach the LLM',
    );
    const live = containerPids(stack!.output()).filter(isAlive);
    expect(live).toHaveLength(1);
    process.kill(live[0]!, 'SIGTERM');
    const replies = [];
    for (const ack of acks) {
      replies.push(
        await socket.waitFor(
          (frame): frame is Frame<'completed'> =>
            frame.type === 'completed' && frame.inReplyTo === ack.messageId,
          180_000,
        ),
      );
    }

    // Assess: the interrupted container exited, a new one answered both, in order, without an error
    expect(isAlive(live[0]!)).toBe(false);
    expect(containerPids(stack!.output()).length).toBe(before + 1);
    expect(replies.map((reply) => reply.status)).toEqual(['ok', 'ok']);
    expect(replies[0]!.text).toContain('SPOT-INTERRUPT: this turn is cut short.');
    expect(replies[1]!.text).toContain('And this one waits behind it.');
    const completedOrder = socket.frames
      .filter((frame): frame is Frame<'completed'> => frame.type === 'completed')
      .map((frame) => frame.inReplyTo);
    expect(completedOrder).toEqual(acks.map((ack) => ack.messageId));
    // …because the turn was interrupted and handed back, not because it crashed and was retried
    expect(stack!.output()).toContain('turn interrupted; message handed back unanswered');
    expect(stack!.output()).toContain('messages still queued after the task stopped');
    socket.close();
  }, 300_000);
});
