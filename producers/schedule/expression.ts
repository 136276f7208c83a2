import { nextMatchingWall } from './cron-calendar.ts';
import { type CronFields, FIRST_YEAR, LAST_YEAR, parseCronFields } from './cron-fields.ts';
import { quote, ScheduleExpressionError } from './errors.ts';
import {
  assertTimeZone,
  DAY_MS,
  gapEnd,
  instantsAt,
  MINUTE_MS,
  overlapEnd,
  wallClockAt,
} from './time-zone.ts';

// Sources for the semantics below (checked 2026):
// - Schedule types, time zones and daylight saving time:
//   https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
// - Cron and rate syntax: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
//   and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
// - StartDate / EndDate: https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
// - DST, AWS knowledge center: https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst

/** CreateSchedule's `ScheduleExpression` is 1-256 characters. */
export const MAX_EXPRESSION_LENGTH = 256;

/** `at(yyyy-mm-ddThh:mm:ss)`: one fire, at a wall time in the schedule's time zone. */
export interface AtSchedule {
  readonly kind: 'at';
  /** Canonical text to send to AWS as `ScheduleExpression`. */
  readonly expression: string;
  readonly timeZone: string;
  /** The instant the wall time names (the first one when the clock shows it twice). */
  readonly fireAt: Date;
}

/** `rate(value unit)`: fixed intervals from the schedule's start; the time zone does not matter. */
export interface RateSchedule {
  readonly kind: 'rate';
  readonly expression: string;
  readonly timeZone: string;
  readonly value: number;
  readonly unit: 'minutes' | 'hours' | 'days';
  readonly intervalMs: number;
}

/** `cron(minutes hours day-of-month month day-of-week year)`, evaluated on the zone's wall clock. */
export interface CronSchedule {
  readonly kind: 'cron';
  readonly expression: string;
  readonly timeZone: string;
  readonly fields: CronFields;
}

/** A validated EventBridge Scheduler expression together with its time zone. */
export type ParsedSchedule = AtSchedule | RateSchedule | CronSchedule;

/** Limits on which fires count, mirroring CreateSchedule's `StartDate` and `EndDate`. */
export interface FireTimeOptions {
  /**
   * cron: no fire before it; a fire exactly at it counts ("invocations might occur on, or after, the
   * StartDate"). rate: the first fire. AWS starts a rate schedule without a StartDate at once, so pass
   * the schedule's creation time then; rate schedules require this option. Ignored for `at()`, as AWS
   * ignores StartDate for one-time schedules.
   * @default undefined (cron: no lower limit; rate: required)
   */
  readonly startDate?: Date;
  /**
   * No fire at or after it ("the date before which the schedule can invoke its target"). Ignored for
   * `at()`, as AWS ignores EndDate for one-time schedules.
   * @default undefined (no end)
   */
  readonly endDate?: Date;
}

const RATE_UNITS = new Map<string, { unit: RateSchedule['unit']; ms: number; plural: boolean }>([
  ['minute', { unit: 'minutes', ms: MINUTE_MS, plural: false }],
  ['minutes', { unit: 'minutes', ms: MINUTE_MS, plural: true }],
  ['hour', { unit: 'hours', ms: 60 * MINUTE_MS, plural: false }],
  ['hours', { unit: 'hours', ms: 60 * MINUTE_MS, plural: true }],
  ['day', { unit: 'days', ms: DAY_MS, plural: false }],
  ['days', { unit: 'days', ms: DAY_MS, plural: true }],
]);

// Fires are computed up to the end of 2199, the last cron year; a day of slack on each side covers
// every UTC offset.
const EARLIEST_MS = Date.UTC(FIRST_YEAR, 0, 1) - 2 * DAY_MS;
const LATEST_MS = Date.UTC(LAST_YEAR + 1, 0, 1) + 2 * DAY_MS;

const SHAPES =
  'at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)';

function parseAt(body: string, timeZone: string): AtSchedule {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!match) {
    throw new ScheduleExpressionError(
      'at',
      'at: expected at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-11-30T08:00:00).',
    );
  }
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  const text = body.trim();
  if (year < FIRST_YEAR || year > LAST_YEAR) {
    throw new ScheduleExpressionError('at', `at: the year must be ${FIRST_YEAR}-${LAST_YEAR}.`);
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (
    month < 1 ||
    month > 12 ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== month - 1 ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new ScheduleExpressionError('at', `at: ${quote(text)} is not a valid date and time.`);
  }
  const [first] = instantsAt(timeZone, wall);
  if (first === undefined) {
    // AWS documents DST only for cron (a non-existent time is skipped). A one-time schedule that
    // would silently never fire is worse than an error the user can act on.
    throw new ScheduleExpressionError(
      'at',
      `at: ${text.replace('T', ' ')} does not exist in ${timeZone} (the clocks skip it for daylight saving time); choose another time.`,
    );
  }
  return { kind: 'at', expression: `at(${text})`, timeZone, fireAt: new Date(first) };
}

