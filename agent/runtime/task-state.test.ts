import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createTaskStateStore, type TaskState, TaskStateConflictError } from './task-state.ts';

describe('the task lifecycle record (conditional writes on dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  /** A store on a clock the test moves by hand. */
  function storeAt(start = 1_000_000) {
    const clock = { now: start };
    const store = createTaskStateStore(aws.storage, { now: () => clock.now });
    return { store, clock };
  }

  /** The error a refused transition throws, for asserting on `.current`. */
  async function refusal(promise: Promise<unknown>): Promise<TaskStateConflictError> {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(TaskStateConflictError);
    return error as TaskStateConflictError;
  }

  it('reads a user who never had a task as idle at version 0', async () => {
    // Prepare
    const { store } = storeAt();

    // Act
    const state = await store.get('user-new');

    // Assess
    expect(state).toEqual({ userId: 'user-new', status: 'idle', changedAt: 0, version: 0 });
  });

  it('goes idle -> starting -> running -> stopping -> idle, bumping the version each time', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-lifecycle';

    // Act
    const start = await store.beginStart(user);
    clock.now += 100;
    const running = await store.markRunning(user, 'task-1', { version: start.state.version });
    clock.now += 100;
    const touched = await store.touch(user, 'task-1');
    const afterTouch = await store.get(user);
    clock.now += 100;
    const stopping = await store.beginStop(user, 'task-1');
    clock.now += 100;
    const stopped = await store.markStopped(user, 'task-1');

    // Assess
    expect(start).toEqual({
      won: true,
      state: { userId: user, status: 'starting', changedAt: 1_000_000, version: 1 },
    });
    expect(running).toMatchObject({
      status: 'running',
      taskId: 'task-1',
      lastActivityAt: 1_000_100,
      version: 2,
    });
    expect(touched).toBe(true);
    expect(afterTouch).toMatchObject({ status: 'running', lastActivityAt: 1_000_200, version: 2 });
    expect(stopping).toMatchObject({
      status: 'stopping',
      taskId: 'task-1',
      changedAt: 1_000_300,
      version: 3,
    });
    expect(stopped).toEqual({ userId: user, status: 'idle', changedAt: 1_000_400, version: 4 });
    expect(await store.get(user)).toEqual(stopped);
  });

  it.each([2, 10])('lets exactly one of %i concurrent first messages start the task', async (callers) => {
    // Prepare
    const { store } = storeAt();
    const user = `user-race-${callers}`;

    // Act
    const results = await Promise.all(Array.from({ length: callers }, () => store.beginStart(user)));

    // Assess
    expect(results.filter((result) => result.won)).toHaveLength(1);
    for (const { state } of results) expect(state).toMatchObject({ status: 'starting', version: 1 });
    expect(await store.get(user)).toMatchObject({ status: 'starting', version: 1 });
  });

  it('does not start a second task while one is starting or running', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-busy';
    await store.beginStart(user);

    // Act
    const whileStarting = await store.beginStart(user);
    await store.markRunning(user, 'task-1');
    const whileRunning = await store.beginStart(user);

    // Assess
    expect(whileStarting).toMatchObject({ won: false, state: { status: 'starting' } });
    expect(whileRunning).toMatchObject({ won: false, state: { status: 'running', taskId: 'task-1' } });
  });

  it('returns to idle when the start fails, and the next message can start again', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-start-fails';
    const first = await store.beginStart(user);

    // Act
    const failed = await store.markStartFailed(user, { version: first.state.version });
    const second = await store.beginStart(user);

    // Assess
    expect(failed).toMatchObject({ status: 'idle', version: 2 });
    expect(second).toMatchObject({ won: true, state: { status: 'starting', version: 3 } });
  });

  it('refuses to mark running or failed when nothing is starting', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-not-starting';

    // Act
    const running = await refusal(store.markRunning(user, 'task-1'));
    const failed = await refusal(store.markStartFailed(user));

    // Assess
    expect(running.current).toMatchObject({ status: 'idle', version: 0 });
    expect(failed.current).toMatchObject({ status: 'idle', version: 0 });
  });

  it('does not let a start the watchdog gave up on claim a later start', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-late-starter';
    const abandoned = await store.beginStart(user);
    clock.now += 120_000;
    await store.resetStuckStart(user, 60_000);
    const current = await store.beginStart(user);

    // Act
    const error = await refusal(store.markRunning(user, 'task-late', { version: abandoned.state.version }));

    // Assess
    expect(error.current).toMatchObject({ status: 'starting', version: current.state.version });
    await expect(
      store.markRunning(user, 'task-new', { version: current.state.version }),
    ).resolves.toMatchObject({
      status: 'running',
      taskId: 'task-new',
    });
  });

  it('refuses to touch for another task or when not running', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-touch';
    const before = await store.get(user);

    // Act
    const whileIdle = await store.touch(user, 'task-1');
    await store.beginStart(user);
    await store.markRunning(user, 'task-1');
    const wrongTask = await store.touch(user, 'task-2');
    await store.beginStop(user, 'task-1');
    const whileStopping = await store.touch(user, 'task-1');

    // Assess
    expect(whileIdle).toBe(false);
    expect(wrongTask).toBe(false);
    expect(whileStopping).toBe(false);
    // A refused touch on a missing record must not create one.
    expect(before).toMatchObject({ version: 0 });
    expect(await store.get(user)).toMatchObject({ status: 'stopping', taskId: 'task-1' });
  });

  it('refuses to stop a different task, and leaves the record as it was', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-wrong-stop';
    await store.beginStart(user);
    const running = await store.markRunning(user, 'task-1');

    // Act
    const beginStop = await refusal(store.beginStop(user, 'task-other'));
    const markStopped = await refusal(store.markStopped(user, 'task-other'));

    // Assess
    expect(beginStop.current).toEqual(running);
    expect(markStopped.current).toEqual(running);
    expect(await store.get(user)).toEqual(running);
  });

  it('marks a running task stopped directly when it went away on its own', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-crash';
    await store.beginStart(user);
    await store.markRunning(user, 'task-1');

    // Act
    const stopped = await store.markStopped(user, 'task-1');
    const again = await refusal(store.markStopped(user, 'task-1'));

    // Assess
    expect(stopped).toEqual({ userId: user, status: 'idle', changedAt: stopped.changedAt, version: 3 });
    expect(await store.get(user)).toEqual(stopped);
    expect(again.current).toMatchObject({ status: 'idle' });
  });

  it('does not begin stopping a task that took a message after the watchdog judged it idle', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-busy-again';
    await store.beginStart(user);
    await store.markRunning(user, 'task-1');
    const cutOff = clock.now + 1;
    clock.now += 10;
    await store.touch(user, 'task-1');

    // Act
    const error = await refusal(store.beginStop(user, 'task-1', { inactiveSince: cutOff }));
    const later = await store.beginStop(user, 'task-1', { inactiveSince: clock.now + 1 });

    // Assess
    expect(error.current).toMatchObject({ status: 'running', lastActivityAt: clock.now });
    expect(later).toMatchObject({ status: 'stopping' });
  });

  it('resets a stuck start only once it is older than the limit', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-stuck';
    await store.beginStart(user);

    // Act
    clock.now += 59_999;
    const early = await store.resetStuckStart(user, 60_000);
    const stillStarting = await store.get(user);
    clock.now += 1;
    const due = await store.resetStuckStart(user, 60_000);

    // Assess
    expect(early).toBe(false);
    expect(stillStarting).toMatchObject({ status: 'starting' });
    expect(due).toBe(true);
    expect(await store.get(user)).toMatchObject({ status: 'idle', changedAt: clock.now });
  });

  it('never resets a task that is running, however old', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-old-running';
    await store.beginStart(user);
    const running: TaskState = await store.markRunning(user, 'task-1');
    clock.now += 86_400_000;

    // Act
    const reset = await store.resetStuckStart(user, 60_000);

    // Assess
    expect(reset).toBe(false);
    expect(await store.get(user)).toEqual(running);
  });

  it('records the launched task while starting, without a version bump, and only that task', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-record-launch';
    const start = await store.beginStart(user);
    const guard = { version: start.state.version };

    // Act
    const recorded = await store.recordLaunch(user, 'task-1', guard);
    const again = await store.recordLaunch(user, 'task-1', guard);
    const other = await store.recordLaunch(user, 'task-2', guard);

    // Assess
    expect([recorded, again, other]).toEqual([true, true, false]);
    expect(await store.get(user)).toEqual({
      userId: user,
      status: 'starting',
      taskId: 'task-1',
      changedAt: start.state.changedAt,
      version: start.state.version,
    });
  });

  it('refuses to record a launch for a start that was reset, or for a user with no start', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-launch-too-late';
    const abandoned = await store.beginStart(user);
    clock.now += 120_000;
    await store.resetStuckStart(user, 60_000);
    const afterReset = await store.get(user);

    // Act
    const whileIdle = await store.recordLaunch(user, 'task-late', { version: abandoned.state.version });
    const fresh = await store.beginStart(user);
    const onFreshStart = await store.recordLaunch(user, 'task-late', { version: abandoned.state.version });
    const nobody = await store.recordLaunch('user-never-started', 'task-x', { version: 1 });

    // Assess
    expect(whileIdle).toBe(false);
    expect(afterReset).toMatchObject({ status: 'idle' });
    expect(onFreshStart).toBe(false);
    expect(await store.get(user)).toEqual(fresh.state);
    expect(nobody).toBe(false);
    // A refused write on a missing record must not create one.
    expect(await store.get('user-never-started')).toMatchObject({ status: 'idle', version: 0 });
  });

  it('lets the container mark its recorded start running, and refuses another task', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-container-ready';
    const start = await store.beginStart(user);
    await store.recordLaunch(user, 'task-mine', { version: start.state.version });
    const recorded = await store.get(user);

    // Act
    const impostor = await refusal(store.markRunning(user, 'task-other'));
    clock.now += 500;
    const running = await store.markRunning(user, 'task-mine');

    // Assess
    expect(impostor.current).toEqual(recorded);
    expect(running).toEqual({
      userId: user,
      status: 'running',
      taskId: 'task-mine',
      changedAt: clock.now,
      lastActivityAt: clock.now,
      version: start.state.version + 1,
    });
    expect(await store.get(user)).toEqual(running);
  });

  it('lets a container that is ready before its launch was recorded claim the start', async () => {
    // Prepare
    const { store } = storeAt();
    const user = 'user-container-quick';
    const start = await store.beginStart(user);

    // Act
    const running = await store.markRunning(user, 'task-quick');
    const recordedLate = await store.recordLaunch(user, 'task-quick', { version: start.state.version });

    // Assess
    expect(running).toMatchObject({ status: 'running', taskId: 'task-quick' });
    // The selector's late write is refused, and the record tells it the container claimed this task.
    expect(recordedLate).toBe(false);
    expect(await store.get(user)).toEqual(running);
  });

  it('refuses a container whose start the watchdog gave up on (the record is idle)', async () => {
    // Prepare
    const { store, clock } = storeAt();
    const user = 'user-container-orphan';
    const start = await store.beginStart(user);
    await store.recordLaunch(user, 'task-slow', { version: start.state.version });
    clock.now += 600_000;
    await store.resetStuckStart(user, 300_000);

    // Act
    const error = await refusal(store.markRunning(user, 'task-slow'));

    // Assess
    expect(error.current).toMatchObject({ status: 'idle', version: start.state.version + 1 });
    expect(error.current.taskId).toBeUndefined();
    expect(await store.get(user)).toEqual(error.current);
  });

  it('keeps users apart', async () => {
    // Prepare
    const { store } = storeAt();
    await store.beginStart('user-a');

    // Act
    const other = await store.beginStart('user-b');

    // Assess
    expect(other.won).toBe(true);
    expect(await store.get('user-a')).toMatchObject({ status: 'starting', version: 1 });
  });
});

