import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  SchedulerClient,
  type Target,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { traced } from '../../bus/observability.ts';
import { EventSources, type ScheduleFired } from '../../schemas/index.ts';
import { isOneTimeJob, type JobRef, type JobScheduler, type ScheduleJob } from './jobs.ts';
import type { RetryFirer } from './run-outcome.ts';

/** EventBridge Scheduler's context attribute for the time the fire was due, substituted into `Input`. */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

/** The detail-type and source a fired schedule puts on the bus. */
export const SCHEDULE_FIRED_DETAIL_TYPE = 'ScheduleFired.v1';

export interface AwsJobSchedulerOptions {
  /** @default a client for the region in the environment */
  client?: Pick<SchedulerClient, 'send'>;
  /** The app's schedule group. @default process.env.SCHEDULE_GROUP_NAME */
  groupName?: string;
  /** The target: our EventBridge bus. @default process.env.EVENT_BUS_ARN */
  eventBusArn?: string;
  /** The role EventBridge Scheduler assumes to put events on the bus. @default process.env.SCHEDULER_ROLE_ARN */
  roleArn?: string;
  /** SQS queue for fires the bus refused after all retries. @default process.env.SCHEDULE_DLQ_ARN */
  deadLetterArn?: string;
  /** Retries of a fire the bus refused. @default 3 */
  maximumRetryAttempts?: number;
  /** How long a fire may still be delivered. @default 3600 (1 hour) */
  maximumEventAgeSeconds?: number;
}

/**
 * The schedule's name: `oc-<hash of user>-<hash of job>`, 51 characters of `[0-9a-f-]`, within
 * CreateSchedule's 64 characters of `[0-9a-zA-Z-_.]` whatever our ids contain (user ids may hold `:`).
 * Hashed per part, so one user's schedules can still be listed by prefix (`oc-<user hash>-`).
 */
export function scheduleName(job: JobRef): string {
  const hash = (text: string, length: number) =>
    createHash('sha256').update(text).digest('hex').slice(0, length);
  return `oc-${hash(job.userId, 16)}-${hash(job.jobId, 32)}`;
}

/** The `ScheduleFired.v1` detail the schedule sends, with `firedAt` left to the scheduler to fill in. */
export function scheduleInput(job: ScheduleJob): string {
  // Not validated here: the placeholder is not a date until the scheduler substitutes it.
  const detail: ScheduleFired = {
    userId: job.userId,
    scheduleId: job.jobId,
    firedAt: SCHEDULED_TIME_PLACEHOLDER,
    prompt: job.prompt,
    conversationId: job.conversationId,
    replyTo: job.replyTo,
    ...(job.runtime ? { runtime: job.runtime } : {}),
  };
  return JSON.stringify(detail);
}

function required(value: string | undefined, name: string, env: string): string {
  if (!value) throw new Error(`No ${name}: set ${env} or pass { ${name} } to createAwsJobScheduler()`);
  return value;
}

/**
 * The client, group and schedule target both the job schedules and the retry schedules use: the bus as
 * target with the scheduler role, the same retry policy and dead-letter queue, any input.
 */
function resolveSettings(options: AwsJobSchedulerOptions) {
  const setting = (value: string | undefined, name: string, env: string) =>
    required(value ?? process.env[env], name, env);
  const eventBusArn = setting(options.eventBusArn, 'eventBusArn', 'EVENT_BUS_ARN');
  const roleArn = setting(options.roleArn, 'roleArn', 'SCHEDULER_ROLE_ARN');
  const deadLetterArn = setting(options.deadLetterArn, 'deadLetterArn', 'SCHEDULE_DLQ_ARN');
  const retryPolicy = {
    MaximumRetryAttempts: options.maximumRetryAttempts ?? 3,
    MaximumEventAgeInSeconds: options.maximumEventAgeSeconds ?? 3600,
  };
  return {
    client: options.client ?? traced(new SchedulerClient({})),
    groupName: setting(options.groupName, 'groupName', 'SCHEDULE_GROUP_NAME'),
    target: (input: string): Target => ({
      Arn: eventBusArn,
      RoleArn: roleArn,
      EventBridgeParameters: { DetailType: SCHEDULE_FIRED_DETAIL_TYPE, Source: EventSources.scheduler },
      Input: input,
      RetryPolicy: retryPolicy,
      DeadLetterConfig: { Arn: deadLetterArn },
    }),
  };
}

