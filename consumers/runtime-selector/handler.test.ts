import { Logger } from '@aws-lambda-powertools/logger';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LaunchRequest,
  TaskLaunchError,
  type TaskLauncher,
} from '../../agent/launchers/task-launcher.ts';
import { createPendingDrain } from '../../agent/runtime/pending-drain.ts';
import { createPendingMessages } from '../../agent/runtime/pending-messages.ts';
import { createPredecessorGate } from '../../agent/runtime/predecessor-gate.ts';
import { createTaskStateStore } from '../../agent/runtime/task-state.ts';
import { createSessionLock } from '../../agent/session-lock.ts';
import { storeReply } from '../../agent/turn-records.ts';
import type { Publisher } from '../../bus/index.ts';
import type { AgentInvocation } from '../../schemas/agent-invocation.ts';
import type { AgentStatusChanged, BusEnvelope, BusEvent, MessageReceived } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createRuntimeSelector } from './handler.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds, failing the test after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/**
 * A launcher that records starts (ECS has no local stand-in). `failNext` makes starts throw like ECS
 * without Spot capacity; `hooks.duringStart` runs while RunTask is "in flight".
 */
function recordingLauncher() {
  const starts: LaunchRequest[] = [];
  const stops: string[] = [];
  let fail = false;
  const hooks: { duringStart?: () => Promise<unknown> } = {};
  const launcher: TaskLauncher = {
    async start(request) {
      starts.push(request);
      const taskId = `task-${starts.length}`;
      await sleep(20);
      await hooks.duringStart?.();
      if (fail) throw new TaskLaunchError('no Spot capacity', { retryable: true });
      return { taskId };
    },
    async stop(taskId) {
      stops.push(taskId);
    },
    async describe(ids) {
      return ids.map((taskId) => ({ taskId, state: 'running' as const }));
    },
    async list() {
      return [];
    },
  };
  return { launcher, starts, stops, hooks, failNext: () => (fail = true) };
}

