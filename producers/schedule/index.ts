// Commonly used: parse what the user typed, then ask when it fires.

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
export type { MinimumIntervalOptions } from './minimum-interval.ts';
export { minimumIntervalMs } from './minimum-interval.ts';
export { assertTimeZone, isTimeZone } from './time-zone.ts';
