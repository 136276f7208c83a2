import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import type { Publisher } from '../../bus/index.ts';
import {
  EventSources,
  ReplyCompletedSchema,
  type ScheduleFired,
  ScheduleFiredSchema,
} from '../../schemas/index.ts';
import { isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';
import { claimMessage, markPublished } from '../shared/dedupe.ts';
import type { FiredLogger } from './fired.ts';
import { fromItem, type JobFailure, nextJobFire } from './jobs.ts';

/** Fires a run of a job again later: a one-time EventBridge schedule on AWS, the local loop in `npm start`. */
export interface RetryFirer {
  /** Puts `fire` (a `ScheduleFired.v1` with its `attempt`) on the bus at `atMs`, once. */
  fireLater(fire: ScheduleFired, atMs: number): Promise<void>;
}

/** Runs of a job per fire, the first included. @default 3 */
export const MAX_RUN_ATTEMPTS = 3;
/** Wait before retry n (1-based): 1 minute, then 5 minutes. */
export const RETRY_BACKOFF_MS: readonly number[] = [60_000, 300_000];

export interface RunOutcomeHandlerDeps {
  storage: Storage;
  publisher: Publisher;
  retry: RetryFirer;
  logger: FiredLogger;
  /** @default Date.now */
  now?: () => number;
  /** @default MAX_RUN_ATTEMPTS (3) */
  maxAttempts?: number;
  /** @default RETRY_BACKOFF_MS (1 min, 5 min); the last entry serves later retries too */
  backoffMs?: readonly number[];
}

/**
 * A run that failed: an error reply, or one stopped at its deadline (`TURN_TIMEOUT`: with the LLM
 * unreachable OpenClaw keeps retrying until then). A run the user stopped is not a failure.
 */
function isFailedRun(reply: { status: string; error?: { code: string } | undefined }): boolean {
  return reply.status === 'error' || (reply.status === 'aborted' && reply.error?.code === 'TURN_TIMEOUT');
}

/** What became of one ReplyCompleted. */
export type RunOutcome =
  | { kind: 'ignored'; reason: 'not-an-error' | 'not-a-scheduled-run' | 'job-gone' | 'duplicate' }
  | { kind: 'retrying'; attempt: number; atMs: number }
  | { kind: 'reported'; attempts: number };

/**
 * The bus target for the agent's `ReplyCompleted.v1` of scheduled runs (`inReplyTo` starts `sched-`).
 * A run whose turn failed (status `error`, or `aborted` at its deadline: the LLM was down or too slow)
 * is fired again after a backoff, up to `maxAttempts` runs; after the last one the user gets a report on
 * the job's channel that names the job, so a failed run is never lost silently. Each failed attempt's
 * own error reply reaches the user too (the agent sends it); the report says what happens next. Each
 * failure is also recorded on the job (`lastFailure`). Deduplicated per failed message.
 */
export function createRunOutcomeHandler(deps: RunOutcomeHandlerDeps) {
  const { storage, publisher, retry, logger } = deps;
  const now = deps.now ?? Date.now;
  const maxAttempts = deps.maxAttempts ?? MAX_RUN_ATTEMPTS;
  const backoff = deps.backoffMs ?? RETRY_BACKOFF_MS;

  return async function handleRunOutcome(event: { detail: unknown }): Promise<RunOutcome> {
    const parsed = ReplyCompletedSchema.safeParse(event.detail);
    if (!parsed.success || !isFailedRun(parsed.data)) return { kind: 'ignored', reason: 'not-an-error' };
    const reply = parsed.data;
    const { Item: run } = await storage.ScheduleRunEntity.build(GetItemCommand)
      .key({ messageId: reply.inReplyTo })
      .options({ consistent: true })
      .send();
    const fire = run ? ScheduleFiredSchema.safeParse(JSON.parse(run.fire)) : undefined;
    if (!run || !fire?.success || run.userId !== reply.userId) {
      return { kind: 'ignored', reason: 'not-a-scheduled-run' };
    }
    const { Item: jobItem } = await storage.ScheduleJobEntity.build(GetItemCommand)
      .key({ userId: run.userId, jobId: run.jobId })
      .options({ consistent: true })
      .send();
    const job = jobItem ? fromItem(jobItem) : undefined;
    // Deleted or paused meanwhile: the user stopped it; a one-time job is gone by design after its fire.
    if (!run.oneTime && !job?.enabled) return { kind: 'ignored', reason: 'job-gone' };

    // The bus may deliver the failure twice: one retry (or one report) per failed message.
    const claim = await claimMessage(storage, `schedule-outcome#${reply.inReplyTo}`, reply.inReplyTo, now());
    if (!claim.claimed && claim.state === 'published') return { kind: 'ignored', reason: 'duplicate' };
    if (!claim.claimed) throw new Error(`Outcome of ${reply.inReplyTo} is being handled; retry later`);

    const attempt = fire.data.attempt ?? 0;
    const log = { userId: run.userId, jobId: run.jobId, firedAt: fire.data.firedAt, attempt };
    /** The job's record says what happened (GET /v1/schedules/{id}); a deleted job has nothing to keep it. */
    const recordFailure = async (final: boolean) => {
      if (!job) return;
      const failure: JobFailure = {
        firedAt: fire.data.firedAt,
        attempts: attempt + 1,
        final,
        code: reply.error?.code ?? 'UNKNOWN',
        message: (reply.error?.message ?? 'The run failed.').slice(0, 1000),
        at: new Date(now()).toISOString(),
      };
      await storage.ScheduleJobEntity.build(UpdateItemCommand)
        .item({ userId: run.userId, jobId: run.jobId, lastFailure: JSON.stringify(failure) })
        .options({ condition: { attr: 'jobId', exists: true } })
        .send()
        .catch((error: unknown) => {
          if (!isConditionalCheckFailure(error)) {
            logger.warn('Could not record a failed run on its job', { ...log, error: String(error) });
          }
        });
    };
    if (attempt + 1 < maxAttempts) {
      const atMs = now() + (backoff[Math.min(attempt, backoff.length - 1)] ?? 60_000);
      await retry.fireLater({ ...fire.data, attempt: attempt + 1 }, atMs);
      await recordFailure(false);
      await markPublished(storage, `schedule-outcome#${reply.inReplyTo}`).catch(() => undefined);
      logger.info('A scheduled run failed; retrying it', { ...log, at: new Date(atMs).toISOString() });
      return { kind: 'retrying', attempt: attempt + 1, atMs };
    }

    const next = job && !run.oneTime ? nextJobFire(job, new Date(now())) : undefined;
    const shortId = run.jobId.slice(0, 8);
    const prompt = fire.data.prompt.length > 60 ? `${fire.data.prompt.slice(0, 59)}…` : fire.data.prompt;
    const text =
      `Your scheduled job ${shortId} (“${prompt}”, due ${fire.data.firedAt}) failed ${attempt + 1} times` +
      `${reply.error?.message ? `; last error: ${reply.error.message}` : ''}. ` +
      (next ? `It runs again at ${next.toISOString()}.` : 'It will not run again.');
    await publisher.publish({
      source: EventSources.schedule,
      detailType: 'ReplyCompleted.v1',
      detail: {
        userId: run.userId,
        conversationId: fire.data.conversationId,
        replyTo: fire.data.replyTo,
        inReplyTo: `${reply.inReplyTo}-report`,
        seq: 0,
        status: 'error',
        text,
        error: { code: 'SCHEDULED_RUN_FAILED', message: text },
      },
    });
    await recordFailure(true);
    await markPublished(storage, `schedule-outcome#${reply.inReplyTo}`).catch(() => undefined);
    logger.warn('A scheduled run failed on every attempt; told the user', log);
    return { kind: 'reported', attempts: attempt + 1 };
  };
}
