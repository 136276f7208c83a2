import { createHash } from 'node:crypto';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { Publisher } from '../../bus/index.ts';
import { EventSources, type MessageReceived, ScheduleFiredSchema } from '../../schemas/index.ts';
import { isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';
import { claimMessage, markPublished, releaseClaim } from '../shared/dedupe.ts';
import { fromItem, isOneTimeJob } from './jobs.ts';

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
export function fireMessageId(scheduleId: string, firedAt: string): string {
  return `sched-${createHash('sha256').update(`${scheduleId}\n${firedAt}`).digest('hex').slice(0, 32)}`;
}

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
    const log = { userId: fired.userId, jobId: fired.scheduleId, firedAt: fired.firedAt };
    if (!Item) {
      logger.info('Dropped the fire of a deleted scheduled job', log);
      return { kind: 'dropped', reason: 'job-missing' };
    }
    const job = fromItem(Item);
    if (!job.enabled) {
      logger.info('Dropped the fire of a paused scheduled job', log);
      return { kind: 'dropped', reason: 'job-paused' };
    }
    if (job.endDate && Date.parse(fired.firedAt) >= Date.parse(job.endDate)) {
      logger.info('Dropped a fire at or after the job’s end date', log);
      return { kind: 'dropped', reason: 'job-ended' };
    }

    const firedAtMs = Date.parse(fired.firedAt);
    const dedupeKey = `schedule#${fired.scheduleId}#${firedAtMs}`;
    const messageId = fireMessageId(fired.scheduleId, new Date(firedAtMs).toISOString());
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
    try {
      await publisher.publish({ source: EventSources.schedule, detailType: 'MessageReceived.v1', detail });
    } catch (error) {
      await releaseClaim(storage, dedupeKey).catch(() => undefined);
      throw error;
    }
    await markPublished(storage, dedupeKey).catch(() => undefined);
    logger.info('Published a scheduled job’s message', { ...log, messageId });

    if (isOneTimeJob(job)) {
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
