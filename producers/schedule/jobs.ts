import { randomUUID } from 'node:crypto';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { ScanCommand } from 'dynamodb-toolbox/table/actions/scan';
import { z } from 'zod';
import { IsoDateTimeSchema } from '../../schemas/common.ts';
import {
  ConversationIdSchema,
  type ReplyTo,
  ReplyToSchema,
  type RuntimePreference,
  RuntimePreferenceSchema,
} from '../../schemas/index.ts';
import { isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';
import { ScheduleExpressionError } from './errors.ts';
import {
  MAX_EXPRESSION_LENGTH,
  nextFireTime,
  type ParsedSchedule,
  parseScheduleExpression,
} from './expression.ts';
import {
  JobConflictError,
  type JobField,
  JobLimitError,
  JobNotFoundError,
  JobSchedulerError,
  JobValidationError,
} from './job-errors.ts';
import { minimumIntervalMs } from './minimum-interval.ts';

/** Most jobs one user may have (enabled or paused). */
export const MAX_JOBS_PER_USER = 20;
/** Smallest gap between two fires of one job: 5 minutes. */
export const MIN_JOB_INTERVAL_MS = 5 * 60_000;
/** Longest prompt a job may carry, in characters. */
export const MAX_PROMPT_CHARS = 4000;

const SK_PREFIX = 'SCHEDULE#';

/** A user's scheduled agent job, as the store returns it. */
export interface ScheduleJob {
  userId: string;
  jobId: string;
  prompt: string;
  /** Canonical expression (parseScheduleExpression's `expression`). */
  expression: string;
  timeZone: string;
  replyTo: ReplyTo;
  conversationId: string;
  runtime?: RuntimePreference;
  enabled: boolean;
  /** ISO; no fire at or after it. */
  endDate?: string;
  createdAt: string;
  updatedAt: string;
  /** Epoch ms of the next fire, as computed at the last write; absent when paused or finished. */
  nextFireAt?: number;
  /** The latest run whose turn failed, kept until a later run fails (a run that succeeds leaves it). */
  lastFailure?: JobFailure;
  /** Increments on every change; edits are conditional on it. */
  version: number;
}

/** A failed run of a job, as the run-outcome handler records it on the job. */
export const JobFailureSchema = z.object({
  /** The fire this run belongs to (ISO): the scheduled time, the same for all its attempts. */
  firedAt: IsoDateTimeSchema,
  /** Runs of that fire so far, the first included. */
  attempts: z.number().int().positive(),
  /** True when no attempt is left: the user was told and the fire is given up. */
  final: z.boolean(),
  /** The failed reply's error code (`LLM_ERROR`, `TURN_TIMEOUT`, …). */
  code: z.string().max(64),
  /** The failed reply's message, as the user saw it. */
  message: z.string().max(1000),
  /** When it was recorded (ISO). */
  at: IsoDateTimeSchema,
});
export type JobFailure = z.infer<typeof JobFailureSchema>;

/** Names one job. */
export interface JobRef {
  userId: string;
  jobId: string;
}

/**
 * What actually fires jobs: EventBridge Scheduler on AWS (`aws-scheduler.ts`), the in-process loop
 * locally (`local-scheduler.ts`). The store calls it after each change it wrote to the table; a throw
 * makes the store undo its write.
 */
export interface JobScheduler {
  /** Creates or replaces the job's schedule (enabled or not, as `job.enabled` says). */
  upsert(job: ScheduleJob): Promise<void>;
  /** Removes the job's schedule; a schedule that is already gone is not an error. */
  remove(job: JobRef): Promise<void>;
  /** Stops firing; `job.enabled` is already false. */
  pause(job: ScheduleJob): Promise<void>;
  /** Fires again; `job.enabled` is already true. */
  resume(job: ScheduleJob): Promise<void>;
}

/** A new job, as a user (or the agent on their behalf) asks for it. */
export const JobInputSchema = z.strictObject({
  prompt: z.string().trim().min(1).max(MAX_PROMPT_CHARS),
  expression: z.string().trim().min(1).max(MAX_EXPRESSION_LENGTH),
  /** IANA name. @default 'UTC' */
  timeZone: z.string().min(1).max(64).default('UTC'),
  replyTo: ReplyToSchema,
  conversationId: ConversationIdSchema,
  runtime: RuntimePreferenceSchema.optional(),
  endDate: IsoDateTimeSchema.optional(),
});
export type JobInput = z.input<typeof JobInputSchema>;

/** An edit: any subset of the fields; `null` clears `runtime` or `endDate`. */
export const JobEditSchema = z.strictObject({
  prompt: JobInputSchema.shape.prompt.optional(),
  expression: JobInputSchema.shape.expression.optional(),
  timeZone: z.string().min(1).max(64).optional(),
  replyTo: ReplyToSchema.optional(),
  conversationId: ConversationIdSchema.optional(),
  runtime: RuntimePreferenceSchema.nullable().optional(),
  endDate: IsoDateTimeSchema.nullable().optional(),
});
export type JobEdit = z.input<typeof JobEditSchema>;

const JOB_FIELDS = new Set<string>([
  'prompt',
  'expression',
  'timeZone',
  'replyTo',
  'conversationId',
  'runtime',
  'endDate',
]);

function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const top = String(issue?.path[0] ?? '');
  const field = (JOB_FIELDS.has(top) ? top : 'input') as JobField;
  const where = issue?.path.length ? issue.path.join('.') : 'the job';
  throw new JobValidationError(field, `${where}: ${issue?.message ?? 'invalid'}`, { cause: parsed.error });
}

