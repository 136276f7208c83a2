import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import {
  JobConflictError,
  JobLimitError,
  JobNotFoundError,
  JobSchedulerError,
  JobValidationError,
} from './job-errors.ts';
import { createJobStore } from './jobs.ts';
import { jobInput, recordingScheduler } from './test-fixtures.ts';

const START = Date.parse('2026-07-06T06:00:00Z');

describe('the scheduled job store (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup(overrides: { maxJobsPerUser?: number; minIntervalMs?: number } = {}) {
    const clock = { now: START };
    const sched = recordingScheduler();
    let ids = 0;
    const store = createJobStore({
      storage: aws.storage,
      scheduler: sched.scheduler,
      now: () => clock.now,
      newJobId: () => `job-${++ids}`,
      ...overrides,
    });
    users += 1;
    return { store, clock, ...sched, userId: `user-${users}` };
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => expect.fail('expected a rejection'),
      (error: unknown) => error,
    );
  }

  it('creates an enabled job in canonical form with its next fire, and tells the scheduler', async () => {
    // Prepare
    const { store, calls, userId } = setup();

    // Act
    const job = await store.create(userId, jobInput({ expression: 'cron(0 8 ? * mon-fri *)' }));

    // Assess
    expect(job).toMatchObject({
      jobId: 'job-1',
      expression: 'cron(0 8 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      enabled: true,
      version: 1,
      nextFireAt: Date.parse('2026-07-06T06:00:00Z'),
    });
    expect(calls).toEqual([{ action: 'upsert', jobId: 'job-1', enabled: true }]);
    expect(await store.get(userId, 'job-1')).toEqual(job);
    expect(await store.list(userId)).toEqual([job]);
  });

  it('reads a job that fired since its last write with its next fire after now, not the passed one', async () => {
    // Prepare: every weekday at 08:00 Berlin; the first fire is Monday 2026-07-06
    const { store, clock, userId } = setup();
    const job = await store.create(userId, jobInput({ expression: 'cron(0 8 ? * MON-FRI *)' }));

    // Act: Monday 09:00 Berlin, after the first fire
    clock.now = Date.parse('2026-07-06T07:00:00Z');
    const read = await store.get(userId, job.jobId);
    const [listed] = await store.list(userId);

    // Assess: Tuesday 08:00 Berlin
    expect(job.nextFireAt).toBe(Date.parse('2026-07-06T06:00:00Z'));
    expect(read?.nextFireAt).toBe(Date.parse('2026-07-07T06:00:00Z'));
    expect(listed?.nextFireAt).toBe(Date.parse('2026-07-07T06:00:00Z'));
  });

  it('reads a one-time job whose time has passed with no next fire', async () => {
    const { store, clock, userId } = setup();
    const job = await store.create(userId, jobInput({ expression: 'at(2026-07-06T10:00:00)' }));

    clock.now = Date.parse('2026-07-06T09:00:00Z');

    expect(job.nextFireAt).toBe(Date.parse('2026-07-06T08:00:00Z'));
    expect(await store.get(userId, job.jobId)).not.toHaveProperty('nextFireAt');
  });

  it('refuses bad input with the field and a message saying what to write', async () => {
    // Prepare
    const { store, userId } = setup();
    const cases = [
      [jobInput({ prompt: '' }), 'prompt'],
      [jobInput({ prompt: 'x'.repeat(4001) }), 'prompt'],
      [jobInput({ expression: 'cron(0 8 * * * *)' }), 'expression'],
      [jobInput({ timeZone: 'Mars/Olympus' }), 'timeZone'],
      [jobInput({ endDate: '2026-07-01T00:00:00Z' }), 'endDate'],
      [jobInput({ expression: 'at(2026-07-01T08:00:00)' }), 'expression'],
      [jobInput({ replyTo: { channel: 'Bad Channel', address: {} } }), 'replyTo'],
    ] as const;

    // Act
    const errors = await Promise.all(cases.map(([input]) => rejection(store.create(userId, input))));

    // Assess
    errors.forEach((error, i) => {
      expect(error).toBeInstanceOf(JobValidationError);
      expect((error as JobValidationError).field).toBe(cases[i]?.[1]);
    });
    expect((errors[2] as Error).message).toContain('?');
    expect((errors[5] as Error).message).toContain('in the past');
    expect(await store.list(userId)).toEqual([]);
  });

  it('enforces the per-user limits: job count and minimum interval (both overridable)', async () => {
    // Prepare
    const { store, userId } = setup({ maxJobsPerUser: 2 });
    await store.create(userId, jobInput());
    await store.create(userId, jobInput());
    const other = setup({ minIntervalMs: 60_000 });

    // Act
    const tooMany = await rejection(store.create(userId, jobInput()));
    const tooOften = await rejection(
      setup().store.create('user-often', jobInput({ expression: 'rate(4 minutes)' })),
    );
    const cronTooOften = await rejection(
      setup().store.create('user-cron', jobInput({ expression: 'cron(0/2 8-9 ? * MON *)' })),
    );
    const allowed = await other.store.create(other.userId, jobInput({ expression: 'rate(1 minute)' }));

    // Assess
    expect(tooMany).toBeInstanceOf(JobLimitError);
    expect((tooMany as JobLimitError).limit).toBe('jobs');
    expect(tooOften).toBeInstanceOf(JobLimitError);
    expect((tooOften as JobLimitError).limit).toBe('interval');
    expect(cronTooOften).toBeInstanceOf(JobLimitError);
    expect((cronTooOften as Error).message).toContain('every 2 minute(s)');
    expect(allowed.expression).toBe('rate(1 minute)');
  });

  it('edits with a version guard: a stale version is refused, the fresh one applies and bumps it', async () => {
    // Prepare
    const { store, calls, clock, userId } = setup();
    const job = await store.create(userId, jobInput({ runtime: 'fargate' }));
    clock.now += 60_000;

    // Act
    const edited = await store.update(
      userId,
      job.jobId,
      { prompt: 'New prompt', expression: 'rate(1 hour)', runtime: null },
      { version: 1 },
    );
    const stale = await rejection(store.update(userId, job.jobId, { prompt: 'lost' }, { version: 1 }));

    // Assess
    expect(edited).toMatchObject({ prompt: 'New prompt', expression: 'rate(1 hour)', version: 2 });
    expect(edited.runtime).toBeUndefined();
    expect(edited.updatedAt).toBe(new Date(clock.now).toISOString());
    expect(stale).toBeInstanceOf(JobConflictError);
    expect((stale as JobConflictError).currentVersion).toBe(2);
    expect(calls.map((c) => c.action)).toEqual(['upsert', 'upsert']);
    expect((await store.get(userId, job.jobId))?.prompt).toBe('New prompt');
  });

  it('pauses and resumes, telling the scheduler each time', async () => {
    // Prepare
    const { store, calls, userId } = setup();
    const job = await store.create(userId, jobInput());

    // Act
    const paused = await store.pause(userId, job.jobId);
    const resumed = await store.resume(userId, job.jobId);

    // Assess
    expect(paused).toMatchObject({ enabled: false, version: 2 });
    expect(paused.nextFireAt).toBeUndefined();
    expect(resumed).toMatchObject({ enabled: true, version: 3, nextFireAt: job.nextFireAt });
    expect(calls.slice(1)).toEqual([
      { action: 'pause', jobId: job.jobId, enabled: false },
      { action: 'resume', jobId: job.jobId, enabled: true },
    ]);
  });

  it('deletes a job and its schedule; a missing job is JobNotFoundError', async () => {
    // Prepare
    const { store, calls, userId } = setup();
    const job = await store.create(userId, jobInput());

    // Act
    await store.delete(userId, job.jobId);
    const again = await rejection(store.delete(userId, job.jobId));

    // Assess
    expect(await store.get(userId, job.jobId)).toBeUndefined();
    expect(calls.at(-1)).toEqual({ action: 'remove', jobId: job.jobId });
    expect(again).toBeInstanceOf(JobNotFoundError);
  });

  it('undoes the table write when the scheduler refuses, so the two never disagree', async () => {
    // Prepare
    const { store, state, userId } = setup();
    const kept = await store.create(userId, jobInput());
    state.failing = true;

    // Act
    const create = await rejection(store.create(userId, jobInput({ prompt: 'never stored' })));
    const edit = await rejection(store.update(userId, kept.jobId, { prompt: 'not applied' }));
    const pause = await rejection(store.pause(userId, kept.jobId));
    const remove = await rejection(store.delete(userId, kept.jobId));

    // Assess
    for (const error of [create, edit, pause, remove]) {
      expect(error).toBeInstanceOf(JobSchedulerError);
      expect((error as JobSchedulerError).restored).toBe(true);
    }
    expect(await store.list(userId)).toEqual([kept]);
  });
});
