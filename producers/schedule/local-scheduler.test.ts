import { describe, expect, it } from 'vitest';
import type { ScheduleJob } from './jobs.ts';
import { createLocalScheduler } from './local-scheduler.ts';
import { recordingLogger, recordingPublisher } from './test-fixtures.ts';

const MINUTE = 60_000;

function job(overrides: Partial<ScheduleJob> = {}): ScheduleJob {
  return {
    userId: 'user-1',
    jobId: 'job-1',
    prompt: 'Summarise my inbox',
    expression: 'cron(0 8 * * ? *)',
    timeZone: 'Europe/Berlin',
    replyTo: { channel: 'web', address: {} },
    conversationId: 'c-1',
    enabled: true,
    createdAt: '2026-07-06T05:00:00.000Z',
    updatedAt: '2026-07-06T05:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

/** A local scheduler on a clock the test moves by hand. */
function setup(start: string) {
  const clock = { now: Date.parse(start) };
  const bus = recordingPublisher();
  const log = recordingLogger();
  const scheduler = createLocalScheduler({
    publisher: bus.publisher,
    logger: log.logger,
    now: () => clock.now,
  });
  /** Moves the clock to `iso` and ticks. */
  const at = async (iso: string) => {
    clock.now = Date.parse(iso);
    return scheduler.tick();
  };
  const firedAts = () =>
    bus.events
      .filter((e) => e.detailType === 'ScheduleFired.v1')
      .map((e) => (e.detail as { firedAt: string }).firedAt);
  return { scheduler, clock, at, firedAts, ...bus, ...log };
}

describe('the local scheduler (controllable clock)', () => {
  it('fires a job at its time as ScheduleFired from openclaw.scheduler, not before', async () => {
    // Prepare
    const { scheduler, at, events } = setup('2026-07-06T05:00:00Z');
    await scheduler.upsert(job());

    // Act
    const early = await at('2026-07-06T05:59:59Z');
    const due = await at('2026-07-06T06:00:00Z');

    // Assess
    expect([early, due]).toEqual([0, 1]);
    expect(events).toEqual([
      {
        source: 'openclaw.scheduler',
        detailType: 'ScheduleFired.v1',
        detail: {
          userId: 'user-1',
          scheduleId: 'job-1',
          firedAt: '2026-07-06T06:00:00.000Z',
          prompt: 'Summarise my inbox',
          conversationId: 'c-1',
          replyTo: { channel: 'web', address: {} },
        },
      },
    ]);
    expect(scheduler.nextFireAt(job())).toBe(Date.parse('2026-07-07T06:00:00Z'));
  });

  it('does not fire a paused job, and fires it again after resume', async () => {
    // Prepare
    const { scheduler, at, firedAts } = setup('2026-07-06T05:00:00Z');
    await scheduler.pause(job({ enabled: false }));

    // Act
    await at('2026-07-06T06:00:00Z');
    await at('2026-07-06T06:30:00Z');
    await scheduler.resume(job());
    await at('2026-07-07T06:00:00Z');

    // Assess
    expect(firedAts()).toEqual(['2026-07-07T06:00:00.000Z']);
  });

  it('fires a rate job every interval counted from its creation, until its end date', async () => {
    // Prepare
    const { scheduler, clock, firedAts } = setup('2026-07-06T05:02:00Z');
    await scheduler.upsert(
      job({
        expression: 'rate(10 minutes)',
        createdAt: '2026-07-06T05:00:00.000Z',
        endDate: '2026-07-06T05:35:00.000Z',
      }),
    );

    // Act
    for (let t = clock.now; t <= Date.parse('2026-07-06T06:00:00Z'); t += MINUTE) {
      clock.now = t;
      await scheduler.tick();
    }

    // Assess
    expect(firedAts()).toEqual([
      '2026-07-06T05:10:00.000Z',
      '2026-07-06T05:20:00.000Z',
      '2026-07-06T05:30:00.000Z',
    ]);
  });

  it('fires an at() job once and forgets it', async () => {
    // Prepare
    const { scheduler, at, firedAts } = setup('2026-07-06T05:00:00Z');
    const once = job({ expression: 'at(2026-07-06T09:00:00)' });
    await scheduler.upsert(once);

    // Act
    await at('2026-07-06T07:00:00Z');
    await at('2026-07-06T07:01:00Z');
    await at('2026-07-07T07:00:00Z');

    // Assess
    expect(firedAts()).toEqual(['2026-07-06T07:00:00.000Z']);
    expect(scheduler.nextFireAt(once)).toBeUndefined();
  });

  it('follows DST in Europe/Berlin: 08:00 moves from 07:00Z to 06:00Z, a 02:30 that does not exist is skipped', async () => {
    // Prepare
    const { scheduler, clock, firedAts } = setup('2026-03-27T12:00:00Z');
    await scheduler.upsert(job({ jobId: 'eight' }));
    await scheduler.upsert(job({ jobId: 'two-thirty', expression: 'cron(30 2 * * ? *)' }));

    // Act
    for (let t = clock.now; t <= Date.parse('2026-03-30T12:00:00Z'); t += 15 * MINUTE) {
      clock.now = t;
      await scheduler.tick();
    }

    // Assess
    expect(firedAts()).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-28T07:00:00.000Z', // 08:00 CET
      '2026-03-29T06:00:00.000Z', // 08:00 CEST; 02:30 did not exist that night
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-30T06:00:00.000Z',
    ]);
  });

  it('retries a failed publish on later ticks, then gives up with an error log and a ReplyCompleted error', async () => {
    // Prepare
    const { scheduler, at, state, events, lines, firedAts } = setup('2026-07-06T05:00:00Z');
    await scheduler.upsert(job({ jobId: 'retried' }));
    await scheduler.upsert(job({ jobId: 'given-up', expression: 'cron(0 9 * * ? *)' }));
    state.failing = true;

    // Act
    await at('2026-07-06T06:00:00Z');
    state.failing = false;
    await at('2026-07-06T06:00:05Z'); // 'retried' gets through
    state.failing = true;
    await at('2026-07-06T07:00:00Z'); // 'given-up' fails...
    await at('2026-07-06T08:00:01Z'); // ...and is still failing past the one-hour event age
    state.failing = false;
    await at('2026-07-06T08:00:02Z');

    // Assess
    expect(firedAts()).toEqual(['2026-07-06T06:00:00.000Z']);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    // The best-effort ReplyCompleted failed too (the bus was down); the error log is what remains.
    expect(events.some((e) => e.detailType === 'ReplyCompleted.v1')).toBe(false);
    expect(scheduler.nextFireAt(job({ jobId: 'given-up' }))).toBe(Date.parse('2026-07-07T07:00:00Z'));
  });

  it('tells the user with a ReplyCompleted error when a fire is given up but the bus takes other events', async () => {
    // Prepare
    const clock = { now: Date.parse('2026-07-06T05:00:00Z') };
    const events: { detailType: string; detail: unknown }[] = [];
    const { logger } = recordingLogger();
    const scheduler = createLocalScheduler({
      publisher: {
        async publish(input) {
          const event = Array.isArray(input) ? input[0] : input;
          if (event.detailType === 'ScheduleFired.v1') throw new Error('rule target failing');
          events.push(event);
        },
      },
      logger,
      now: () => clock.now,
      maxEventAgeMs: 0,
    });
    await scheduler.upsert(job());

    // Act
    clock.now = Date.parse('2026-07-06T06:00:00Z');
    await scheduler.tick();

    // Assess
    expect(events).toMatchObject([
      {
        detailType: 'ReplyCompleted.v1',
        detail: { status: 'error', error: { code: 'SCHEDULE_NOT_DELIVERED' } },
      },
    ]);
  });
});
