import type { Publisher } from '../../bus/index.ts';
import { EventSources, type ScheduleFired } from '../../schemas/index.ts';
import { parseScheduleExpression } from './expression.ts';
import { fireMessageId } from './fired.ts';
import { isOneTimeJob, type JobRef, type JobScheduler, nextJobFire, type ScheduleJob } from './jobs.ts';
import type { RetryFirer } from './run-outcome.ts';

/** The logging the loop needs; Powertools' Logger fits. */
export interface LocalSchedulerLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface LocalSchedulerOptions {
  /** Where fires go: `ScheduleFired.v1` from `openclaw.scheduler`, as EventBridge Scheduler sends them. */
  publisher: Publisher;
  logger: LocalSchedulerLogger;
  /** @default Date.now */
  now?: () => number;
  /**
   * How long a fire whose publish keeps failing is retried (on every tick) before it is given up,
   * like the AWS schedule's RetryPolicy `MaximumEventAgeInSeconds`.
   * @default 3_600_000 (1 hour)
   */
  maxEventAgeMs?: number;
}

/** The local JobScheduler plus its loop; also the RetryFirer of failed runs. */
export interface LocalScheduler extends JobScheduler, RetryFirer {
  /** Takes jobs read at start-up (`listAllJobs`); fires missed while the process was down are skipped. */
  load(jobs: readonly ScheduleJob[]): Promise<void>;
  /** Fires every enabled job that is due at `now()`; returns how many fires were published. */
  tick(): Promise<number>;
  /** The next fire the loop holds for a job (epoch ms), or undefined (paused, finished, unknown). */
  nextFireAt(job: JobRef): number | undefined;
  /** Ticks on a real timer (`npm start`). @param intervalMs @default 1000 */
  start(intervalMs?: number): void;
  stop(): void;
}

interface Entry {
  job: ScheduleJob;
  next: number | undefined;
}

const keyOf = (job: JobRef) => `${job.userId}\n${job.jobId}`;

/**
 * The JobScheduler for local mode: keeps the enabled jobs in memory and, on each `tick()`, publishes a
 * `ScheduleFired.v1` for every due fire, with `firedAt` the scheduled time (as AWS's
 * `<aws.scheduler.scheduled-time>`). Next fires come from `nextJobFire` (rate jobs count from their
 * creation; cron in the job's zone, DST as AWS); `at()` jobs are forgotten after their fire (the
 * ScheduleFired handler deletes the job itself). A failed publish stays due and is retried each tick
 * for up to `maxEventAgeMs`; then it is given up with an error log and a best-effort `ReplyCompleted`
 * error to the job's replyTo (when the bus is down that too may fail, and the log is what remains).
 */