/** Parses a job's expression in its zone, turning the parser's error into a JobValidationError. */
function parseSchedule(expression: string, timeZone: string): ParsedSchedule {
  try {
    return parseScheduleExpression(expression, timeZone);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) {
      throw new JobValidationError(error.field === 'timeZone' ? 'timeZone' : 'expression', error.message, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * The job's next fire strictly after `after`, with the semantics the AWS schedule has: rate jobs count
 * from their creation, `endDate` ends them, `at()` fires once. Undefined when it never fires again.
 */
export function nextJobFire(
  job: Pick<ScheduleJob, 'expression' | 'timeZone' | 'createdAt' | 'endDate'>,
  after: Date,
  schedule: ParsedSchedule = parseScheduleExpression(job.expression, job.timeZone),
): Date | undefined {
  return nextFireTime(schedule, after, {
    ...(schedule.kind === 'rate' ? { startDate: new Date(job.createdAt) } : {}),
    ...(job.endDate ? { endDate: new Date(job.endDate) } : {}),
  });
}

/** True for one-time `at()` jobs, which are removed after their fire. */
export function isOneTimeJob(job: Pick<ScheduleJob, 'expression'>): boolean {
  return job.expression.startsWith('at(');
}

type JobItem = {
  userId: string;
  jobId: string;
  prompt: string;
  expression: string;
  timeZone: string;
  replyTo: string;
  conversationId: string;
  runtime?: string;
  enabled: boolean;
  endDate?: string;
  createdAt: string;
  updatedAt: string;
  nextFireAt?: number;
  lastFailure?: string;
  version: number;
};

function toItem(job: ScheduleJob): JobItem {
  const { lastFailure, ...rest } = job;
  return {
    ...rest,
    replyTo: JSON.stringify(job.replyTo),
    ...(lastFailure ? { lastFailure: JSON.stringify(lastFailure) } : {}),
  };
}

/** A stored `lastFailure`; a damaged one is left out (it is a record, not something the job needs). */
function failureOf(text: string | undefined): JobFailure | undefined {
  if (text === undefined) return undefined;
  try {
    return JobFailureSchema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}

/** Reads a stored item back into a job, validating the JSON and enums it holds. */
export function fromItem(item: JobItem): ScheduleJob {
  const { runtime, replyTo, lastFailure, ...rest } = item;
  const failure = failureOf(lastFailure);
  return {
    ...rest,
    replyTo: ReplyToSchema.parse(JSON.parse(replyTo)),
    ...(runtime === undefined ? {} : { runtime: RuntimePreferenceSchema.parse(runtime) }),
    ...(failure ? { lastFailure: failure } : {}),
  };
}

export interface JobStoreOptions {
  storage: Storage;
  scheduler: JobScheduler;
  /** @default Date.now */
  now?: () => number;
  /** @default MAX_JOBS_PER_USER (20) */
  maxJobsPerUser?: number;
  /** @default MIN_JOB_INTERVAL_MS (5 minutes) */
  minIntervalMs?: number;
  /** @default crypto.randomUUID */
  newJobId?: () => string;
}

/** Expected version for a change; without it the change applies to whatever version it reads. */
export interface VersionGuard {
  version?: number;
}

/**
 * Scheduled jobs of one user: create, list, get, edit, pause, resume, delete. Input is validated with
 * clear errors (`JobValidationError`, `JobLimitError`); every write is conditional on the version it
 * read (`JobConflictError`). Order of a change: the table first, then the scheduler; if the scheduler
 * refuses, the table write is undone and `JobSchedulerError` is thrown (`restored` says whether the undo
 * worked), so the two never disagree silently.
 *
 * @example
 * const jobs = createJobStore({ storage, scheduler: createAwsJobScheduler() });
 * await jobs.create('user-1', { prompt: 'Summarise my inbox', expression: 'cron(0 8 ? * MON-FRI *)',
 *   timeZone: 'Europe/Berlin', replyTo, conversationId: 'morning-brief' });
 */
export function createJobStore(options: JobStoreOptions) {
  const { storage, scheduler } = options;
  const entity = storage.ScheduleJobEntity;
  const now = options.now ?? Date.now;
  const maxJobs = options.maxJobsPerUser ?? MAX_JOBS_PER_USER;
  const minInterval = options.minIntervalMs ?? MIN_JOB_INTERVAL_MS;
  const newJobId = options.newJobId ?? randomUUID;

  /** Checks the schedule of a job about to be written and returns its next fire. */
  function checkSchedule(job: ScheduleJob, at: number, checkInterval: boolean): number | undefined {
    const schedule = parseSchedule(job.expression, job.timeZone);
    if (job.endDate !== undefined) {
      if (schedule.kind === 'at') {
        throw new JobValidationError('endDate', 'endDate: a one-time at() job has no end date; remove it.');
      }
      if (Date.parse(job.endDate) <= at) {
        throw new JobValidationError('endDate', 'endDate: must be in the future.');
      }
    }
    const next = nextJobFire(job, new Date(at - 1), schedule);
    if (!next) {
      throw new JobValidationError(
        'expression',
        schedule.kind === 'at'
          ? `${schedule.expression} in ${schedule.timeZone} is in the past; choose a later time.`
          : `${schedule.expression} never fires again${job.endDate ? ' before endDate' : ''}.`,
      );
    }
    if (checkInterval) {
      const gap = minimumIntervalMs(schedule, { from: new Date(at) });
      if (gap !== undefined && gap < minInterval) {
        throw new JobLimitError(
          'interval',
          `${schedule.expression} fires every ${Math.round(gap / 60_000)} minute(s) at times; jobs may fire at most every ${Math.round(minInterval / 60_000)} minutes.`,
        );
      }
    }
    return job.enabled ? next.getTime() : undefined;
  }

  /**
   * The stored `nextFireAt` is the one computed at the job's last write; once that time has passed (the
   * job fired since), readers get the fire after now instead, or none for a job that will not fire again.
   */
  function withUpcomingFire(job: ScheduleJob): ScheduleJob {
    if (job.nextFireAt === undefined || job.nextFireAt >= now()) return job;
    const { nextFireAt: _passed, ...rest } = job;
    const next = nextJobFire(job, new Date(now()));
    return next ? { ...rest, nextFireAt: next.getTime() } : rest;
  }

  async function read(userId: string, jobId: string): Promise<ScheduleJob | undefined> {
    const { Item } = await entity
      .build(GetItemCommand)
      .key({ userId, jobId })
      .options({ consistent: true })
      .send();
    return Item ? withUpcomingFire(fromItem(Item)) : undefined;
  }

  async function readGuarded(userId: string, jobId: string, guard: VersionGuard): Promise<ScheduleJob> {
    const job = await read(userId, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    if (guard.version !== undefined && guard.version !== job.version) {
      throw new JobConflictError(jobId, job.version);
    }
    return job;
  }

  /** Writes `next` over `previous` if the table still holds `previous`. */
  async function replace(previous: ScheduleJob, next: ScheduleJob): Promise<void> {
    try {
      await entity
        .build(PutItemCommand)
        .item(toItem(next))
        .options({ condition: { attr: 'version', eq: previous.version } })
        .send();
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      throw new JobConflictError(previous.jobId, (await read(previous.userId, previous.jobId))?.version);
    }
  }

  /** Tells the scheduler; on refusal puts the table back with `undo` and throws JobSchedulerError. */
  async function follow(
    action: JobSchedulerError['action'],
    job: JobRef,
    call: () => Promise<void>,
    undo: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await call();
    } catch (error) {
      const restored = await undo().then(
        () => true,
        () => false,
      );
      throw new JobSchedulerError(action, job.jobId, restored, { cause: error });
    }
  }

  async function list(userId: string): Promise<ScheduleJob[]> {
    const { Items = [] } = await storage.table
      .build(QueryCommand)
      .entities(entity)
      .query({ partition: `USER#${userId}`, range: { beginsWith: SK_PREFIX } })
      .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY })
      .send();
    return Items.map((item) => withUpcomingFire(fromItem(item)));
  }

  /** Edits, pauses and resumes: read, build the next version, write it, then tell the scheduler. */
  async function change(
    action: 'update' | 'pause' | 'resume',
    userId: string,
    jobId: string,
    guard: VersionGuard,
    build: (job: ScheduleJob) => ScheduleJob,
    checkInterval: boolean,
  ): Promise<ScheduleJob> {
    const previous = await readGuarded(userId, jobId, guard);
    const at = now();
    const draft = build(previous);
    const { nextFireAt: _stale, ...rest } = draft;
    const base: ScheduleJob = {
      ...rest,
      updatedAt: new Date(at).toISOString(),
      version: previous.version + 1,
    };
    const nextFireAt = checkSchedule(base, at, checkInterval);
    const next: ScheduleJob = nextFireAt === undefined ? base : { ...base, nextFireAt };
    await replace(previous, next);
    const call = action === 'update' ? scheduler.upsert : scheduler[action];
    await follow(
      action,
      next,
      () => call.call(scheduler, next),
      () => replace(next, previous),
    );
    return next;
  }

  return {
    /**
     * The store's clock: what it validates times against and computes next fires from. Relative times
     * (`/schedule in 2h`) count from it too, so they agree with the scheduler (a test's clock locally).
     */
    now,

    /** The user's jobs, in job id order. */
    list,

    /** One job, or undefined. */
    async get(userId: string, jobId: string): Promise<ScheduleJob | undefined> {
      return read(userId, jobId);
    },

    /**
     * Creates an enabled job. Throws JobValidationError (bad input, at() in the past, endDate not in
     * the future, a schedule that never fires), JobLimitError (20 jobs, fires more often than every 5
     * minutes) or JobSchedulerError.
     */
    async create(userId: string, input: JobInput): Promise<ScheduleJob> {
      const parsed = parseInput(JobInputSchema, input);
      const at = now();
      const iso = new Date(at).toISOString();
      const schedule = parseSchedule(parsed.expression, parsed.timeZone);
      const base: ScheduleJob = {
        userId,
        jobId: newJobId(),
        prompt: parsed.prompt,
        expression: schedule.expression,
        timeZone: schedule.timeZone,
        replyTo: parsed.replyTo,
        conversationId: parsed.conversationId,
        ...(parsed.runtime ? { runtime: parsed.runtime } : {}),
        enabled: true,
        ...(parsed.endDate ? { endDate: new Date(parsed.endDate).toISOString() } : {}),
        createdAt: iso,
        updatedAt: iso,
        version: 1,
      };
      const nextFireAt = checkSchedule(base, at, true);
      const job: ScheduleJob = nextFireAt === undefined ? base : { ...base, nextFireAt };
      // Counted before the write, so two creates racing at 19 jobs may both pass: the limit is a
      // guard against runaway use, not an exact quota.
      if ((await list(userId)).length >= maxJobs) {
        throw new JobLimitError('jobs', `You have ${maxJobs} scheduled jobs already; delete one first.`);
      }
      await entity
        .build(PutItemCommand)
        .item(toItem(job))
        .options({ condition: { attr: 'jobId', exists: false } })
        .send();
      await follow(
        'create',
        job,
        () => scheduler.upsert(job),
        () =>
          entity
            .build(DeleteItemCommand)
            .key({ userId, jobId: job.jobId })
            .options({ condition: { attr: 'version', eq: job.version } })
            .send(),
      );
      return job;
    },

    /** Edits a job (any subset of fields). Throws like `create`, and JobNotFoundError / JobConflictError. */
    async update(
      userId: string,
      jobId: string,
      edit: JobEdit,
      guard: VersionGuard = {},
    ): Promise<ScheduleJob> {
      const parsed = parseInput(JobEditSchema, edit);
      // A new expression or zone is normalised to canonical form (and validated) before it is stored.
      return change(
        'update',
        userId,
        jobId,
        guard,
        (job) => {
          const { runtime, endDate, ...fields } = parsed;
          const merged: ScheduleJob = { ...job };
          for (const [key, value] of Object.entries(fields)) {
            if (value !== undefined) Object.assign(merged, { [key]: value });
          }
          if (runtime === null) delete merged.runtime;
          else if (runtime !== undefined) merged.runtime = runtime;
          if (endDate === null) delete merged.endDate;
          else if (endDate !== undefined) merged.endDate = new Date(endDate).toISOString();
          const schedule = parseSchedule(merged.expression, merged.timeZone);
          return { ...merged, expression: schedule.expression, timeZone: schedule.timeZone };
        },
        parsed.expression !== undefined || parsed.timeZone !== undefined,
      );
    },

    /** Stops a job firing until `resume`. */
    async pause(userId: string, jobId: string, guard: VersionGuard = {}): Promise<ScheduleJob> {
      return change('pause', userId, jobId, guard, (job) => ({ ...job, enabled: false }), false);
    },

    /** Fires a paused job again; refused (JobValidationError) when it would never fire again. */
    async resume(userId: string, jobId: string, guard: VersionGuard = {}): Promise<ScheduleJob> {
      return change('resume', userId, jobId, guard, (job) => ({ ...job, enabled: true }), false);
    },

    /** Deletes a job and its schedule. */
    async delete(userId: string, jobId: string, guard: VersionGuard = {}): Promise<void> {
      const previous = await readGuarded(userId, jobId, guard);
      try {
        await entity
          .build(DeleteItemCommand)
          .key({ userId, jobId })
          .options({ condition: { attr: 'version', eq: previous.version } })
          .send();
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        throw new JobConflictError(jobId, (await read(userId, jobId))?.version);
      }
      await follow(
        'delete',
        previous,
        () => scheduler.remove({ userId, jobId }),
        () =>
          entity
            .build(PutItemCommand)
            .item(toItem(previous))
            .options({ condition: { attr: 'jobId', exists: false } })
            .send(),
      );
    },
  };
}

/** The store `createJobStore` returns. */
export type JobStore = ReturnType<typeof createJobStore>;

/** Every job of every user (a Scan): for the local scheduler at start-up, never for a request path. */
export async function listAllJobs(storage: Storage): Promise<ScheduleJob[]> {
  const { Items = [] } = await storage.table
    .build(ScanCommand)
    .entities(storage.ScheduleJobEntity)
    .options({ maxPages: Number.POSITIVE_INFINITY })
    .send();
  return Items.map(fromItem);
}
