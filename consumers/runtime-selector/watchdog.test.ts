import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskInfo, TaskLauncher, TaskRunState } from '../../agent/launchers/task-launcher.ts';
import { createPendingMessages } from '../../agent/runtime/pending-messages.ts';
import { createTaskStateStore, type TaskStateStore } from '../../agent/runtime/task-state.ts';
import { createSessionLock, isSessionLockLive } from '../../agent/session-lock.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { messageAt } from '../../test/fixtures/messages.ts';
import { createWatchdog, type WatchdogDeps } from './watchdog.ts';

const IDLE_TIMEOUT_MS = 15 * 60_000;
const IDLE_GRACE_MS = 5 * 60_000;
const START_TIMEOUT_MS = 5 * 60_000;
const STOP_TIMEOUT_MS = 5 * 60_000;
const ZOMBIE_GRACE_MS = 5 * 60_000;

/** The cluster as a fake launcher sees it (ECS has no local stand-in): tasks by id, and what was asked. */
function fakeCluster() {
  const tasks = new Map<string, { state: TaskRunState; startedAt: number; stoppedReason?: string }>();
  const stops: { taskId: string; reason: string }[] = [];
  const failStopFor = new Set<string>();
  const launcher: TaskLauncher = {
    async start() {
      throw new Error('the watchdog never starts tasks');
    },
    async stop(taskId, reason) {
      if (failStopFor.has(taskId)) throw new Error('ECS is unavailable');
      stops.push({ taskId, reason });
      const task = tasks.get(taskId);
      if (task && task.state !== 'stopped') Object.assign(task, { state: 'stopped', stoppedReason: reason });
    },
    async describe(taskIds) {
      return taskIds.map((taskId): TaskInfo => {
        const task = tasks.get(taskId);
        if (!task) return { taskId, state: 'stopped', stoppedReason: 'MISSING' };
        return task.stoppedReason
          ? { taskId, state: task.state, stoppedReason: task.stoppedReason }
          : { taskId, state: task.state };
      });
    },
    async list() {
      return [...tasks]
        .filter(([, task]) => task.state !== 'stopped')
        .map(([taskId, task]) => ({ taskId, startedAt: task.startedAt }));
    },
  };
  const add = (taskId: string, startedAt: number, state: TaskRunState = 'running') =>
    tasks.set(taskId, { state, startedAt });
  return { launcher, tasks, stops, failStopFor, add };
}