export function createLocalScheduler(options: LocalSchedulerOptions): LocalScheduler {
  const { publisher, logger } = options;
  const now = options.now ?? Date.now;
  const maxEventAgeMs = options.maxEventAgeMs ?? 3_600_000;
  const entries = new Map<string, Entry>();
  // Retries of failed runs: one-time fires, like the one-time schedules they are on AWS.
  const retries: { fire: ScheduleFired; atMs: number }[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<number> | undefined;

  function plan(job: ScheduleJob, after: number): number | undefined {
    if (!job.enabled) return undefined;
    return nextJobFire(
      job,
      new Date(after),
      parseScheduleExpression(job.expression, job.timeZone),
    )?.getTime();
  }

  async function upsert(job: ScheduleJob): Promise<void> {
    // Validates the expression as AWS would (a throw makes the store undo its write).
    entries.set(keyOf(job), { job, next: plan(job, now() - 1) });
  }

  async function giveUp(entry: Entry, firedAt: number, error: unknown): Promise<void> {
    const { job } = entry;
    const firedAtIso = new Date(firedAt).toISOString();
    logger.error('Gave up a scheduled job’s fire: the bus refused it for too long', {
      userId: job.userId,
      jobId: job.jobId,
      firedAt: firedAtIso,
      error: String(error),
    });
    await publisher
      .publish({
        source: EventSources.schedule,
        detailType: 'ReplyCompleted.v1',
        detail: {
          userId: job.userId,
          conversationId: job.conversationId,
          replyTo: job.replyTo,
          inReplyTo: fireMessageId(job.jobId, firedAtIso),
          seq: 0,
          status: 'error',
          text: '',
          error: {
            code: 'SCHEDULE_NOT_DELIVERED',
            message: `Your scheduled job due at ${firedAtIso} could not be started; it will run again at its next time.`,
          },
        },
      })
      .catch(() => undefined);
  }

  function advance(entry: Entry, firedAt: number, at: number): void {
    if (isOneTimeJob(entry.job)) {
      entries.delete(keyOf(entry.job));
      return;
    }
    // From whichever is later: fires missed while the loop could not run are skipped, not replayed in a burst.
    entry.next = plan(entry.job, Math.max(firedAt, at));
  }

  async function runTick(): Promise<number> {
    const at = now();
    let published = 0;
    for (const retry of retries.filter((r) => r.atMs <= at)) {
      try {
        await publisher.publish({
          source: EventSources.scheduler,
          detailType: 'ScheduleFired.v1',
          detail: retry.fire,
        });
        retries.splice(retries.indexOf(retry), 1);
        published += 1;
      } catch (error) {
        logger.warn('Could not publish a retry of a scheduled run; retrying on the next tick', {
          jobId: retry.fire.scheduleId,
          error: String(error),
        });
      }
    }
    for (const entry of [...entries.values()]) {
      const firedAt = entry.next;
      if (firedAt === undefined || firedAt > at) continue;
      const { job } = entry;
      const detail: ScheduleFired = {
        userId: job.userId,
        scheduleId: job.jobId,
        firedAt: new Date(firedAt).toISOString(),
        prompt: job.prompt,
        conversationId: job.conversationId,
        replyTo: job.replyTo,
        ...(job.runtime ? { runtime: job.runtime } : {}),
      };
      try {
        await publisher.publish({ source: EventSources.scheduler, detailType: 'ScheduleFired.v1', detail });
        published += 1;
      } catch (error) {
        if (at - firedAt < maxEventAgeMs) {
          logger.warn('Could not publish a scheduled job’s fire; retrying on the next tick', {
            jobId: job.jobId,
            firedAt: detail.firedAt,
            error: String(error),
          });
          continue;
        }
        await giveUp(entry, firedAt, error);
      }
      // The job may have been removed or changed while we published.
      if (entries.get(keyOf(job)) === entry) advance(entry, firedAt, at);
    }
    return published;
  }

  return {
    upsert,
    pause: upsert,
    resume: upsert,
    async remove(job: JobRef): Promise<void> {
      entries.delete(keyOf(job));
    },

    async fireLater(fire: ScheduleFired, atMs: number): Promise<void> {
      retries.push({ fire, atMs });
    },

    async load(jobs: readonly ScheduleJob[]): Promise<void> {
      for (const job of jobs) {
        try {
          await upsert(job);
        } catch (error) {
          logger.error('Skipped a stored job whose schedule does not parse', {
            jobId: job.jobId,
            error: String(error),
          });
        }
      }
    },

    tick(): Promise<number> {
      // One tick at a time: a slow publish must not let the timer fire the same job twice.
      running ??= runTick().finally(() => {
        running = undefined;
      });
      return running;
    },

    nextFireAt(job: JobRef): number | undefined {
      return entries.get(keyOf(job))?.next;
    },

    start(intervalMs = 1000): void {
      if (timer) return;
      timer = setInterval(() => {
        this.tick().catch((error: unknown) =>
          logger.error('Local scheduler tick failed', { error: String(error) }),
        );
      }, intervalMs);
      timer.unref();
    },

    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
