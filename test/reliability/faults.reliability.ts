import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { type FakeLlm, fakeLlmDefault, startFakeLlm } from '../fixtures/fake-llm.ts';
import { TEST_USERS } from '../fixtures/local-auth.ts';
import {
  awaitAnswers,
  type Conversation,
  completedOf,
  judge,
  openConversation,
  send,
} from './conversations.ts';
import { byScale, recordCounts } from './counts.ts';
import { type ReliabilityStack, startReliabilityStack } from './harness.ts';
import { standInAgent } from './stand-in-agent.ts';

// Faults injected into the real local pipeline; each message must be answered (after retries) or the user
// told what went wrong — never silence, never twice.
const open: { rs?: ReliabilityStack; llm?: FakeLlm; conversations: Conversation[] }[] = [];
afterAll(async () => {
  for (const { rs, llm, conversations } of open) {
    await Promise.all(conversations.map((c) => c.socket.close()));
    await rs?.close();
    await llm?.close();
  }
});

const connect = (rs: ReliabilityStack, conversationId: string) =>
  openConversation(rs.stack.wsUrl, rs.stack.url, 'local', TEST_USERS.local!, conversationId);

/** Answered ok, or answered with an error the user can read, per message; lost and duplicated counted. */
function outcome(conversations: Conversation[]) {
  const { lost, duplicates } = judge(conversations);
  const completed = conversations.flatMap(completedOf);
  const failed = completed.filter((frame) => frame.status !== 'ok');
  for (const frame of failed)
    expect(frame.error?.message ?? '', 'an error the user can read').toMatch(/\w{4,}/);
  const refused = conversations.reduce((n, c) => n + c.refused.length, 0);
  const codes = [
    ...failed.map((frame) => `${frame.status}:${frame.error?.code}`),
    ...conversations.flatMap((c) => c.refused.map((frame) => `refused:${frame.code}`)),
  ];
  return {
    lost,
    duplicates,
    ok: completed.length - failed.length,
    reportedErrors: failed.length + refused,
    codes: codes.join(' '),
  };
}

