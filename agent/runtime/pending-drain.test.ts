import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReceived } from '../../schemas/types.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { messageAt } from '../../test/fixtures/messages.ts';
import { createSessionLock } from '../session-lock.ts';
import type { TurnOptions, TurnOutcome } from '../turn-runner.ts';
import { createPendingDrain, type PendingDrainDeps } from './pending-drain.ts';
import { createPendingMessages } from './pending-messages.ts';
import { createPredecessorGate } from './predecessor-gate.ts';
import { createTaskStateStore } from './task-state.ts';

describe('the Lambda drain of a user queue under the session lock (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const message = messageAt;
  const T0 = Date.UTC(2026, 10, 24, 10);

  /** A drain on a clock the test moves, with a turn runner that records what it answered. */
  function setup(overrides: Partial<PendingDrainDeps> = {}) {
    const clock = { now: T0 };
    const now = () => clock.now;
    const taskState = createTaskStateStore(aws.storage, { now });
    const pending = createPendingMessages(aws.storage, { now });
    const turns: { messageId: string; deadlineAt: number; stillQueued: boolean; underLease: boolean }[] = [];
    const erroredWith: string[] = [];
    const continued: string[] = [];
    let active = 0;
    let maxActive = 0;
    const runTurn = async (msg: MessageReceived, turn: TurnOptions): Promise<TurnOutcome> => {
      active++;
      maxActive = Math.max(maxActive, active);
      const stillQueued = (await pending.list(msg.userId)).some((p) => p.message.messageId === msg.messageId);
      turns.push({
        messageId: msg.messageId,
        deadlineAt: turn.deadlineAt,
        stillQueued,
        underLease: turn.lease?.userId === msg.userId,
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
      return 'answered';
    };
    let owners = 0;
    const { drainPending: drain } = createPendingDrain({
      taskState,
      pending,
      newLock: () => createSessionLock({ storage: aws.storage, owner: `drain-${++owners}` }),
      runTurn,
      mustWaitForPredecessor: createPredecessorGate({ storage: aws.storage }),
      answerWithError: async (msg) => void erroredWith.push(msg.messageId),
      continueLater: async (userId) => void continued.push(userId),
      logger: { info() {}, warn() {}, error() {} },
      now,
      ...overrides,
    });
    const left = async (userId: string) =>
      (await pending.list(userId)).map((p) => [p.message.messageId, p.attempts]);
    return {
      clock,
      taskState,
      pending,
      drain,
      turns,
      erroredWith,
      continued,
      left,
      runTurn,
      maxActive: () => maxActive,
    };
  }

  it('answers the queue oldest first, one turn at a time, removing each message after its turn', async () => {
    // Prepare
    const { pending, drain, turns, left, maxActive } = setup();
    const user = 'user-drain-order';
    for (const i of [3, 0, 2, 1]) await pending.enqueue(message(user, `m${i}`, i));
    const deadlineAt = T0 + 900_000;

    // Act
    const result = await drain(user, deadlineAt);

    // Assess
    expect(result).toBe('empty');
    expect(turns.map((turn) => turn.messageId)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(turns.every((turn) => turn.stillQueued && turn.underLease && turn.deadlineAt === deadlineAt)).toBe(
      true,
    );
    expect(maxActive()).toBe(1);
    expect(await left(user)).toEqual([]);
  });

  it('lets one of two drains started together answer the queue, each message once', async () => {
    // Prepare: two failed starts each asked for a drain of the same queue
    const { pending, drain, turns, erroredWith, left, maxActive } = setup();
    const user = 'user-drain-twice';
    for (const i of [0, 1, 2]) await pending.enqueue(message(user, `m${i}`, i));

    // Act
    const results = await Promise.all([drain(user, T0 + 900_000), drain(user, T0 + 900_000)]);

    // Assess
    expect(results.sort()).toEqual(['busy', 'empty']);
    expect(turns.map((turn) => turn.messageId)).toEqual(['m0', 'm1', 'm2']);
    expect(erroredWith).toEqual([]);
    expect(maxActive()).toBe(1);
    expect(await left(user)).toEqual([]);
  });

  it('leaves the queue to a task that is starting or running', async () => {
    // Prepare
    const { taskState, pending, drain, turns, left } = setup();
    const user = 'user-drain-task-active';
    await pending.enqueue(message(user, 'm0', 0));
    await taskState.beginStart(user);

    // Act
    const result = await drain(user, T0 + 900_000);

    // Assess
    expect(result).toBe('task-active');
    expect(turns).toEqual([]);
    expect(await left(user)).toEqual([['m0', 0]]);
  });

  it('stops between turns when a task starts meanwhile', async () => {
    // Prepare: a new message starts the user's task while the drain answers the first one
    const user = 'user-drain-task-starts';
    const taskState = createTaskStateStore(aws.storage);
    const base = setup();
    const { drain, left } = setup({
      runTurn: async (msg, turn) => {
        await taskState.beginStart(user);
        return base.runTurn(msg, turn);
      },
    });
    await base.pending.enqueue(message(user, 'm0', 0));
    await base.pending.enqueue(message(user, 'm1', 1));

    // Act
    const result = await drain(user, T0 + 900_000);

    // Assess
    expect(result).toBe('task-active');
    expect(base.turns.map((turn) => turn.messageId)).toEqual(['m0']);
    expect(await left(user)).toEqual([['m1', 0]]);
  });

  it('hands the rest on when too little time is left for another turn, but always answers one', async () => {
    // Prepare: every turn takes 50 s of a 100 s invocation; a turn needs 60 s to start
    const user = 'user-drain-short';
    const base = setup();
    const { drain, continued, left } = setup({
      minTurnMs: 60_000,
      now: () => base.clock.now,
      runTurn: async (msg, turn) => {
        base.clock.now += 50_000;
        return base.runTurn(msg, turn);
      },
    });
    for (const i of [0, 1, 2]) await base.pending.enqueue(message(user, `m${i}`, i));

    // Act: even with less than a turn's time left, the first message is answered
    const result = await drain(user, T0 + 40_000);

    // Assess
    expect(result).toBe('continued');
    expect(base.turns.map((turn) => turn.messageId)).toEqual(['m0']);
    expect(continued).toEqual([user]);
    expect(await left(user)).toEqual([
      ['m1', 0],
      ['m2', 0],
    ]);
  });

  it('answers more than one message when the time allows', async () => {
    // Prepare
    const user = 'user-drain-long';
    const base = setup();
    const { drain, continued } = setup({
      minTurnMs: 60_000,
      now: () => base.clock.now,
      runTurn: async (msg, turn) => {
        base.clock.now += 50_000;
        return base.runTurn(msg, turn);
      },
    });
    for (const i of [0, 1, 2, 3]) await base.pending.enqueue(message(user, `m${i}`, i));

    // Act: 200 s: after two turns 100 s are left, after three only 50 s
    const result = await drain(user, T0 + 200_000);

    // Assess
    expect(result).toBe('continued');
    expect(base.turns.map((turn) => turn.messageId)).toEqual(['m0', 'm1', 'm2']);
    expect(continued).toEqual([user]);
  });

  it('answers a message that failed every attempt with an error instead of running it again', async () => {
    // Prepare
    const { pending, drain, turns, erroredWith, left } = setup();
    const user = 'user-drain-doomed';
    const { seq } = await pending.enqueue(message(user, 'doomed', 0));
    await pending.markAttempt(user, seq);
    await pending.markAttempt(user, seq);
    await pending.enqueue(message(user, 'fine', 1));

    // Act
    const result = await drain(user, T0 + 900_000);

    // Assess
    expect(result).toBe('empty');
    expect(erroredWith).toEqual(['doomed']);
    expect(turns.map((turn) => turn.messageId)).toEqual(['fine']);
    expect(await left(user)).toEqual([]);
  });

  it('leaves a message whose turn crashed queued, so the retried invocation counts up to the error', async () => {
    // Prepare
    const user = 'user-drain-crash';
    const { pending, drain, erroredWith, left } = setup({
      runTurn: async () => {
        throw new Error('reply could not be published');
      },
    });
    await pending.enqueue(message(user, 'crashy', 0));

    // Act: Lambda retries the invocation after each failure
    const first = await drain(user, T0 + 900_000).catch((error: Error) => error.message);
    const afterFirst = await left(user);
    const second = await drain(user, T0 + 900_000).catch((error: Error) => error.message);
    const third = await drain(user, T0 + 900_000);

    // Assess
    expect(first).toBe('reply could not be published');
    expect(afterFirst).toEqual([['crashy', 1]]);
    expect(second).toBe('reply could not be published');
    expect(third).toBe('empty');
    expect(erroredWith).toEqual(['crashy']);
    expect(await left(user)).toEqual([]);
  });
});
