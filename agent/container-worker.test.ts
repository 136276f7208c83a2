import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReceived } from '../schemas/types.ts';
import { startLocalAws } from '../test/fixtures/local-aws.ts';
import { messageAt } from '../test/fixtures/messages.ts';
import { type ContainerWorkerDeps, createContainerWorker } from './container-worker.ts';
import { createPendingMessages } from './runtime/pending-messages.ts';
import { createPredecessorGate } from './runtime/predecessor-gate.ts';
import { createTaskStateStore } from './runtime/task-state.ts';
import { storeReply } from './turn-records.ts';
import type { TurnOptions, TurnOutcome } from './turn-runner.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds, failing the test after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const silentLogger = { info() {}, warn() {}, error() {} };

/** A turn that would never finish by itself (no timer keeps the test process alive). */
const never = new Promise<void>(() => {});

interface TurnCall {
  messageId: string;
  deadlineAt: number;
  startedAt: number;
  signal?: AbortSignal;
  endedAt?: number;
  abortedAt?: number;
  outcome?: TurnOutcome;
}

describe('the Fargate container worker (dynalite, fake turns)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const message = messageAt;

  /**
   * A turn runner that records its calls. Per message it can take a while, wait for a gate, or throw; it
   * stops at once and reports 'interrupted' when its signal aborts, unless told to ignore the signal.
   */
  function fakeTurns(
    behaviour: {
      delayMs?: Record<string, number>;
      gates?: Record<string, Promise<void>>;
      throws?: boolean;
      ignoreSignal?: boolean;
    } = {},
  ) {
    const calls: TurnCall[] = [];
    let active = 0;
    let maxActive = 0;
    const runTurn = async (msg: MessageReceived, turn: TurnOptions): Promise<TurnOutcome> => {
      const call: TurnCall = {
        messageId: msg.messageId,
        deadlineAt: turn.deadlineAt,
        startedAt: Date.now(),
        signal: turn.signal,
      };
      calls.push(call);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        const work = (
          behaviour.gates?.[msg.messageId] ?? sleep(behaviour.delayMs?.[msg.messageId] ?? 10)
        ).then(() => 'answered' as const);
        const interrupted = new Promise<'interrupted'>((resolve) => {
          turn.signal?.addEventListener('abort', () => {
            call.abortedAt = Date.now();
            if (!behaviour.ignoreSignal) resolve('interrupted');
          });
        });
        const outcome = await Promise.race([work, interrupted]);
        if (outcome === 'answered' && behaviour.throws) throw new Error('reply could not be published');
        call.outcome = outcome;
        return outcome;
      } finally {
        active--;
        call.endedAt = Date.now();
      }
    };
    return { runTurn, calls, maxActive: () => maxActive };
  }

  /**
   * A user whose task `taskId` the selector launched and recorded (the record is still starting), and a
   * worker for it: the worker marks the record running itself.
   */
  async function launchedTask(userId: string, overrides: Partial<ContainerWorkerDeps> = {}) {
    const taskId = `task-${userId}`;
    const taskState = createTaskStateStore(aws.storage);
    const pending = createPendingMessages(aws.storage);
    const start = await taskState.beginStart(userId);
    await taskState.recordLaunch(userId, taskId, { version: start.state.version });
    const answeredWithError: string[] = [];
    const pendingLeft: number[] = [];
    const turns = fakeTurns();
    const worker = createContainerWorker({
      userId,
      taskId,
      taskState,
      pending,
      runTurn: turns.runTurn,
      mustWaitForPredecessor: createPredecessorGate({ storage: aws.storage }),
      answerWithError: async (msg) => {
        answeredWithError.push(msg.messageId);
      },
      onPendingLeft: async () => {
        pendingLeft.push(Date.now());
      },
      logger: silentLogger,
      turnTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      pollIntervalMs: 20,
      shutdownGraceMs: 10_000,
      interruptWaitMs: 5_000,
      ...overrides,
    });
    return { taskId, taskState, pending, worker, turns, answeredWithError, pendingLeft };
  }

  it('marks its recorded start running, then handles messages one at a time, in arrival order', async () => {
    // Prepare
    const user = 'user-order';
    const turns = fakeTurns({ delayMs: { m0: 80, m1: 40, m2: 40, m3: 10 } });
    const { worker, pending, taskState, taskId, pendingLeft } = await launchedTask(user, {
      runTurn: turns.runTurn,
    });
    await pending.enqueue(message(user, 'm2', 2));
    await pending.enqueue(message(user, 'm0', 0));
    await pending.enqueue(message(user, 'm1', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    const whileWorking = await taskState.get(user);
    await pending.enqueue(message(user, 'm3', 3));
    await waitFor(() => turns.calls.filter((call) => call.endedAt).length === 4);
    await waitFor(async () => (await pending.list(user)).length === 0);
    worker.stop();
    const exit = await run;

    // Assess
    expect(whileWorking).toMatchObject({ status: 'running', taskId });
    expect(exit).toBe('signal');
    expect(turns.calls.map((call) => call.messageId)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(turns.maxActive()).toBe(1);
    for (const call of turns.calls) {
      expect(call.outcome).toBe('answered');
      expect(call.deadlineAt - call.startedAt).toBeGreaterThan(50_000);
      expect(call.deadlineAt - call.startedAt).toBeLessThanOrEqual(60_000);
    }
    expect(await pending.list(user)).toEqual([]);
    expect((await taskState.get(user)).status).toBe('idle');
    expect(pendingLeft).toEqual([]);
  });

  it('answers a message queued before its predecessor after it, once the predecessor is queued too', async () => {
    // Prepare: turns store their replies, as the real turn runner does, so the gate sees them answered
    const user = 'user-overtaken';
    const turns = fakeTurns();
    const runTurn = async (msg: MessageReceived, turn: TurnOptions): Promise<TurnOutcome> => {
      const outcome = await turns.runTurn(msg, turn);
      await storeReply(aws.storage, {
        userId: msg.userId,
        conversationId: msg.conversationId,
        replyTo: msg.replyTo,
        inReplyTo: msg.messageId,
        seq: 0,
        status: 'ok',
        text: 'ok',
      });
      return outcome;
    };
    const { worker, pending } = await launchedTask(user, { runTurn });
    const sent = (id: string, msAgo: number, after?: string): MessageReceived => ({
      ...message(user, `${user}.${id}`, 0),
      receivedAt: new Date(Date.now() - msAgo).toISOString(),
      ...(after ? { afterMessageId: `${user}.${after}` } : {}),
    });
    const m0 = sent('m0', 50);
    const m1 = sent('m1', 0, 'm0');

    // Act: m1 is queued first; m0, sent before it, 300 ms later
    await pending.enqueue(m1);
    const run = worker.run();
    await sleep(300);
    await pending.enqueue(m0);
    await waitFor(async () => (await pending.list(user)).length === 0 && turns.calls.length === 2);
    worker.stop();
    await run;

    // Assess
    expect(turns.calls.map((call) => call.messageId)).toEqual([m0.messageId, m1.messageId]);
  });

  it('takes no message when the record names another task', async () => {
    // Prepare: the selector recorded a different launch for this user
    const user = 'user-not-mine';
    const turns = fakeTurns();
    const { worker, pending, taskState } = await launchedTask(user, {
      runTurn: turns.runTurn,
      taskId: 'task-impostor',
    });
    await pending.enqueue(message(user, 'waiting', 0));
    const before = await taskState.get(user);

    // Act
    const exit = await worker.run();

    // Assess
    expect(exit).toBe('not-owner');
    expect(turns.calls).toEqual([]);
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([['waiting', 0]]);
    expect(await taskState.get(user)).toEqual(before);
  });

  it('takes no message when its start was given up on before it was ready', async () => {
    // Prepare: the watchdog reset the start while the container was still booting
    const user = 'user-given-up';
    const turns = fakeTurns();
    const { worker, pending, taskState, pendingLeft } = await launchedTask(user, { runTurn: turns.runTurn });
    await pending.enqueue(message(user, 'waiting', 0));
    await taskState.resetStuckStart(user, 0);
    const reset = await taskState.get(user);

    // Act
    const exit = await worker.run();

    // Assess
    expect(reset.status).toBe('idle');
    expect(exit).toBe('not-owner');
    expect(turns.calls).toEqual([]);
    expect((await pending.list(user)).map((p) => p.attempts)).toEqual([0]);
    expect(await taskState.get(user)).toEqual(reset);
    // Whoever reset the record owns the queue: the unowned task does not speak for it.
    expect(pendingLeft).toEqual([]);
  });

  it('removes a message only after its turn and refreshes the idle clock with every message', async () => {
    // Prepare
    const user = 'user-activity';
    const seenDuringTurn: { queued: boolean }[] = [];
    const pendingStore = createPendingMessages(aws.storage);
    const turns = fakeTurns();
    const { worker, pending, taskState } = await launchedTask(user, {
      runTurn: async (msg, turn) => {
        const queued = (await pendingStore.list(user)).some((p) => p.message.messageId === msg.messageId);
        seenDuringTurn.push({ queued });
        return turns.runTurn(msg, turn);
      },
    });

    // Act
    const run = worker.run();
    await waitFor(async () => (await taskState.get(user)).status === 'running');
    const before = (await taskState.get(user)).lastActivityAt ?? 0;
    await sleep(20);
    await pending.enqueue(message(user, 'a1', 0));
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
    expect(before).toBeGreaterThan(0);
    expect(seenDuringTurn).toEqual([{ queued: true }, { queued: true }]);
    expect(turns.calls.map((call) => call.messageId)).toEqual(['a1', 'a2']);
  });

  it('keeps the idle clock fresh with a heartbeat while a long turn runs, and only then', async () => {
    // Prepare
    const user = 'user-heartbeat';
    let finishTurn: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finishTurn = resolve;
    });
    const turns = fakeTurns({ gates: { long: gate } });
    const { worker, pending, taskState } = await launchedTask(user, {
      runTurn: turns.runTurn,
      heartbeatMs: 30,
    });
    await pending.enqueue(message(user, 'long', 0));
    const lastActivity = async () => (await taskState.get(user)).lastActivityAt ?? 0;

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    const atTurnStart = await lastActivity();
    await waitFor(async () => (await lastActivity()) > atTurnStart + 150);
    const turnStillRunning = turns.calls[0]?.endedAt === undefined;
    finishTurn();
    await waitFor(async () => (await pending.list(user)).length === 0);
    await sleep(200);
    const quietA = await lastActivity();
    await sleep(300);
    const quietB = await lastActivity();
    worker.stop();
    await run;

    // Assess
    expect(turnStillRunning).toBe(true);
    expect(quietB).toBe(quietA);
  });

  it('stops itself after the idle timeout, leaves the record idle and tells nobody when nothing is left', async () => {
    // Prepare
    const user = 'user-idle';
    const { worker, taskState, taskId, pendingLeft } = await launchedTask(user, { idleTimeoutMs: 300 });
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
    expect(pendingLeft).toEqual([]);
  });

  it('stays alive when a message arrives during the idle wait, and idles out only after it', async () => {
    // Prepare
    const user = 'user-late-message';
    const turns = fakeTurns();
    const { worker, pending } = await launchedTask(user, { idleTimeoutMs: 400, runTurn: turns.runTurn });

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
  });

  it('keeps going when a message is queued between its idle check and its stop', async () => {
    // Prepare
    const user = 'user-stop-race';
    const taskStore = createTaskStateStore(aws.storage);
    const turns = fakeTurns();
    let raced = false;
    const { worker, pending, taskId } = await launchedTask(user, {
      idleTimeoutMs: 200,
      runTurn: turns.runTurn,
      taskState: {
        markRunning: taskStore.markRunning,
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

  it('asks for a new runtime when a message was queued after its idle stop began', async () => {
    // Prepare: the message lands after the record went to stopping, before it goes idle
    const user = 'user-stop-late-message';
    const taskStore = createTaskStateStore(aws.storage);
    const turns = fakeTurns();
    const { worker, pending, pendingLeft } = await launchedTask(user, {
      idleTimeoutMs: 200,
      runTurn: turns.runTurn,
      taskState: {
        markRunning: taskStore.markRunning,
        touch: taskStore.touch,
        beginStop: taskStore.beginStop,
        markStopped: async (...args) => {
          await pending.enqueue(message(user, 'too-late', 0));
          return taskStore.markStopped(...args);
        },
      },
    });

    // Act
    const exit = await worker.run();

    // Assess: nobody took it, so somebody was told
    expect(exit).toBe('idle');
    expect(turns.calls).toEqual([]);
    expect((await pending.list(user)).map((p) => [p.message.messageId, p.attempts])).toEqual([
      ['too-late', 0],
    ]);
    expect(pendingLeft).toHaveLength(1);
    expect((await taskStore.get(user)).status).toBe('idle');
  });

  it('on stop() with nothing to do, exits at once and leaves the record idle', async () => {
    // Prepare
    const user = 'user-sigterm-idle';
    const { worker, taskState, pendingLeft } = await launchedTask(user);

    // Act
    const run = worker.run();
    await waitFor(async () => (await taskState.get(user)).status === 'running');
    worker.stop();
    worker.stop();
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    expect((await taskState.get(user)).status).toBe('idle');
    expect(pendingLeft).toEqual([]);
  });

  it('on stop() lets a turn finish within the grace, removes its message, takes no other and hands those on', async () => {
    // Prepare
    const user = 'user-sigterm-grace';
    const turns = fakeTurns({ delayMs: { slow: 300 } });
    const { worker, pending, taskState, pendingLeft } = await launchedTask(user, {
      runTurn: turns.runTurn,
      shutdownGraceMs: 10_000,
    });
    await pending.enqueue(message(user, 'slow', 0));
    await pending.enqueue(message(user, 'next', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    worker.stop();
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    expect(turns.calls.map((call) => [call.messageId, call.outcome])).toEqual([['slow', 'answered']]);
    expect(turns.calls[0]?.signal?.aborted).toBe(false);
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([['next', 0]]);
    expect((await taskState.get(user)).status).toBe('idle');
    expect(pendingLeft).toHaveLength(1);
  });

  it('on stop() interrupts a turn that outlasts the grace and hands its message back without using an attempt', async () => {
    // Prepare
    const user = 'user-sigterm-handback';
    const turns = fakeTurns({ gates: { long: never } });
    const { worker, pending, taskState, pendingLeft } = await launchedTask(user, {
      runTurn: turns.runTurn,
      shutdownGraceMs: 200,
      interruptWaitMs: 5_000,
    });
    await pending.enqueue(message(user, 'long', 0));
    await pending.enqueue(message(user, 'behind', 1));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    const stoppedAt = Date.now();
    worker.stop();
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    const [call] = turns.calls;
    expect(turns.calls).toHaveLength(1);
    expect(call?.signal?.aborted).toBe(true);
    expect(call?.outcome).toBe('interrupted');
    expect((call?.abortedAt ?? 0) - stoppedAt).toBeGreaterThanOrEqual(190);
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([
      ['long', 0],
      ['behind', 0],
    ]);
    expect((await taskState.get(user)).status).toBe('idle');
    expect(pendingLeft).toHaveLength(1);
  });

  it('on stop() hands the message back even when the interrupted turn does not settle in time', async () => {
    // Prepare
    const user = 'user-sigterm-stuck';
    const turns = fakeTurns({ gates: { stuck: never }, ignoreSignal: true });
    const { worker, pending, taskState, pendingLeft } = await launchedTask(user, {
      runTurn: turns.runTurn,
      shutdownGraceMs: 100,
      interruptWaitMs: 200,
    });
    await pending.enqueue(message(user, 'stuck', 0));

    // Act
    const run = worker.run();
    await waitFor(() => turns.calls.length === 1);
    worker.stop();
    const exit = await run;

    // Assess
    expect(exit).toBe('signal');
    expect(turns.calls[0]?.signal?.aborted).toBe(true);
    expect(turns.calls[0]?.endedAt).toBeUndefined();
    expect((await pending.list(user)).map((p) => [p.message.messageId, p.attempts])).toEqual([['stuck', 0]]);
    expect((await taskState.get(user)).status).toBe('idle');
    expect(pendingLeft).toHaveLength(1);
  });

  it('answers a message taken twice before with the error instead of running it again', async () => {
    // Prepare
    const user = 'user-crashed-twice';
    const turns = fakeTurns();
    const { worker, pending, answeredWithError } = await launchedTask(user, { runTurn: turns.runTurn });
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
    const { worker, pending, answeredWithError } = await launchedTask(user, { runTurn: turns.runTurn });
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
    const { worker, pending, taskId, pendingLeft } = await launchedTask(user, { runTurn: turns.runTurn });
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
    expect(exit).toBe('not-owner');
    expect(turns.calls.map((call) => call.messageId)).toEqual(['first']);
    const left = await pending.list(user);
    expect(left.map((p) => [p.message.messageId, p.attempts])).toEqual([['second', 0]]);
    // It did not write over the record the watchdog left, and left the queue to the watchdog.
    expect(await taskStore.get(user)).toEqual(stopped);
    expect(pendingLeft).toEqual([]);
  });
});
