import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createScheduleFiredHandler } from './fired.ts';
import { createJobStore } from './jobs.ts';
import { jobInput, recordingLogger, recordingPublisher, recordingScheduler } from './test-fixtures.ts';

const START = Date.parse('2026-07-06T06:00:00Z');

describe('the ScheduleFired handler (dynalite, recording publisher)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup() {
    const bus = recordingPublisher();
    const log = recordingLogger();
    const store = createJobStore({
      storage: aws.storage,
      scheduler: recordingScheduler().scheduler,
      now: () => START,
    });
    const handle = createScheduleFiredHandler({
      storage: aws.storage,
      publisher: bus.publisher,
      logger: log.logger,
      now: () => START + 1000,
    });
    users += 1;
    return { ...bus, ...log, store, handle, userId: `user-${users}` };
  }

  const fire = (userId: string, scheduleId: string, firedAt = '2026-07-06T06:00:00Z') => ({
    detail: {
      userId,
      scheduleId,
      firedAt,
      prompt: 'stale prompt from the schedule',
      conversationId: 'c-1',
      replyTo: { channel: 'web', address: {} },
    },
  });

  it("publishes the job's prompt as MessageReceived from openclaw.schedule, once per fire", async () => {
    // Prepare
    const { store, handle, events, userId } = setup();
    const job = await store.create(userId, jobInput({ runtime: 'fargate' }));

    // Act
    const first = await handle(fire(userId, job.jobId));
    const again = await handle(fire(userId, job.jobId, '2026-07-06T06:00:00.000Z'));

    // Assess
    expect(first.kind).toBe('published');
    expect(again).toEqual({ kind: 'duplicate', messageId: (first as { messageId: string }).messageId });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'openclaw.schedule',
      detailType: 'MessageReceived.v1',
      detail: {
        userId,
        text: 'Summarise my inbox',
        conversationId: 'morning-brief',
        replyTo: { channel: 'telegram', address: { chatId: 42 } },
        runtime: 'fargate',
      },
    });
  });

  it('drops, with a log, fires of paused or deleted jobs and malformed events', async () => {
    // Prepare
    const { store, handle, events, lines, userId } = setup();
    const paused = await store.create(userId, jobInput());
    await store.pause(userId, paused.jobId);

    // Act
    const results = [
      await handle(fire(userId, paused.jobId)),
      await handle(fire(userId, 'job-gone')),
      await handle({ detail: { userId } }),
    ];

    // Assess
    expect(results.map((r) => (r.kind === 'dropped' ? r.reason : r.kind))).toEqual([
      'job-paused',
      'job-missing',
      'invalid',
    ]);
    expect(events).toEqual([]);
    expect(lines.map((l) => l.level)).toEqual(['info', 'info', 'warn']);
  });

  it('deletes a one-time at() job after its fire', async () => {
    // Prepare
    const { store, handle, events, userId } = setup();
    const job = await store.create(userId, jobInput({ expression: 'at(2026-07-06T10:00:00)' }));

    // Act
    const result = await handle(fire(userId, job.jobId, '2026-07-06T08:00:00Z'));

    // Assess
    expect(result.kind).toBe('published');
    expect(events).toHaveLength(1);
    expect(await store.get(userId, job.jobId)).toBeUndefined();
  });

  it('gives the claim back when the publish fails, so the retry publishes', async () => {
    // Prepare
    const { store, handle, events, state, userId } = setup();
    const job = await store.create(userId, jobInput());
    state.failing = true;

    // Act
    const failed = await handle(fire(userId, job.jobId)).catch((e: unknown) => e);
    state.failing = false;
    const retried = await handle(fire(userId, job.jobId));

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(retried.kind).toBe('published');
    expect(events).toHaveLength(1);
  });
});
