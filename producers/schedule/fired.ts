import { createHash } from 'node:crypto';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import type { Publisher } from '../../bus/index.ts';
import {
  EventSources,
  type MessageReceived,
  type ScheduleFired,
  ScheduleFiredSchema,
} from '../../schemas/index.ts';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';
import { claimMessage, markPublished, releaseClaim } from '../shared/dedupe.ts';
import { fromItem, isOneTimeJob, type ScheduleJob } from './jobs.ts';

/** The logging the handler needs; Powertools' Logger fits. */
export interface FiredLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface ScheduleFiredHandlerDeps {
  storage: Storage;
  publisher: Publisher;
  logger: FiredLogger;
  /** @default Date.now */
  now?: () => number;
}

/** What became of one `ScheduleFired` event. */
export type FiredResult =
  | { kind: 'published'; messageId: string }
  /** This fire was published before (the bus or the scheduler delivered it again). */
  | { kind: 'duplicate'; messageId: string }
  /** Dropped with a log: malformed, or the job is gone, paused or past its end. */
  | { kind: 'dropped'; reason: 'invalid' | 'job-missing' | 'job-paused' | 'job-ended' };

/** The message id of one fire: the same for every delivery of it, so downstream dedupe agrees with ours. */
export function fireMessageId(scheduleId: string, firedAt: string, attempt = 0): string {
  // Attempt 0 keeps the original form; each retry of a run is a message of its own.
  const seed = attempt > 0 ? `${scheduleId}\n${firedAt}\n${attempt}` : `${scheduleId}\n${firedAt}`;
  return `sched-${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
}

/** How long a run is remembered for its retries and report: longer than every retry takes. */
const RUN_TTL_SECONDS = 2 * 24 * 60 * 60;

/**
 * The bus target for `ScheduleFired.v1` (source `openclaw.scheduler`): turns a fire of a user's job into
 * a `MessageReceived.v1` (source `openclaw.schedule`) carrying the job's prompt, conversation, reply
 * address and runtime. The job is read again, so a fire that arrives after a pause, an edit or a delete
 * follows the table, not the schedule. Deduplicated on job and scheduled time. One-time `at()` jobs are
 * deleted after their fire (AWS deletes their schedule itself). Throws only when the bus should retry.
 */
export function createScheduleFiredHandler(deps: ScheduleFiredHandlerDeps) {
  const { storage, publisher, logger } = deps;
  const now = deps.now ?? Date.now;

  /** The job as its previous run recorded it, when that run was of a one-time job (now deleted). */
  async function retriedOneTimeRun(
    fired: ScheduleFired,
    firedAtMs: number,
    attempt: number,
  ): Promise<ScheduleJob | undefined> {
    const previous = fireMessageId(fired.scheduleId, new Date(firedAtMs).toISOString(), attempt - 1);
    const { Item: run } = await storage.ScheduleRunEntity.build(GetItemCommand)
      .key({ messageId: previous })
      .options({ consistent: true })
      .send();
    if (!run?.oneTime || run.userId !== fired.userId || run.jobId !== fired.scheduleId) return undefined;
    const at = new Date(firedAtMs).toISOString();
    return {
      userId: fired.userId,
      jobId: fired.scheduleId,
      prompt: fired.prompt,
      expression: `at(${at.slice(0, 19)})`,
      timeZone: 'UTC',
      replyTo: fired.replyTo,
      conversationId: fired.conversationId,
      ...(fired.runtime ? { runtime: fired.runtime } : {}),
      enabled: true,
      createdAt: at,
      updatedAt: at,
      version: 0,
    };
  }

  return async function handleScheduleFired(event: { detail: unknown }): Promise<FiredResult> {
    const parsed = ScheduleFiredSchema.safeParse(event.detail);
    if (!parsed.success) {
      // A retry cannot fix a malformed event: drop it, loudly.
      logger.warn('Dropped a malformed ScheduleFired event', {
        issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      });
      return { kind: 'dropped', reason: 'invalid' };
    }
    const fired = parsed.data;
    const key = { userId: fired.userId, jobId: fired.scheduleId };
    const { Item } = await storage.ScheduleJobEntity.build(GetItemCommand)
      .key(key)
      .options({ consistent: true })
      .send();
    const attempt = fired.attempt ?? 0;
    const log = { userId: fired.userId, jobId: fired.scheduleId, firedAt: fired.firedAt, attempt };
    const firedAtMs = Date.parse(fired.firedAt);
    // A one-time job is deleted after its first fire; its retries run from the run they retry.
    const retried = !Item && attempt > 0 ? await retriedOneTimeRun(fired, firedAtMs, attempt) : undefined;
    if (!Item && !retried) {
      logger.info('Dropped the fire of a deleted scheduled job', log);
      return { kind: 'dropped', reason: 'job-missing' };
    }
    const job = Item ? fromItem(Item) : retried!;
    if (!job.enabled) {
      logger.info('Dropped the fire of a paused scheduled job', log);
      return { kind: 'dropped', reason: 'job-paused' };
    }
    if (job.endDate && Date.parse(fired.firedAt) >= Date.parse(job.endDate)) {
      logger.info('Dropped a fire at or after the job’s end date', log);
      return { kind: 'dropped', reason: 'job-ended' };
    }

    const dedupeKey = `schedule#${fired.scheduleId}#${firedAtMs}${attempt > 0 ? `#${attempt}` : ''}`;
    const messageId = fireMessageId(fired.scheduleId, new Date(firedAtMs).toISOString(), attempt);
    const claim = await claimMessage(storage, dedupeKey, messageId, now());
    if (!claim.claimed) {
      if (claim.state === 'published') return { kind: 'duplicate', messageId: claim.existingMessageId };
      // Another delivery is publishing it right now; if that one dies, our retry finds the claim expired.
      throw new Error(`Fire ${dedupeKey} is being published by another delivery; retry later`);
    }
    const detail: MessageReceived = {
      userId: job.userId,
      conversationId: job.conversationId,
      messageId,
      text: job.prompt,
      receivedAt: new Date(now()).toISOString(),
      replyTo: job.replyTo,
      sender: { channelUserId: `schedule:${job.jobId}`, displayName: 'Scheduled job' },
      ...(job.runtime ? { runtime: job.runtime } : {}),
    };
    const run: ScheduleFired = {
      userId: job.userId,
      scheduleId: job.jobId,
      firedAt: new Date(firedAtMs).toISOString(),
      prompt: job.prompt,
      conversationId: job.conversationId,
      replyTo: job.replyTo,
      ...(job.runtime ? { runtime: job.runtime } : {}),
      attempt,
    };
    try {
      // Recorded before the message exists, so a failed turn always finds what to retry.
      await storage.ScheduleRunEntity.build(PutItemCommand)
        .item({
          messageId,
          userId: job.userId,
          jobId: job.jobId,
          fire: JSON.stringify(run),
          oneTime: isOneTimeJob(job),
          expiresAt: epochSeconds(now()) + RUN_TTL_SECONDS,
        })
        .send();
      await publisher.publish({ source: EventSources.schedule, detailType: 'MessageReceived.v1', detail });
    } catch (error) {
      await releaseClaim(storage, dedupeKey).catch(() => undefined);
      throw error;
    }
    await markPublished(storage, dedupeKey).catch(() => undefined);
    logger.info('Published a scheduled job’s message', { ...log, messageId });

    if (Item && isOneTimeJob(job)) {
      try {
        // Conditional on the version we read: an edit meanwhile (to a new at() time) keeps the job.
        await storage.ScheduleJobEntity.build(DeleteItemCommand)
          .key(key)
          .options({ condition: { attr: 'version', eq: job.version } })
          .send();
      } catch (error) {
        if (!isConditionalCheckFailure(error)) {
          logger.warn('Could not delete a one-time job after its fire', { ...log, error: String(error) });
        }
      }
    }
    return { kind: 'published', messageId };
  };
}