describe('the runtime watchdog (dynalite, fake cluster, injected clock)', () => {
  // A table per test: the watchdog sweeps every user's record, so earlier tests' records would show up.
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeEach(async () => {
    aws = await startLocalAws();
  });
  afterEach(() => aws.close());

  const T0 = Date.UTC(2026, 10, 24, 10);

  function setup(overrides: Partial<WatchdogDeps> = {}) {
    const clock = { now: T0 };
    const now = () => clock.now;
    const taskState = createTaskStateStore(aws.storage, { now });
    const pending = createPendingMessages(aws.storage, { now });
    const cluster = fakeCluster();
    const resumed: string[] = [];
    const drained: string[] = [];
    const errors: string[] = [];
    const deps = (more: Partial<WatchdogDeps> = {}): WatchdogDeps => ({
      taskState,
      launcher: cluster.launcher,
      resumePending: async (userId) => void resumed.push(userId),
      drainOnLambda: async (userId) => void drained.push(userId),
      queues: pending,
      lockHeld: (userId) => isSessionLockLive(aws.storage, userId),
      logger: { info() {}, warn() {}, error: (message) => void errors.push(message) },
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      idleGraceMs: IDLE_GRACE_MS,
      startTimeoutMs: START_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      zombieGraceMs: ZOMBIE_GRACE_MS,
      now,
      ...overrides,
      ...more,
    });
    const sweep = (more: Partial<WatchdogDeps> = {}) => createWatchdog(deps(more))();

    /** A user whose task was launched at the current time and came up. */
    async function runningTask(userId: string, taskId = `task-${userId}`) {
      cluster.add(taskId, clock.now);
      const start = await taskState.beginStart(userId);
      await taskState.recordLaunch(userId, taskId, { version: start.state.version });
      await taskState.markRunning(userId, taskId);
      return taskId;
    }
    return { clock, taskState, pending, cluster, resumed, drained, errors, sweep, runningTask };
  }

  const nothingDone = {
    stoppedIdle: [],
    stoppedZombies: [],
    failedStarts: [],
    recoveredDeadTasks: [],
    resumedQueues: [],
  };

  it('never stops a task that keeps working, however long it runs', async () => {
    // Prepare
    const { clock, taskState, cluster, resumed, sweep, runningTask } = setup();
    const taskId = await runningTask('busy');

    // Act: a turn of an hour, with a heartbeat every minute and a sweep after each
    const reports = [];
    for (let minute = 1; minute <= 60; minute++) {
      clock.now += 60_000;
      await taskState.touch('busy', taskId);
      reports.push(await sweep());
    }

    // Assess
    for (const report of reports) expect(report).toEqual(nothingDone);
    expect(cluster.stops).toEqual([]);
    expect(resumed).toEqual([]);
    expect(await taskState.get('busy')).toMatchObject({ status: 'running', taskId });
  });

  it('leaves a quiet task alone until its idle timeout plus the grace has passed, then stops it', async () => {
    // Prepare
    const { clock, taskState, cluster, resumed, sweep, runningTask } = setup();
    const taskId = await runningTask('quiet');

    // Act
    clock.now = T0 + IDLE_TIMEOUT_MS + IDLE_GRACE_MS - 1;
    const early = await sweep();
    const stillRunning = await taskState.get('quiet');
    clock.now = T0 + IDLE_TIMEOUT_MS + IDLE_GRACE_MS + 1;
    const due = await sweep();

    // Assess
    expect(early).toEqual(nothingDone);
    expect(stillRunning).toMatchObject({ status: 'running', taskId });
    expect(due).toEqual({ ...nothingDone, stoppedIdle: [taskId] });
    expect(cluster.stops.map((stop) => stop.taskId)).toEqual([taskId]);
    const state = await taskState.get('quiet');
    expect(state.status).toBe('idle');
    expect(state.taskId).toBeUndefined();
    expect(resumed).toEqual(['quiet']);
  });

  it('keeps an idle-looking task that was touched between the sweep reading it and stopping it', async () => {
    // Prepare: the task looks idle, but a message (or heartbeat) lands just before the stop is written
    const { clock, taskState, cluster, resumed, sweep, runningTask } = setup();
    const taskId = await runningTask('late-touch');
    clock.now = T0 + IDLE_TIMEOUT_MS + IDLE_GRACE_MS + 60_000;
    const racingStore: TaskStateStore = {
      ...taskState,
      beginStop: async (...args) => {
        await taskState.touch('late-touch', taskId);
        return taskState.beginStop(...args);
      },
    };

    // Act
    const report = await sweep({ taskState: racingStore });

    // Assess
    expect(report).toEqual(nothingDone);
    expect(cluster.stops).toEqual([]);
    expect(resumed).toEqual([]);
    expect(await taskState.get('late-touch')).toMatchObject({
      status: 'running',
      taskId,
      lastActivityAt: clock.now,
    });
  });

  it('stops a task no record owns once it is past the zombie grace, but not a young one', async () => {
    // Prepare
    const { clock, cluster, sweep, runningTask, resumed } = setup();
    const owned = await runningTask('owner');
    clock.now = T0 + ZOMBIE_GRACE_MS + 60_000;
    cluster.add('task-zombie', T0);
    cluster.add('task-just-launched', clock.now - 1_000);
    await runningTask('owner-2');

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({ ...nothingDone, stoppedZombies: ['task-zombie'] });
    expect(cluster.stops.map((stop) => stop.taskId)).toEqual(['task-zombie']);
    expect(cluster.tasks.get(owned)?.state).toBe('running');
    expect(cluster.tasks.get('task-just-launched')?.state).toBe('running');
    expect(resumed).toEqual([]);
  });

  it('gives up on a start that did not become ready in time, stops its task and resumes the queue', async () => {
    // Prepare: one start stuck past the limit, one just begun
    const { clock, taskState, cluster, resumed, drained, sweep } = setup();
    const stuck = await taskState.beginStart('slow-start');
    await taskState.recordLaunch('slow-start', 'task-slow', { version: stuck.state.version });
    cluster.add('task-slow', T0, 'pending');
    clock.now = T0 + START_TIMEOUT_MS;
    const fresh = await taskState.beginStart('fresh-start');
    await taskState.recordLaunch('fresh-start', 'task-fresh', { version: fresh.state.version });
    cluster.add('task-fresh', clock.now, 'pending');

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({ ...nothingDone, failedStarts: ['slow-start'] });
    expect(cluster.stops.map((stop) => stop.taskId)).toEqual(['task-slow']);
    expect(await taskState.get('slow-start')).toMatchObject({
      status: 'idle',
      version: stuck.state.version + 1,
    });
    expect(drained).toEqual(['slow-start']);
    expect(resumed).toEqual([]);
    expect(await taskState.get('fresh-start')).toMatchObject({ status: 'starting', taskId: 'task-fresh' });
  });

  it('gives up on a start whose launch was never recorded, once it is too old', async () => {
    // Prepare: the selector died between winning the start and launching
    const { clock, taskState, cluster, resumed, drained, sweep } = setup();
    await taskState.beginStart('lost-starter');
    clock.now = T0 + START_TIMEOUT_MS + 1;

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({ ...nothingDone, failedStarts: ['lost-starter'] });
    expect(cluster.stops).toEqual([]);
    expect((await taskState.get('lost-starter')).status).toBe('idle');
    expect(drained).toEqual(['lost-starter']);
    expect(resumed).toEqual([]);
  });

  it('gives up at once on a start whose task already stopped', async () => {
    // Prepare: a young start whose task died while booting
    const { clock, taskState, cluster, resumed, drained, sweep } = setup();
    const start = await taskState.beginStart('died-booting');
    await taskState.recordLaunch('died-booting', 'task-died', { version: start.state.version });
    cluster.add('task-died', T0, 'stopped');
    clock.now = T0 + 1_000;

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({ ...nothingDone, failedStarts: ['died-booting'] });
    expect(cluster.stops).toEqual([]);
    expect((await taskState.get('died-booting')).status).toBe('idle');
    expect(drained).toEqual(['died-booting']);
    expect(resumed).toEqual([]);
  });

  it('does not reset a fresh start that began after it read a dead one', async () => {
    // Prepare: another sweep resets the dead start and a new start begins while this sweep runs
    const { clock, taskState, cluster, resumed, drained, sweep } = setup();
    const dead = await taskState.beginStart('restarted');
    await taskState.recordLaunch('restarted', 'task-dead', { version: dead.state.version });
    cluster.add('task-dead', T0, 'stopped');
    clock.now = T0 + 1_000;
    let raced = false;
    const racingStore: TaskStateStore = {
      ...taskState,
      listActive: async () => {
        const records = await taskState.listActive();
        if (!raced) {
          raced = true;
          await taskState.markStartFailed('restarted', { version: dead.state.version });
          await taskState.beginStart('restarted');
        }
        return records;
      },
    };

    // Act
    const report = await sweep({ taskState: racingStore });
    const after = await taskState.get('restarted');

    // Assess
    expect(raced).toBe(true);
    expect(report.failedStarts).toEqual([]);
    expect(drained).toEqual([]);
    expect(after).toMatchObject({ status: 'starting', version: dead.state.version + 2 });
    expect(resumed).toEqual([]);
  });

  it('moves the record of a running task that died on to idle and resumes its queue', async () => {
    // Prepare: a Spot interruption took the task without a word
    const { clock, taskState, cluster, resumed, sweep, runningTask } = setup();
    const taskId = await runningTask('crashed');
    Object.assign(cluster.tasks.get(taskId) ?? {}, { state: 'stopped', stoppedReason: 'Spot interruption' });
    clock.now += 10_000;

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({ ...nothingDone, recoveredDeadTasks: [taskId] });
    expect(cluster.stops).toEqual([]);
    expect((await taskState.get('crashed')).status).toBe('idle');
    expect(resumed).toEqual(['crashed']);
  });

  it('leaves a task that is still stopping (a Spot interruption in its grace) to hand back its message', async () => {
    // Prepare: ECS was told to stop the task; it is saving its state
    const { clock, taskState, cluster, resumed, sweep, runningTask } = setup();
    const taskId = await runningTask('interrupted');
    Object.assign(cluster.tasks.get(taskId) ?? {}, { state: 'stopping' });
    clock.now += 10_000;

    // Act
    const report = await sweep();

    // Assess: no successor yet; the task itself moves the record on and hands over its queue
    expect(report).toEqual(nothingDone);
    expect((await taskState.get('interrupted')).status).toBe('running');
    expect(resumed).toEqual([]);
  });

  it('finishes a stop whose task is gone, and stops again a task that takes too long to stop', async () => {
    // Prepare
    const { clock, taskState, cluster, resumed, sweep, runningTask } = setup();
    const gone = await runningTask('stopped-quietly');
    await taskState.beginStop('stopped-quietly', gone);
    Object.assign(cluster.tasks.get(gone) ?? {}, { state: 'stopped' });
    const hanging = await runningTask('stop-hangs');
    await taskState.beginStop('stop-hangs', hanging);

    // Act
    clock.now = T0 + STOP_TIMEOUT_MS - 1;
    const early = await sweep();
    clock.now = T0 + STOP_TIMEOUT_MS;
    const late = await sweep();

    // Assess
    expect(early).toEqual({ ...nothingDone, recoveredDeadTasks: [gone] });
    expect((await taskState.get('stopped-quietly')).status).toBe('idle');
    expect(resumed).toEqual(['stopped-quietly']);
    expect(late).toEqual(nothingDone);
    expect(cluster.stops.map((stop) => stop.taskId)).toEqual([hanging]);
  });

  it("goes on with everyone else when one user's check fails", async () => {
    // Prepare: two idle tasks; stopping the first fails
    const { clock, taskState, cluster, errors, sweep, runningTask } = setup();
    const broken = await runningTask('idle-a');
    const fine = await runningTask('idle-b');
    cluster.failStopFor.add(broken);
    clock.now = T0 + IDLE_TIMEOUT_MS + IDLE_GRACE_MS + 1;

    // Act
    const report = await sweep();

    // Assess
    expect(report.stoppedIdle).toEqual([fine]);
    expect(errors).toContain('watchdog check failed');
    expect((await taskState.get('idle-b')).status).toBe('idle');
  });
  it('drains on Lambda the queue of a user with no task whose lock holder died', async () => {
    // Prepare: a Lambda holder died mid-turn with two messages queued behind it; its lease has run out
    const { clock, pending, drained, sweep } = setup();
    await pending.enqueue(messageAt('orphaned', 'q1', 0));
    await pending.enqueue(messageAt('orphaned', 'q2', 1));
    await aws.storage.SessionLockEntity.build(PutItemCommand)
      .item({
        userId: 'orphaned',
        owner: 'dead-holder',
        leaseExpiresAt: Date.now() - 1,
        expiresAt: 0,
        waiting: true,
      })
      .send();
    clock.now = T0 + 3 * 60_000;

    // Act
    const report = await sweep();

    // Assess
    expect(report).toEqual({ ...nothingDone, resumedQueues: ['orphaned'] });
    expect(drained).toEqual(['orphaned']);
  });

  it('leaves alone a queue with a live lock holder, a fresh queue, and the queue of a user with a task', async () => {
    // Prepare: one user's holder is at work; another's message was queued a moment ago; a third has a task
    const { clock, pending, drained, sweep, runningTask } = setup();
    clock.now = T0 + 3 * 60_000;
    await pending.enqueue(messageAt('holder-alive', 'h1', 0));
    const holder = await createSessionLock({ storage: aws.storage, owner: 'alive' }).acquire(
      'holder-alive',
      Date.now() + 5_000,
    );
    await pending.enqueue(messageAt('just-queued', 'j1', 170));
    await pending.enqueue(messageAt('has-task', 't1', 0));
    await runningTask('has-task');

    // Act
    const report = await sweep();
    await holder.release();

    // Assess
    expect(report).toEqual(nothingDone);
    expect(drained).toEqual([]);
  });

  it('drains a stranded queue once its holder lets go without answering it', async () => {
    // Prepare: the same queue is swept while the holder lives, then after it is gone
    const { clock, pending, drained, sweep } = setup();
    clock.now = T0 + 3 * 60_000;
    await pending.enqueue(messageAt('later', 'l1', 0));
    const holder = await createSessionLock({ storage: aws.storage, owner: 'leaving' }).acquire(
      'later',
      Date.now() + 5_000,
    );

    // Act
    const whileHeld = await sweep();
    await holder.release();
    const afterwards = await sweep();

    // Assess
    expect(whileHeld.resumedQueues).toEqual([]);
    expect(afterwards.resumedQueues).toEqual(['later']);
    expect(drained).toEqual(['later']);
  });
});
