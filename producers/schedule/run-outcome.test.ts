import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent, MessageReceived, ReplyCompleted } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createScheduleFiredHandler } from './fired.ts';
import { createJobStore } from './jobs.ts';
import { createLocalScheduler } from './local-scheduler.ts';
import { createRunOutcomeHandler } from './run-outcome.ts';
import { jobInput, recordingLogger, recordingPublisher } from './test-fixtures.ts';

const START = Date.parse('2026-11-25T07:00:00Z');

describe('retrying failed scheduled runs (dynalite, local scheduler, moved clock)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup() {
    const clock = { now: START };
    const now = () => clock.now;
    const { publisher, events } = recordingPublisher();
    const { logger } = recordingLogger();
    const scheduler = createLocalScheduler({ publisher, logger, now });
    const jobs = createJobStore({ storage: aws.storage, scheduler, now });
    const fired = createScheduleFiredHandler({ storage: aws.storage, publisher, logger, now });
    const outcome = createRunOutcomeHandler({
      storage: aws.storage,
      publisher,
      logger,
      retry: scheduler,
      now,
    });
    users += 1;
    const userId = `retry-user-${users}`;
    /** Ticks the scheduler and hands each new fire to the producer, as the bus would; returns the messages. */
    async function tickAndProduce(): Promise<MessageReceived[]> {
      const before = events.length;
      await scheduler.tick();
      const fires = events.slice(before).filter((e) => e.detailType === 'ScheduleFired.v1');
      const produced: MessageReceived[] = [];
      for (const fire of fires) {
        const at = events.length;
        await fired({ detail: fire.detail });
        produced.push(
          ...events
            .slice(at)
            .filter((e) => e.detailType === 'MessageReceived.v1')
            .map((e) => e.detail as MessageReceived),
        );
      }
      return produced;
    }
    const failedReply = (message: MessageReceived): { detail: ReplyCompleted } => ({
      detail: {
        userId: message.userId,
        conversationId: message.conversationId,
        replyTo: message.replyTo,
        inReplyTo: message.messageId,
        seq: 1,
        status: 'error',
        text: '',
        error: { code: 'LLM_UNREACHABLE', message: 'The language model did not answer.' },
      },
    });
    const reports = () =>
      events.filter(
        (e): e is Extract<BusEvent, { detailType: 'ReplyCompleted.v1' }> =>
          e.detailType === 'ReplyCompleted.v1' && e.source === 'openclaw.schedule',
      );
    return { clock, jobs, outcome, tickAndProduce, failedReply, reports, userId };
  }

  it('retries a failed run after 1 and 5 minutes, then reports it on the job’s channel, naming the job', async () => {
    // Prepare
    const { clock, jobs, outcome, tickAndProduce, failedReply, reports, userId } = setup();
    const job = await jobs.create(
      userId,
      jobInput({ expression: 'cron(0 8 * * ? *)', prompt: 'Morning brief' }),
    );
    const [first] = await tickAndProduce();

    // Act
    const retry1 = await outcome(failedReply(first!));
    clock.now += 60_000;
    const [second] = await tickAndProduce();
    const retry2 = await outcome(failedReply(second!));
    clock.now += 4 * 60_000;
    const early = await tickAndProduce();
    clock.now += 60_000;
    const [third] = await tickAndProduce();
    const reported = await outcome(failedReply(third!));
    const again = await outcome(failedReply(third!));
    const success = await outcome({ detail: { ...failedReply(third!).detail, status: 'ok', text: 'fine' } });

    // Assess
    expect(first!.text).toBe('Morning brief');
    expect(retry1).toEqual({ kind: 'retrying', attempt: 1, atMs: START + 60_000 });
    expect(second).toMatchObject({ text: 'Morning brief', conversationId: job.conversationId });
    expect(second!.messageId).not.toBe(first!.messageId);
    expect(retry2).toMatchObject({ kind: 'retrying', attempt: 2 });
    expect(early).toEqual([]);
    expect(third!.messageId).not.toBe(second!.messageId);
    expect(reported).toEqual({ kind: 'reported', attempts: 3 });
    expect(again).toEqual({ kind: 'ignored', reason: 'duplicate' });
    expect(success).toEqual({ kind: 'ignored', reason: 'not-an-error' });
    const [report] = reports();
    expect(reports()).toHaveLength(1);
    expect(report!.detail).toMatchObject({ status: 'error', replyTo: job.replyTo, userId });
    expect(report!.detail.text).toContain(job.jobId.slice(0, 8));
    expect(report!.detail.text).toContain('Morning brief');
    expect(report!.detail.text).toContain('failed 3 times');
    expect(report!.detail.text).toContain('The language model did not answer.');
    // The job's record says what happened to that fire
    expect((await jobs.get(userId, job.jobId))?.lastFailure).toEqual({
      firedAt: '2026-11-25T07:00:00.000Z', // 08:00 in Berlin
      attempts: 3,
      final: true,
      code: 'LLM_UNREACHABLE',
      message: 'The language model did not answer.',
      at: new Date(clock.now).toISOString(),
    });
  });

  it('retries a run that ran out of time, but not one the user stopped', async () => {
    // Prepare: two daily jobs firing at 08:00
    const { clock, jobs, outcome, tickAndProduce, failedReply, userId } = setup();
    const timedOut = await jobs.create(
      userId,
      jobInput({ expression: 'cron(0 8 * * ? *)', timeZone: 'UTC', prompt: 'Slow' }),
    );
    await jobs.create(
      userId,
      jobInput({ expression: 'cron(0 8 * * ? *)', timeZone: 'UTC', prompt: 'Stopped' }),
    );
    clock.now = Date.parse('2026-11-25T08:00:00Z');
    const fired = await tickAndProduce();
    const slow = fired.find((m) => m.text === 'Slow')!;
    const stopped = fired.find((m) => m.text === 'Stopped')!;
    const aborted = (message: MessageReceived, code: string) => ({
      detail: { ...failedReply(message).detail, status: 'aborted' as const, error: { code, message: code } },
    });

    // Act
    const retry = await outcome(aborted(slow, 'TURN_TIMEOUT'));
    const noRetry = await outcome(aborted(stopped, 'STOPPED'));

    // Assess
    expect(retry).toMatchObject({ kind: 'retrying', attempt: 1 });
    expect(noRetry).toEqual({ kind: 'ignored', reason: 'not-an-error' });
    expect((await jobs.get(userId, timedOut.jobId))?.lastFailure).toMatchObject({
      firedAt: '2026-11-25T08:00:00.000Z',
      attempts: 1,
      final: false,
      code: 'TURN_TIMEOUT',
    });
  });

  it('retries a one-time job that was deleted after its fire, and stops retrying a paused job', async () => {
    // Prepare
    const { clock, jobs, outcome, tickAndProduce, failedReply, userId } = setup();
    await jobs.create(
      userId,
      jobInput({ expression: 'at(2026-11-25T07:10:00)', timeZone: 'UTC', prompt: 'Once' }),
    );
    const recurring = await jobs.create(
      userId,
      jobInput({ expression: 'cron(10 7 * * ? *)', timeZone: 'UTC' }),
    );
    clock.now = START + 10 * 60_000;
    const fired = await tickAndProduce();
    const once = fired.find((m) => m.text === 'Once')!;
    const daily = fired.find((m) => m.text !== 'Once')!;
    await jobs.pause(userId, recurring.jobId);

    // Act
    const onceRetry = await outcome(failedReply(once));
    const pausedRetry = await outcome(failedReply(daily));
    clock.now += 60_000;
    const retried = await tickAndProduce();

    // Assess
    expect((await jobs.list(userId)).map((j) => j.jobId)).toEqual([recurring.jobId]);
    expect(onceRetry).toMatchObject({ kind: 'retrying', attempt: 1 });
    expect(pausedRetry).toEqual({ kind: 'ignored', reason: 'job-gone' });
    expect(retried.map((m) => m.text)).toEqual(['Once']);
  });

  it('ignores failed replies that are not scheduled runs', async () => {
    // Prepare
    const { outcome, failedReply } = setup();
    const stranger = failedReply({
      userId: 'someone',
      conversationId: 'c',
      messageId: 'sched-not-a-run',
      text: 'x',
      receivedAt: new Date(START).toISOString(),
      replyTo: { channel: 'web', address: { connectionId: 'c' } },
      sender: { channelUserId: 'someone' },
    });

    // Act
    const result = await outcome(stranger);

    // Assess
    expect(result).toEqual({ kind: 'ignored', reason: 'not-a-scheduled-run' });
  });
});
