import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReceived } from '../schemas/types.ts';
import { startLocalAws } from '../test/fixtures/local-aws.ts';
import { messageAt } from '../test/fixtures/messages.ts';
import { type ContainerWorkerDeps, createContainerWorker } from './container-worker.ts';
import { createPendingMessages } from './runtime/pending-messages.ts';
import { createTaskStateStore } from './runtime/task-state.ts';
import type { TurnOptions } from './turn-runner.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds, failing the test after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const silentLogger = { info() {}, warn() {}, error() {} };

describe('the Fargate container worker (dynalite, fake turns)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const message = messageAt;

  /** A turn runner that records its calls; per message it can take a while or throw. */
  function fakeTurns(behaviour: { delayMs?: Record<string, number>; throws?: boolean } = {}) {
    const calls: { messageId: string; deadlineAt: number; startedAt: number; endedAt?: number }[] = [];
    let active = 0;
    let maxActive = 0;
    const runTurn = async (msg: MessageReceived, turn: TurnOptions) => {
      const call = { messageId: msg.messageId, deadlineAt: turn.deadlineAt, startedAt: Date.now() };
      calls.push(call);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await sleep(behaviour.delayMs?.[msg.messageId] ?? 10);
        if (behaviour.throws) throw new Error('reply could not be published');
      } finally {
        active--;
        Object.assign(call, { endedAt: Date.now() });
      }
    };
    return { runTurn, calls, maxActive: () => maxActive };
  }

  /** A user whose task `taskId` the selector has marked running, and a worker for it. */
  async function runningTask(userId: string, overrides: Partial<ContainerWorkerDeps> = {}) {
    const taskId = `task-${userId}`;
    const taskState = createTaskStateStore(aws.storage);
    const pending = createPendingMessages(aws.storage);
    const start = await taskState.beginStart(userId);
    await taskState.markRunning(userId, taskId, { version: start.state.version });
    const answeredWithError: string[] = [];
    const turns = fakeTurns();
    const worker = createContainerWorker({
      userId,
      taskId,
      taskState,
      pending,
      runTurn: turns.runTurn,
      answerWithError: async (msg) => {
        answeredWithError.push(msg.messageId);
      },
      logger: silentLogger,
      turnTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      pollIntervalMs: 20,
      shutdownGraceMs: 2_000,
      ...overrides,
    });
    return { taskId, taskState, pending, worker, turns, answeredWithError };
  }

  it('handles queued messages one at a time, in arrival order, including one arriving mid-turn', async () => {
    // Prepare
    const user = 'user-order';
    const turns = fakeTurns({ delayMs: { m0: 80, m1: 40, m2: 40, m3: 10 } });
    const { worker, pending } = await runningTask(user, { runTurn: turns.runTurn });
    await pending.enqueue(message(user, 'm2', 2));
    await pending.enqueue(message(user, 'm0', 0));
    await pending.enqueue(message(user, 'm1', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    await pending.enqueue(message(user, 'm3', 3));
    await waitFor(() => turns.calls.filter((call) => call.endedAt).length === 4);
    worker.stop();
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    expect(turns.calls.map((call) => call.messageId)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(turns.maxActive()).toBe(1);
    for (const call of turns.calls) {
      expect(call.deadlineAt - call.startedAt).toBeGreaterThan(59_000);
      expect(call.deadlineAt - call.startedAt).toBeLessThanOrEqual(60_000);
    }
    expect(await pending.list(user)).toEqual([]);
  });

  it('removes a message only after its turn and refreshes the idle clock with every message', async () => {
    // Prepare
    const user = 'user-activity';
    const seenDuringTurn: { queued: boolean }[] = [];
    const pendingStore = createPendingMessages(aws.storage);
    const turns = fakeTurns();
    const { worker, pending, taskState } = await runningTask(user, {
      runTurn: async (msg, turn) => {
        const queued = (await pendingStore.list(user)).some((p) => p.message.messageId === msg.messageId);
        seenDuringTurn.push({ queued });
        await turns.runTurn(msg, turn);
      },
    });
    const before = (await taskState.get(user)).lastActivityAt ?? 0;
    await sleep(20);
    await pending.enqueue(message(user, 'a1', 0));

    // Act
    const run = worker.run();
    await waitFor(async () => (await pending.list(user)).length === 0);
    await waitFor(async () => ((await taskState.get(user)).lastActivityAt ?? 0) > before);
    const afterFirst = (await taskState.get(user)).lastActivityAt ?? 0;
    await sleep(20);
    await pending.enqueue(message(user, 'a2', 1));
    await waitFor(async () => ((await taskState.get(user)).lastActivityAt ?? 0) > afterFirst + 15);
    await waitFor(async () => (await pending.list(user)).length === 0);
    worker.stop();
    await run;

    // Assess
    expect(seenDuringTurn).toEqual([{ queued: true }, { queued: true }]);
    expect(turns.calls.map((call) => call.messageId)).toEqual(['a1', 'a2']);
  });

  it('stops itself after the idle timeout and leaves the record idle', async () => {
    // Prepare
    const user = 'user-idle';
    const { worker, taskState, taskId } = await runningTask(user, { idleTimeoutMs: 300 });
    const startedAt = Date.now();

    // Act
    const exit = await worker.run();

    // Assess
    expect(exit).toBe('idle');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    const state = await taskState.get(user);
    expect(state.status).toBe('idle');
    expect(state.taskId).toBeUndefined();
    expect(await taskState.touch(user, taskId)).toBe(false);
  });

  it('stays alive when a message arrives during the idle wait, and idles out only after it', async () => {
    // Prepare
    const user = 'user-late-message';
    const turns = fakeTurns();
    const { worker, pending } = await runningTask(user, { idleTimeoutMs: 400, runTurn: turns.runTurn });
    const startedAt = Date.now();

    // Act
    const run = worker.run();
    await sleep(250);
    await pending.enqueue(message(user, 'late', 0));
    const enqueuedAt = Date.now();
    const exit = await run;

    // Assess
    expect(exit).toBe('idle');
    expect(turns.calls.map((call) => call.messageId)).toEqual(['late']);
    expect(Date.now() - enqueuedAt).toBeGreaterThanOrEqual(400);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(650);
  });

  it('keeps going when a message is queued between its idle check and its stop', async () => {
    // Prepare
    const user = 'user-stop-race';
    const taskStore = createTaskStateStore(aws.storage);
    const turns = fakeTurns();
    let raced = false;
    const { worker, pending, taskId } = await runningTask(user, {
      idleTimeoutMs: 200,
      runTurn: turns.runTurn,
      taskState: {
        touch: taskStore.touch,
        markStopped: taskStore.markStopped,
        // The selector queues a message and refreshes the clock just before the worker's stop lands.
        beginStop: async (...args) => {
          if (!raced) {
            raced = true;
            await pending.enqueue(message(user, 'racer', 0));
            await taskStore.touch(user, taskId);
          }
          return taskStore.beginStop(...args);
        },
      },
    });

    // Act
    const exit = await worker.run();

    // Assess
    expect(raced).toBe(true);
    expect(turns.calls.map((call) => call.messageId)).toEqual(['racer']);
    expect(exit).toBe('idle');
    expect((await taskStore.get(user)).status).toBe('idle');
  });

  it('on stop() lets a slow turn finish within the grace, removes its message and takes no other', async () => {
    // Prepare
    const user = 'user-sigterm-grace';
    const turns = fakeTurns({ delayMs: { slow: 300 } });
    const { worker, pending, taskState } = await runningTask(user, {
      runTurn: turns.runTurn,
      shutdownGraceMs: 2_000,
    });
    await pending.enqueue(message(user, 'slow', 0));
    await pending.enqueue(message(user, 'next', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    const stoppedAt = Date.now();
    worker.stop();
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    expect(turns.calls.map((call) => [call.messageId, Boolean(call.endedAt)])).toEqual([['slow', true]]);
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([['next', 0]]);
    expect((await taskState.get(user)).status).toBe('idle');
  });

  it('on stop() hands back a message whose turn outlasts the grace', async () => {
    // Prepare
    const user = 'user-sigterm-handback';
    const turns = fakeTurns({ delayMs: { long: 3_000 } });
    const { worker, pending, taskState } = await runningTask(user, {
      runTurn: turns.runTurn,
      shutdownGraceMs: 200,
    });
    await pending.enqueue(message(user, 'long', 0));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    const stoppedAt = Date.now();
    worker.stop();
    const exit = await run;
    const waited = Date.now() - stoppedAt;

    // Assess
    expect(exit).toBe('signal');
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(1_500);
    expect(turns.calls[0]?.endedAt).toBeUndefined();
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([['long', 1]]);
    expect((await taskState.get(user)).status).toBe('idle');
  });

  it('answers a message taken twice before with the error instead of running it again', async () => {
    // Prepare
    const user = 'user-crashed-twice';
    const turns = fakeTurns();
    const { worker, pending, answeredWithError } = await runningTask(user, { runTurn: turns.runTurn });
    const { seq } = await pending.enqueue(message(user, 'doomed', 0));
    await pending.markAttempt(user, seq);
    await pending.markAttempt(user, seq);
    await pending.enqueue(message(user, 'fine', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.filter((call) => call.endedAt).length === 1);
    await waitFor(async () => (await pending.list(user)).length === 0);
    worker.stop();
    await run;

    // Assess
    expect(answeredWithError).toEqual(['doomed']);
    expect(turns.calls.map((call) => call.messageId)).toEqual(['fine']);
  });

  it('leaves a message whose turn threw queued for a retry, then answers it with the error', async () => {
    // Prepare
    const user = 'user-turn-throws';
    const turns = fakeTurns({ throws: true });
    const { worker, pending, answeredWithError } = await runningTask(user, { runTurn: turns.runTurn });
    await pending.enqueue(message(user, 'flaky', 0));

    // Act
    const run = worker.run();
    await waitFor(() => answeredWithError.length === 1);
    await waitFor(async () => (await pending.list(user)).length === 0);
    worker.stop();
    await run;

    // Assess
    expect(turns.calls.map((call) => call.messageId)).toEqual(['flaky', 'flaky']);
    expect(answeredWithError).toEqual(['flaky']);
  });

  it('exits without taking more messages once the record says the task was stopped by someone else', async () => {
    // Prepare
    const user = 'user-stopped-elsewhere';
    const taskStore = createTaskStateStore(aws.storage);
    const turns = fakeTurns({ delayMs: { first: 150 } });
    const { worker, pending, taskId } = await runningTask(user, { runTurn: turns.runTurn });
    await pending.enqueue(message(user, 'first', 0));
    await pending.enqueue(message(user, 'second', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    // The watchdog stops the task while its turn runs.
    await taskStore.beginStop(user, taskId);
    const stopped = await taskStore.markStopped(user, taskId);
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    expect(turns.calls.map((call) => call.messageId)).toEqual(['first']);
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([['second', 0]]);
    // It did not write over the record the watchdog left.
    expect(await taskStore.get(user)).toEqual(stopped);
  });
});