/**
 * The JobScheduler for AWS: one EventBridge Scheduler schedule per job in the app's group, putting a
 * `ScheduleFired.v1` event (source `openclaw.scheduler`) on our bus. Create falls back to update when the
 * schedule exists (a retried create); delete of a missing schedule is fine (an `at()` schedule deletes
 * itself after its fire).
 */
export function createAwsJobScheduler(options: AwsJobSchedulerOptions = {}): JobScheduler {
  const { client, groupName, target } = resolveSettings(options);

  function request(job: ScheduleJob): CreateScheduleCommandInput {
    const oneTime = isOneTimeJob(job);
    return {
      Name: scheduleName(job),
      GroupName: groupName,
      Description: `openclaw job ${job.jobId}`.slice(0, 512),
      ScheduleExpression: job.expression,
      ScheduleExpressionTimezone: job.timeZone,
      State: job.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      // AWS ignores EndDate for at(); the store refuses one there anyway.
      ...(job.endDate && !oneTime ? { EndDate: new Date(job.endDate) } : {}),
      ActionAfterCompletion: oneTime ? 'DELETE' : 'NONE',
      Target: target(scheduleInput(job)),
    };
  }

  async function upsert(job: ScheduleJob): Promise<void> {
    const input = request(job);
    try {
      await client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConflictException')) throw error;
      // The schedule exists (an edit, or a create retried after a timeout): UpdateSchedule replaces it whole.
      await client.send(new UpdateScheduleCommand(input));
    }
  }

  return {
    upsert,
    // UpdateSchedule takes the whole definition, so pause and resume are upserts with the new State.
    pause: upsert,
    resume: upsert,
    async remove(job: JobRef): Promise<void> {
      try {
        await client.send(new DeleteScheduleCommand({ Name: scheduleName(job), GroupName: groupName }));
      } catch (error) {
        if (error instanceof Error && error.name === 'ResourceNotFoundException') return;
        throw error;
      }
    },
  };
}

/**
 * The RetryFirer on AWS: one one-time schedule per retry (`<job schedule name>-r<attempt>`, `at()` in
 * UTC, deleted after it ran) whose target puts the retry's `ScheduleFired.v1` on the bus, with the same
 * retry policy and dead-letter queue as the job's own schedule. Options as `createAwsJobScheduler`.
 */
export function createAwsRetryFirer(options: AwsJobSchedulerOptions = {}): RetryFirer {
  const { client, groupName, target } = resolveSettings(options);
  return {
    async fireLater(fire: ScheduleFired, atMs: number): Promise<void> {
      // Whole seconds, rounded up: at() has no fractions and must not land in the past.
      const at = new Date(Math.ceil(atMs / 1000) * 1000).toISOString().slice(0, 19);
      const name = `${scheduleName({ userId: fire.userId, jobId: fire.scheduleId })}-r${fire.attempt ?? 0}`;
      try {
        await client.send(
          new CreateScheduleCommand({
            Name: name,
            GroupName: groupName,
            Description: `openclaw retry ${fire.attempt ?? 0} of job ${fire.scheduleId}`.slice(0, 512),
            ScheduleExpression: `at(${at})`,
            ScheduleExpressionTimezone: 'UTC',
            State: 'ENABLED',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: target(JSON.stringify(fire)),
          }),
        );
      } catch (error) {
        // A redelivered failure asks for the same retry: the schedule is already there.
        if (error instanceof Error && error.name === 'ConflictException') return;
        throw error;
      }
    },
  };
}