describe('the runtime selector (dynalite, recording launcher)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let ids = 0;
  const message = (userId: string, text = 'hello', at = Date.now()): MessageReceived => ({
    userId,
    conversationId: 'conv',
    messageId: `m-${++ids}`,
    text,
    receivedAt: new Date(at + ids).toISOString(),
    replyTo: { channel: 'web', address: { connectionId: 'c=' } },
  });
  const envelope = (detail: unknown, detailType = 'MessageReceived.v1') =>
    ({ id: 'e', 'detail-type': detailType, detail }) as unknown as BusEnvelope;
  const waiting = (userId: string, reason: string) =>
    envelope({ userId, reason }, 'PendingMessagesWaiting.v1');

  function setup(defaultRuntime: 'lambda' | 'fargate' | 'auto' = 'fargate', stoppingWaitMs = 15_000) {
    const events: BusEvent[] = [];
    const invocations: AgentInvocation[] = [];
    const publisher: Publisher = {
      publish: async (e) => void events.push(...(Array.isArray(e) ? e : [e as BusEvent])),
    };
    const { launcher, starts, stops, hooks, failNext } = recordingLauncher();
    const taskState = createTaskStateStore(aws.storage);
    const pending = createPendingMessages(aws.storage);
    const selector = createRuntimeSelector({
      storage: aws.storage,
      publisher,
      taskState,
      pending,
      launcher,
      invokeAgent: async (invocation) => void invocations.push(invocation),
      launchEnvironment: (userId) => ({ USER_ID: userId }),
      defaultRuntime,
      logger: new Logger({ logLevel: 'SILENT' }),
      stoppingWaitMs,
    });
    const select = (detail: unknown) => selector.handleEvent(envelope(detail));
    const statuses = () =>
      events
        .filter((e) => e.detailType === 'AgentStatusChanged.v1')
        .map((e) => e.detail as AgentStatusChanged);
    const queued = async (userId: string) => (await pending.list(userId)).map((p) => p.message.text);
    return {
      selector,
      select,
      events,
      invocations,
      starts,
      stops,
      hooks,
      failNext,
      taskState,
      pending,
      statuses,
      queued,
    };
  }

  it('hands a Lambda turn to the agent at once, says it is thinking and why, and queues nothing', async () => {
    // Prepare
    const { select, invocations, starts, pending, statuses } = setup('lambda');
    const input = message('lambda-user');

    // Act
    await select(input);

    // Assess
    expect(invocations).toEqual([{ kind: 'turn', message: input }]);
    expect(starts).toEqual([]);
    expect(await pending.list('lambda-user')).toEqual([]);
    expect(statuses()).toEqual([
      expect.objectContaining({
        userId: 'lambda-user',
        inReplyTo: input.messageId,
        replyTo: input.replyTo,
        status: 'thinking',
        runtime: { kind: 'lambda', reason: 'your runtime setting is Lambda' },
      }),
    ]);
    expect(statuses()[0]?.message).toContain('Thinking');
  });

  it("follows the user's own runtime setting over the default", async () => {
    // Prepare
    const { select, invocations, starts } = setup('lambda');
    await aws.storage.UserSettingsEntity.build(PutItemCommand)
      .item({ userId: 'wants-fargate', runtime: 'fargate', updatedAt: new Date().toISOString() })
      .send();

    // Act
    await select(message('wants-fargate'));

    // Assess
    expect(invocations).toEqual([]);
    expect(starts).toHaveLength(1);
  });

  it('starts exactly one task for five simultaneous first messages, queues them in order and says it is waking', async () => {
    // Prepare
    const { select, starts, taskState, invocations, statuses, queued } = setup('fargate');
    const inputs = ['one', 'two', 'three', 'four', 'five'].map((text) => message('busy-user', text));

    // Act
    await Promise.all(inputs.map((input) => select(input)));

    // Assess
    expect(starts).toHaveLength(1);
    expect(starts[0]?.environment).toEqual({ USER_ID: 'busy-user' });
    // Launched and recorded, but not running: the container marks itself running when it is ready.
    expect(await taskState.get('busy-user')).toMatchObject({
      status: 'starting',
      taskId: 'task-1',
      version: 1,
    });
    expect(await queued('busy-user')).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(invocations).toEqual([]);
    const waking = statuses();
    expect(waking.map((s) => s.inReplyTo).sort()).toEqual(inputs.map((m) => m.messageId).sort());
    for (const status of waking) {
      expect(status).toMatchObject({
        status: 'waking',
        runtime: { kind: 'fargate', reason: 'your runtime setting is Fargate' },
      });
      expect(status.message).toContain('Waking up the agent');
    }
  });

  it('queues for a running task without starting another, refreshes its clock and says it is thinking', async () => {
    // Prepare: the first message started a task, which came up
    const { select, starts, taskState, statuses, queued } = setup('fargate');
    await select(message('steady-user', 'first'));
    const running = await taskState.markRunning('steady-user', 'task-1');
    await sleep(5);

    // Act
    await select(message('steady-user', 'second'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(statuses().map((s) => s.status)).toEqual(['waking', 'thinking']);
    expect(statuses()[1]?.runtime?.kind).toBe('fargate');
    const after = await taskState.get('steady-user');
    expect(after).toMatchObject({ status: 'running', taskId: 'task-1', version: running.version });
    expect(after.lastActivityAt).toBeGreaterThan(running.lastActivityAt ?? 0);
    expect(await queued('steady-user')).toEqual(['first', 'second']);
  });

  it('answers the whole queue with one in-order Lambda drain when the task cannot start', async () => {
    // Prepare: the launch fails only once every other delivery has queued its message behind it
    const { select, failNext, hooks, taskState, pending, invocations, starts, queued } = setup('fargate');
    failNext();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    hooks.duringStart = () => gate;
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const inputs = texts.map((text) => message('unlucky-user', text));
    let done = 0;

    // Act
    const deliveries = inputs.map((input) => select(input).then(() => void done++));
    await waitFor(() => done === inputs.length - 1 && starts.length === 1);
    release();
    await Promise.all(deliveries);

    // Assess
    expect(starts).toHaveLength(1);
    expect((await taskState.get('unlucky-user')).status).toBe('idle');
    expect(invocations).toEqual([{ kind: 'drain-pending', userId: 'unlucky-user' }]);
    expect(await queued('unlucky-user')).toEqual(texts);

    // Act: the drain the selector asked for
    const answered: string[] = [];
    const { drainPending: drain } = createPendingDrain({
      taskState,
      pending,
      newLock: () => createSessionLock({ storage: aws.storage, owner: 'drain-test' }),
      runTurn: async (m) => {
        answered.push(m.text);
        return 'answered';
      },
      mustWaitForPredecessor: createPredecessorGate({ storage: aws.storage }),
      answerWithError: async () => {},
      continueLater: async () => {},
      logger: { info() {}, warn() {}, error() {} },
    });
    const result = await drain('unlucky-user', Date.now() + 600_000);

    // Assess
    expect(result).toBe('empty');
    expect(answered).toEqual(texts);
    expect(await pending.list('unlucky-user')).toEqual([]);
  });

  it('stops a task that launched after its start was given up, and leaves the queue to whoever gave up', async () => {
    // Prepare: the watchdog gives up on the start while RunTask is still in flight
    const { selector, select, starts, stops, hooks, taskState, invocations, queued } = setup('fargate');
    hooks.duringStart = async () => {
      hooks.duringStart = undefined;
      await taskState.resetStuckStart('orphan-user', 0);
    };

    // Act
    await select(message('orphan-user', 'hi'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(stops).toEqual(['task-1']);
    expect(invocations).toEqual([]);
    expect((await taskState.get('orphan-user')).status).toBe('idle');
    expect(await queued('orphan-user')).toEqual(['hi']);

    // Act: the watchdog hands the queue back, as it does after a reset
    await selector.resumePending('orphan-user');

    // Assess
    expect(starts).toHaveLength(2);
    expect(await taskState.get('orphan-user')).toMatchObject({ status: 'starting', taskId: 'task-2' });
  });

  it('keeps a task whose container claimed the start before the launch was recorded', async () => {
    // Prepare: the container is ready before RunTask returns to the selector
    const { select, starts, stops, hooks, taskState, invocations } = setup('fargate');
    hooks.duringStart = () => taskState.markRunning('quick-user', 'task-1');

    // Act
    await select(message('quick-user'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(stops).toEqual([]);
    expect(invocations).toEqual([]);
    expect(await taskState.get('quick-user')).toMatchObject({ status: 'running', taskId: 'task-1' });
  });

  it('sends /heavy work to Fargate in auto mode and quick turns to Lambda', async () => {
    // Prepare
    const { select, invocations, starts } = setup('auto');

    // Act
    await select(message('auto-user', 'what time is it?'));
    await select(message('auto-user', '/heavy crawl the docs'));

    // Assess
    expect(invocations.map((i) => (i.kind === 'turn' ? i.message.text : i.kind))).toEqual([
      'what time is it?',
    ]);
    expect(starts).toHaveLength(1);
  });

  it('starts a new task for a message that comes after the previous task stopped', async () => {
    // Prepare: a task that ran and stopped for inactivity
    const { select, starts, taskState } = setup('fargate');
    await select(message('racing-user'));
    await taskState.markRunning('racing-user', 'task-1');
    await taskState.beginStop('racing-user', 'task-1');
    await taskState.markStopped('racing-user', 'task-1');

    // Act
    await select(message('racing-user'));

    // Assess
    expect(starts).toHaveLength(2);
    expect(await taskState.get('racing-user')).toMatchObject({ status: 'starting', taskId: 'task-2' });
  });

  it('waits for a stopping task, then starts the next one', async () => {
    // Prepare
    const { select, starts, taskState } = setup('fargate');
    await select(message('stopping-user'));
    await taskState.markRunning('stopping-user', 'task-1');
    await taskState.beginStop('stopping-user', 'task-1');

    // Act
    const delivery = select(message('stopping-user'));
    await sleep(300);
    const startsWhileStopping = starts.length;
    await taskState.markStopped('stopping-user', 'task-1');
    await delivery;

    // Assess
    expect(startsWhileStopping).toBe(1);
    expect(starts).toHaveLength(2);
    expect(await taskState.get('stopping-user')).toMatchObject({ status: 'starting', taskId: 'task-2' });
  });

  it('answers the queue on Lambda when a task takes too long to stop', async () => {
    // Prepare
    const { select, starts, taskState, invocations, queued } = setup('fargate', 300);
    await select(message('stuck-stopping-user', 'first'));
    await taskState.markRunning('stuck-stopping-user', 'task-1');
    await taskState.beginStop('stuck-stopping-user', 'task-1');

    // Act
    await select(message('stuck-stopping-user', 'second'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(invocations).toEqual([{ kind: 'drain-pending', userId: 'stuck-stopping-user' }]);
    expect(await queued('stuck-stopping-user')).toEqual(['first', 'second']);
  });

  it('keeps ECS client tokens short and free of the user id', async () => {
    // Prepare
    const { select, starts } = setup('fargate');
    const longUser = `u${'x'.repeat(120)}`;

    // Act
    await select(message(longUser));

    // Assess
    expect(starts[0]?.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
  });

  it('hands a message that was already answered to the agent to republish, instead of queueing it again', async () => {
    // Prepare: the reply to this message is on record (EventBridge delivered the message twice)
    const { select, invocations, starts, pending } = setup('fargate');
    const input = message('answered-user', 'again?');
    await storeReply(aws.storage, {
      userId: input.userId,
      conversationId: input.conversationId,
      replyTo: input.replyTo,
      inReplyTo: input.messageId,
      seq: 1,
      status: 'ok',
      text: 'done',
    });

    // Act
    await select(input);

    // Assess
    expect(invocations).toEqual([{ kind: 'turn', message: input }]);
    expect(starts).toEqual([]);
    expect(await pending.list('answered-user')).toEqual([]);
  });

  it('starts a task again for messages a task left queued when it exited', async () => {
    // Prepare: the previous task went away with a message still queued
    const { selector, pending, starts, taskState, invocations, statuses } = setup('fargate');
    await pending.enqueue(message('left-user', 'left behind'));

    // Act
    await selector.handleEvent(waiting('left-user', 'task-exited'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(starts[0]?.userId).toBe('left-user');
    expect(await taskState.get('left-user')).toMatchObject({ status: 'starting', taskId: 'task-1' });
    expect(invocations).toEqual([]);
    expect(statuses()).toEqual([]);
  });

  it('does nothing for a task that exited when the queue is empty', async () => {
    // Prepare
    const { selector, starts, taskState, invocations } = setup('fargate');

    // Act
    await selector.handleEvent(waiting('empty-user', 'task-exited'));

    // Assess
    expect(starts).toEqual([]);
    expect(invocations).toEqual([]);
    expect(await taskState.get('empty-user')).toMatchObject({ status: 'idle', version: 0 });
  });

  it('continues a Lambda drain that ran out of time with another drain', async () => {
    // Prepare
    const { selector, starts, invocations } = setup('fargate');

    // Act
    await selector.handleEvent(waiting('draining-user', 'lambda-drain-continues'));

    // Assess
    expect(invocations).toEqual([{ kind: 'drain-pending', userId: 'draining-user' }]);
    expect(starts).toEqual([]);
  });

  it('drops malformed events with a log line instead of retrying them', async () => {
    // Prepare
    const { selector, invocations, starts, events } = setup('fargate');

    // Act
    const results = await Promise.all([
      selector.handleEvent(envelope({ userId: 'x' })),
      selector.handleEvent(envelope('not an object')),
      selector.handleEvent(waiting('x', 'bored')),
      selector.handleEvent(envelope({ reason: 'task-exited' }, 'PendingMessagesWaiting.v1')),
    ]);

    // Assess
    expect(results).toEqual([undefined, undefined, undefined, undefined]);
    expect(invocations).toEqual([]);
    expect(starts).toEqual([]);
    expect(events).toEqual([]);
  });
});