function parseRate(body: string, timeZone: string): RateSchedule {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 2) {
    throw new ScheduleExpressionError('rate', 'rate: expected rate(value unit), e.g. rate(5 minutes).');
  }
  const [valueText = '', unitText = ''] = parts;
  if (!/^\d+$/.test(valueText)) {
    throw new ScheduleExpressionError(
      'rate',
      `rate: the value must be a whole number, not ${quote(valueText)}; e.g. rate(5 minutes).`,
    );
  }
  const value = Number(valueText);
  if (value < 1) {
    throw new ScheduleExpressionError('rate', 'rate: the value must be at least 1, e.g. rate(1 minute).');
  }
  const unit = RATE_UNITS.get(unitText.toLowerCase());
  if (!unit) {
    throw new ScheduleExpressionError(
      'rate',
      `rate: the unit must be minute(s), hour(s) or day(s), not ${quote(unitText)}.`,
    );
  }
  // EventBridge rate reference: "If the value is equal to 1, then the unit must be singular. If the
  // value is greater than 1, the unit must be plural."
  const singular = unit.unit.slice(0, -1);
  if (value === 1 && unit.plural) {
    throw new ScheduleExpressionError('rate', `rate: use the singular unit with 1: rate(1 ${singular}).`);
  }
  if (value > 1 && !unit.plural) {
    throw new ScheduleExpressionError(
      'rate',
      `rate: use the plural unit for values above 1: rate(${value} ${unit.unit}).`,
    );
  }
  const intervalMs = value * unit.ms;
  if (intervalMs > LATEST_MS - EARLIEST_MS) {
    throw new ScheduleExpressionError('rate', 'rate: the interval is too long; it must fire before 2200.');
  }
  return {
    kind: 'rate',
    expression: `rate(${value} ${value === 1 ? singular : unit.unit})`,
    timeZone,
    value,
    unit: unit.unit,
    intervalMs,
  };
}

/**
 * Parses and validates an EventBridge Scheduler schedule expression and its time zone, as
 * CreateSchedule's `ScheduleExpression` and `ScheduleExpressionTimezone` take them. Keywords, units
 * and month/day names may be in any case and fields may be separated by several spaces; send
 * `expression` from the result to AWS, which is in the documented form.
 *
 * @param timeZone IANA name. @default 'UTC' (AWS's default)
 * @throws ScheduleExpressionError naming the field and what to write instead.
 * @example
 * const schedule = parseScheduleExpression('cron(0 8 ? * MON-FRI *)', 'Europe/Berlin');
 * nextFireTime(schedule, new Date('2026-01-05T08:00:00Z')); // 2026-01-06T07:00:00.000Z
 */
export function parseScheduleExpression(text: string, timeZone = 'UTC'): ParsedSchedule {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ScheduleExpressionError('expression', `The schedule expression is empty; use ${SHAPES}.`);
  }
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new ScheduleExpressionError(
      'expression',
      `The schedule expression is longer than ${MAX_EXPRESSION_LENGTH} characters.`,
    );
  }
  assertTimeZone(timeZone);
  const match = /^([A-Za-z]+)\s*\(([^()]*)\)$/.exec(text.trim());
  const keyword = match?.[1]?.toLowerCase();
  const body = match?.[2] ?? '';
  if (keyword === 'at') return parseAt(body, timeZone);
  if (keyword === 'rate') return parseRate(body, timeZone);
  if (keyword === 'cron') {
    const { fields, canonical } = parseCronFields(body);
    return { kind: 'cron', expression: `cron(${canonical})`, timeZone, fields };
  }
  const looksLikeCronFields = !text.includes('(') && text.trim().split(/\s+/).length >= 5;
  throw new ScheduleExpressionError(
    'expression',
    looksLikeCronFields
      ? 'Wrap cron fields in cron(...) with six fields (minutes hours day-of-month month day-of-week year), e.g. cron(0 10 * * ? *).'
      : `The schedule expression must be ${SHAPES}.`,
  );
}

function assertDate(value: Date | undefined, name: string): void {
  if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
    throw new TypeError(`${name} must be a valid Date.`);
  }
}

