// Commonly used: parse what the user typed, then ask when it fires. Also the job store (createJobStore), its
// errors and the AWS scheduler, for the management API.

export type { AwsJobSchedulerOptions } from './aws-scheduler.ts';
export { createAwsJobScheduler } from './aws-scheduler.ts';
// For experts: the parsed cron fields carried by CronSchedule.
export type { CronFields, DayOfMonthRule, DayOfWeekRule } from './cron-fields.ts';
export type { ScheduleField } from './errors.ts';
export { ScheduleExpressionError } from './errors.ts';
export type {
  AtSchedule,
  CronSchedule,
  FireTimeOptions,
  ParsedSchedule,
  RateSchedule,
} from './expression.ts';
export { MAX_EXPRESSION_LENGTH, nextFireTime, parseScheduleExpression } from './expression.ts';
export type { JobField } from './job-errors.ts';
export {
  JobConflictError,
  JobLimitError,
  JobNotFoundError,
  JobSchedulerError,
  JobValidationError,
  ScheduleJobError,
} from './job-errors.ts';
export type {
  JobEdit,
  JobInput,
  JobRef,
  JobScheduler,
  JobStore,
  JobStoreOptions,
  ScheduleJob,
  VersionGuard,
} from './jobs.ts';
export {
  createJobStore,
  JobEditSchema,
  JobInputSchema,
  MAX_JOBS_PER_USER,
  MAX_PROMPT_CHARS,
  MIN_JOB_INTERVAL_MS,
} from './jobs.ts';
export type { MinimumIntervalOptions } from './minimum-interval.ts';
export { minimumIntervalMs } from './minimum-interval.ts';
export { assertTimeZone, isTimeZone } from './time-zone.ts';