describe('faults injected into the local pipeline', () => {
  it('bus publish failures: retried by the publisher, or the sender told, and nothing lost', async () => {
    const rs = await startReliabilityStack({ loadAdapter: async () => standInAgent() });
    const conversation = await connect(rs, 'fault-bus');
    open.push({ rs, conversations: [conversation] });
    const MESSAGES = byScale({ ci: 5, full: 20 });

    // Act: three failing PutEvents entries before each message (the publisher makes four attempts)
    for (let i = 0; i < MESSAGES; i++) {
      rs.stack.bus.injectFailures(3);
      await send(conversation, `bus fault message ${i}`);
    }
    await awaitAnswers([conversation], 60_000);
    // ...then a bus that stays down: the sender must get an error frame, not a silent ack
    rs.stack.bus.injectFailures(1_000);
    await send(conversation, 'bus down message');
    rs.stack.bus.injectFailures(0);
    await send(conversation, 'bus back message');
    await awaitAnswers([conversation], 60_000);

    // Assess
    const result = outcome([conversation]);
    recordCounts(
      'fault: bus publish failure',
      {
        inputsTried: MESSAGES + 2,
        lost: result.lost,
        duplicates: result.duplicates,
        retried: MESSAGES,
        reported: result.reportedErrors,
      },
      result.codes,
    );
    expect(result).toMatchObject({ lost: 0, duplicates: 0 });
    expect(conversation.refused.map((frame) => frame.code)).toHaveLength(1);
    expect(result.ok).toBe(MESSAGES + 1);
  });

  it('DynamoDB throttling: the SDK retries ProvisionedThroughputExceeded and every message is answered once', async () => {
    // Every fourth DynamoDB call answers ProvisionedThroughputExceededException (never twice in a row, so
    // the SDK's own retries get through), inside the SDK's retry loop as a real throttle would be.
    let calls = 0;
    let throttled = 0;
    const rs = await startReliabilityStack({
      loadAdapter: async () => standInAgent(),
      configureDynamo: (client) =>
        client.middlewareStack.add(
          (next) => async (args) => {
            if (++calls % 4 === 0) {
              throttled++;
              throw new ProvisionedThroughputExceededException({
                message:
                  'Injected: the level of configured provisioned throughput for the table was exceeded',
                $metadata: { httpStatusCode: 400 },
              });
            }
            return next(args);
          },
          { step: 'deserialize', name: 'injectThrottling' },
        ),
    });
    const conversations = await Promise.all([0, 1, 2].map((i) => connect(rs, `fault-dynamo-${i}`)));
    open.push({ rs, conversations });
    const MESSAGES = byScale({ ci: 4, full: 10 });
    calls = 0;
    throttled = 0;

    // Act
    await Promise.all(
      conversations.map(async (conversation, c) => {
        for (let i = 0; i < MESSAGES; i++) await send(conversation, `throttled ${c}.${i}`);
      }),
    );
    await awaitAnswers(conversations, 120_000);

    // Assess
    const result = outcome(conversations);
    recordCounts(
      'fault: DynamoDB throttling',
      {
        inputsTried: 3 * MESSAGES,
        lost: result.lost,
        duplicates: result.duplicates,
        retried: throttled,
        reported: result.reportedErrors,
      },
      `${throttled} of ${calls} calls throttled; ${result.codes || 'no errors'}`,
    );
    expect(throttled).toBeGreaterThan(10);
    expect(result).toMatchObject({ lost: 0, duplicates: 0 });
    expect(result.ok + result.reportedErrors).toBe(3 * MESSAGES);
  });

  it('LLM timeout: a real OpenClaw turn whose LLM hangs is answered with an error in time, the next one normally', async () => {
    let hangNext = true;
    const llm = await startFakeLlm({
      hang: () => {
        const hang = hangNext;
        hangNext = false;
        return hang;
      },
    });
    const rs = await startReliabilityStack({
      turnTimeoutMs: 20_000,
      defaultLlm: fakeLlmDefault(llm.baseUrl),
    });
    const conversation = await connect(rs, 'fault-llm');
    open.push({ rs, llm, conversations: [conversation] });

    // Act
    const startedAt = Date.now();
    await send(conversation, 'This one hangs.');
    await awaitAnswers([conversation], 90_000);
    const hungMs = Date.now() - startedAt;
    await send(conversation, 'This one is answered.');
    await awaitAnswers([conversation], 90_000);

    // Assess
    const result = outcome([conversation]);
    const [first, second] = completedOf(conversation);
    recordCounts(
      'fault: LLM timeout',
      { inputsTried: 2, lost: result.lost, duplicates: result.duplicates, reported: result.reportedErrors },
      `real OpenClaw; hung turn answered after ${(hungMs / 1000).toFixed(1)} s; ${result.codes}; ${llm.requests.length} LLM requests; second: ${JSON.stringify(second?.error ?? second?.text)?.slice(0, 120)}`,
    );
    expect(result).toMatchObject({ lost: 0, duplicates: 0 });
    expect(first?.status).not.toBe('ok');
    expect(second?.status).toBe('ok');
  });

  it('agent crash mid-turn: the killed container worker is replaced and the message answered, or the user told', async () => {
    let hang = true;
    const llm = await startFakeLlm({ hang: () => hang });
    const rs = await startReliabilityStack({
      defaultRuntime: 'fargate',
      turnTimeoutMs: 60_000,
      defaultLlm: fakeLlmDefault(llm.baseUrl),
    });
    const conversation = await connect(rs, 'fault-crash');
    open.push({ rs, llm, conversations: [conversation] });

    // Act: once the turn is at the LLM (mid-turn), SIGKILL the container process running it
    await send(conversation, 'Crash while answering me.');
    const deadline = Date.now() + 120_000;
    while (llm.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const [taskId] = await rs.stack.runningContainers();
    expect(taskId).toMatch(/^local:\d+$/);
    hang = false;
    process.kill(Number(taskId!.slice('local:'.length)), 'SIGKILL');
    await awaitAnswers([conversation], 240_000);

    // Assess
    const result = outcome([conversation]);
    recordCounts(
      'fault: agent crash mid-turn',
      {
        inputsTried: 1,
        lost: result.lost,
        duplicates: result.duplicates,
        retried: result.ok,
        reported: result.reportedErrors,
      },
      'real OpenClaw in a container process, SIGKILL',
    );
    expect(result).toMatchObject({ lost: 0, duplicates: 0 });
    expect(result.ok + result.reportedErrors).toBe(1);
  });
});