describe('the list of active task records (sparse index on dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    // A table of its own: the list spans every user, so other tests' records would show up.
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const byUser = (states: TaskState[]) => [...states].sort((a, b) => a.userId.localeCompare(b.userId));

  it('lists exactly the records that are not idle, and drops them when they go back to idle', async () => {
    // Prepare: one user in each state, and users who went back to idle by every route
    const store = createTaskStateStore(aws.storage);
    const starting = await store.beginStart('u-starting');
    const launched = await store.beginStart('u-launched');
    await store.recordLaunch('u-launched', 'task-launched', { version: launched.state.version });
    await store.beginStart('u-running');
    await store.markRunning('u-running', 'task-running');
    await store.beginStart('u-stopping');
    await store.markRunning('u-stopping', 'task-stopping');
    await store.beginStop('u-stopping', 'task-stopping');
    await store.beginStart('u-stopped');
    await store.markRunning('u-stopped', 'task-stopped');
    await store.markStopped('u-stopped', 'task-stopped');
    const failed = await store.beginStart('u-failed');
    await store.markStartFailed('u-failed', { version: failed.state.version });
    await store.beginStart('u-reset');
    await store.resetStuckStart('u-reset', 0);
    await store.get('u-never');

    // Act
    const active = await store.listActive();

    // Assess
    const expected = await Promise.all(
      ['u-launched', 'u-running', 'u-starting', 'u-stopping'].map((user) => store.get(user)),
    );
    expect(byUser(active)).toEqual(expected);
    expect(active.find((state) => state.userId === 'u-starting')).toEqual(starting.state);
    expect(expected.map((state) => state.status)).toEqual(['starting', 'running', 'starting', 'stopping']);

    // Act: the running task stops, the stopping one is gone, the start fails
    await store.markStopped('u-running', 'task-running');
    await store.markStopped('u-stopping', 'task-stopping');
    await store.markStartFailed('u-starting');
    const after = await store.listActive();

    // Assess
    expect(after).toEqual([await store.get('u-launched')]);
  });
});