function nextRateFire(schedule: RateSchedule, after: number, options: FireTimeOptions): number | undefined {
  if (!options.startDate) {
    throw new TypeError(
      'Rate schedules need options.startDate: the StartDate, or the creation time when there is none.',
    );
  }
  // AWS: the first fire is at StartDate (at once when there is none), then every interval. A day is 24
  // hours on the clock, not a calendar day, so daylight saving time does not move rate fires.
  const anchor = options.startDate.getTime();
  if (after < anchor) return anchor;
  return anchor + (Math.floor((after - anchor) / schedule.intervalMs) + 1) * schedule.intervalMs;
}

function nextCronFire(schedule: CronSchedule, after: number): number | undefined {
  const { fields, timeZone } = schedule;
  if (after >= LATEST_MS) return undefined;
  const from = Math.max(after, EARLIEST_MS);
  // The first wall minute after the clock's reading at `from`; earlier minutes all map to instants at
  // or before `from`.
  let wall = Math.floor(wallClockAt(timeZone, from) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  // Each pass either returns or moves past one DST transition, so a handful of passes suffice.
  for (let pass = 0; pass < 100; pass++) {
    const match = nextMatchingWall(fields, wall);
    if (match === undefined) return undefined;
    const [first] = instantsAt(timeZone, match);
    if (first === undefined) {
      // Spring forward. AWS: "When the time shifts forward in Spring, your schedule invocation gets
      // skipped if the cron expression falls on a non-existent date and time." Resume at the jump.
      wall = Math.max(match + MINUTE_MS, Math.ceil(gapEnd(timeZone, match) / MINUTE_MS) * MINUTE_MS);
      continue;
    }
    if (first <= from) {
      // `from` lies in the second pass of a fall-back hour, whose wall minutes already fired in the
      // first pass. AWS: "When the time shifts back in the Fall, your schedule runs only once and
      // doesn't repeat its invocation." Resume after the repeated stretch.
      wall = Math.max(match + MINUTE_MS, Math.ceil(overlapEnd(timeZone, match) / MINUTE_MS) * MINUTE_MS);
      continue;
    }
    // A wall time shown twice fires at its first occurrence; AWS says only that it fires once. That
    // is also what java.time picks for an ambiguous local time, and it keeps fires in wall-clock order.
    return first;
  }
  throw new Error(`nextFireTime did not settle for ${schedule.expression} in ${timeZone}.`);
}

/**
 * The first fire strictly after `after`, or `undefined` when there is none (an `at()` in the past, a
 * cron whose years are over, or past `endDate`). Fires are exact instants; AWS invokes within the
 * following minute (or flexible window). Answers in well under a millisecond for a typical cron:
 * the search skips whole years, months, days and hours that cannot match.
 *
 * Daylight saving time, as EventBridge Scheduler documents it: a cron wall time that does not exist
 * (spring forward) is skipped; one the clock shows twice (fall back) fires once, at its first
 * occurrence. Rate schedules count real hours, so `rate(1 day)` keeps 24 h spacing across DST.
 *
 * @example
 * const daily = parseScheduleExpression('cron(30 1 * * ? *)', 'America/New_York');
 * nextFireTime(daily, new Date('2026-11-01T00:00:00Z')); // 2026-11-01T05:30:00Z (01:30 EDT, once)
 * // A rate schedule's first fire is startDate itself, so ask from just before it:
 * const rate = parseScheduleExpression('rate(5 minutes)');
 * nextFireTime(rate, new Date(createdAt.getTime() - 1), { startDate: createdAt }); // createdAt
 */
export function nextFireTime(
  schedule: ParsedSchedule,
  after: Date,
  options: FireTimeOptions = {},
): Date | undefined {
  assertDate(after, 'after');
  assertDate(options.startDate, 'options.startDate');
  assertDate(options.endDate, 'options.endDate');
  const afterMs = after.getTime();
  if (schedule.kind === 'at') {
    return schedule.fireAt.getTime() > afterMs ? new Date(schedule.fireAt.getTime()) : undefined;
  }
  let next: number | undefined;
  if (schedule.kind === 'rate') {
    next = nextRateFire(schedule, afterMs, options);
  } else {
    // A cron fire exactly at startDate counts, hence "after startDate - 1 ms".
    const lowerBound = options.startDate ? options.startDate.getTime() - 1 : afterMs;
    next = nextCronFire(schedule, Math.max(afterMs, lowerBound));
  }
  const end = options.endDate?.getTime() ?? Number.POSITIVE_INFINITY;
  return next !== undefined && next < end ? new Date(next) : undefined;
}
