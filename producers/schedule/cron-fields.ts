import { quote, ScheduleExpressionError, type ScheduleField } from './errors.ts';

/** AWS cron years: 1970-2199 (EventBridge cron expressions reference). */
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 2199;

/** The day-of-month field: `?`, a list of days, `L`, `LW` or one `nW`. */
export type DayOfMonthRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: readonly number[] }
  | { readonly kind: 'last' }
  | { readonly kind: 'lastWeekday' }
  | { readonly kind: 'nearestWeekday'; readonly day: number };

/** The day-of-week field (1 = SUN … 7 = SAT): `?`, a list, one `nL` or one `n#k`. */
export type DayOfWeekRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'weekdays'; readonly weekdays: readonly number[] }
  | { readonly kind: 'lastInMonth'; readonly weekday: number }
  | { readonly kind: 'nthInMonth'; readonly weekday: number; readonly nth: number };

/** The six fields of an AWS cron expression, expanded to sorted value lists. */
export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthRule;
  readonly months: readonly number[];
  readonly dayOfWeek: DayOfWeekRule;
  readonly years: readonly number[];
}

interface ListSpec {
  readonly field: ScheduleField;
  readonly min: number;
  readonly max: number;
  readonly hint: string;
  readonly names?: readonly string[];
  readonly steps: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

// Values, wildcards and ranges as in the AWS table: minutes 0-59, hours 0-23, day-of-month 1-31,
// month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT, year 1970-2199. The table lists "/" for every
// field except day-of-week, so a step there is refused.
const MINUTES: ListSpec = { field: 'minutes', min: 0, max: 59, hint: '0-59', steps: true };
const HOURS: ListSpec = { field: 'hours', min: 0, max: 23, hint: '0-23', steps: true };
const DAYS: ListSpec = { field: 'day-of-month', min: 1, max: 31, hint: '1-31', steps: true };
const MONTHS: ListSpec = {
  field: 'month',
  min: 1,
  max: 12,
  hint: '1-12 or JAN-DEC',
  names: MONTH_NAMES,
  steps: true,
};
const WEEKDAYS: ListSpec = {
  field: 'day-of-week',
  min: 1,
  max: 7,
  hint: '1-7 (1 = SUN) or SUN-SAT',
  names: WEEKDAY_NAMES,
  steps: false,
};
const YEARS: ListSpec = { field: 'year', min: FIRST_YEAR, max: LAST_YEAR, hint: '1970-2199', steps: true };

const FIELD_NAMES = 'minutes hours day-of-month month day-of-week year';

function fail(field: ScheduleField, message: string): never {
  throw new ScheduleExpressionError(field, `cron: ${field}: ${message}`);
}

function parseValue(token: string, spec: ListSpec): number {
  const named = spec.names?.indexOf(token) ?? -1;
  if (named >= 0) return spec.min + named;
  if (!/^\d+$/.test(token)) fail(spec.field, `${quote(token)} is not a valid value; use ${spec.hint}.`);
  const value = Number(token);
  if (value < spec.min || value > spec.max) {
    fail(spec.field, `${quote(token)} is out of range; use ${spec.hint}.`);
  }
  return value;
}

function parseStep(token: string, spec: ListSpec): number {
  const span = spec.max - spec.min + 1;
  const step = /^\d+$/.test(token) ? Number(token) : Number.NaN;
  if (!(step >= 1 && step <= span)) {
    fail(spec.field, `the step after / must be a whole number from 1 to ${span}, not ${quote(token)}.`);
  }
  return step;
}

function nameOf(value: number, spec: ListSpec): string {
  return spec.names?.[value - spec.min] ?? String(value);
}

/** Expands a list of values, ranges, `*` and steps (`0/15`, `*\/5`, `8-17/2`) into sorted values. */
function parseList(text: string, spec: ListSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') fail(spec.field, `${quote(text)} has an empty item; separate values with one comma.`);
    const [base = '', stepText, extra] = item.split('/');
    if (extra !== undefined) fail(spec.field, `${quote(item)} has more than one /.`);
    if (stepText !== undefined && !spec.steps) {
      fail(spec.field, `/ is not allowed here; list the days instead, e.g. MON,WED,FRI.`);
    }
    let start: number;
    let end: number;
    if (base === '*') {
      start = spec.min;
      end = spec.max;
    } else {
      const [from = '', to, more] = base.split('-');
      if (more !== undefined) fail(spec.field, `${quote(base)} is not a range; write it as start-end.`);
      start = parseValue(from, spec);
      if (to !== undefined) {
        end = parseValue(to, spec);
        if (end < start) {
          // Quartz wraps such ranges around; AWS does not document it, so ask for the explicit form.
          const explicit = `${from}-${nameOf(spec.max, spec)},${nameOf(spec.min, spec)}-${to}`;
          fail(spec.field, `the range ${quote(base)} runs backwards; write ${explicit}.`);
        }
      } else {
        // "5/15" means every 15th from 5 to the end of the field (5,20,35,50), as in the AWS example 0/15.
        end = stepText === undefined ? start : spec.max;
      }
    }
    const step = stepText === undefined ? 1 : parseStep(stepText, spec);
    for (let value = start; value <= end; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** Rejects the special characters a plain numeric field (minutes, hours, year) cannot hold. */
function checkNumericField(text: string, spec: ListSpec): void {
  if (text.includes('?')) fail(spec.field, '? is allowed only in day-of-month or day-of-week.');
  if (text.includes('#')) fail(spec.field, '# is allowed only in day-of-week (3#2 = second Tuesday).');
  if (spec.names === undefined && text.includes('L')) {
    fail(spec.field, 'L is allowed only in day-of-month or day-of-week.');
  }
  if (spec.names === undefined && text.includes('W')) fail(spec.field, 'W is allowed only in day-of-month.');
}

function parseDayOfMonth(text: string): DayOfMonthRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  // LW (last weekday of the month) is Quartz syntax. AWS's table lists only L and W, but LW is
  // reported to work on EventBridge (serverless/serverless-local-schedule#12), so we take it.
  if (text === 'LW') return { kind: 'lastWeekday' };
  if (text.includes('?')) fail('day-of-month', '? must stand alone.');
  if (text.includes('#')) fail('day-of-month', '# is allowed only in day-of-week (3#2 = second Tuesday).');
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) return { kind: 'nearestWeekday', day: parseValue(nearest[1] ?? '', DAYS) };
  if (/^L-\d+$/.test(text)) {
    fail('day-of-month', 'L-n is not part of AWS cron; use L for the last day of the month.');
  }
  if (/[LW]/.test(text)) {
    fail('day-of-month', 'L, LW and W must stand alone: write L, LW or one day such as 15W, without a list.');
  }
  return { kind: 'days', days: parseList(text, DAYS) };
}

function parseWeekday(token: string): number {
  return parseValue(token, WEEKDAYS);
}

function parseDayOfWeek(text: string): DayOfWeekRule {
  if (text === '?') return { kind: 'any' };
  // "L" alone is the last day of the week: Saturday (7), every week.
  if (text === 'L') return { kind: 'weekdays', weekdays: [7] };
  if (text.includes('?')) fail('day-of-week', '? must stand alone.');
  const nth = /^([^#,]+)#([^#,]*)$/.exec(text);
  if (nth) {
    const weekday = parseWeekday(nth[1] ?? '');
    const which = nth[2] ?? '';
    if (!/^[1-5]$/.test(which)) fail('day-of-week', `the number after # must be 1-5, not ${quote(which)}.`);
    return { kind: 'nthInMonth', weekday, nth: Number(which) };
  }
  if (text.includes('#')) {
    // AWS: "3#1,6#3" is not valid because it is interpreted as two expressions.
    fail('day-of-week', 'with # the field holds one expression only, e.g. 3#2; "3#1,6#3" is not valid.');
  }
  const last = /^([^L,]+)L$/.exec(text);
  if (last) return { kind: 'lastInMonth', weekday: parseWeekday(last[1] ?? '') };
  if (text.includes('L')) {
    fail(
      'day-of-week',
      'L must stand alone or follow one day: L (Saturday) or 6L (last Friday of the month).',
    );
  }
  if (text.includes('W') && !text.includes('WED')) fail('day-of-week', 'W is allowed only in day-of-month.');
  return { kind: 'weekdays', weekdays: parseList(text, WEEKDAYS) };
}

/**
 * Parses the inside of `cron(...)`: six whitespace-separated fields, as in the EventBridge cron
 * expressions reference. Returns the fields and the canonical text (single spaces, upper-case names).
 */
export function parseCronFields(body: string): { fields: CronFields; canonical: string } {
  const parts = body.trim().toUpperCase().split(/\s+/);
  if (parts.length !== 6) {
    const hint =
      parts.length === 5
        ? ' AWS cron ends with a year field, e.g. cron(0 10 * * ? *).'
        : parts.length === 7
          ? ' AWS cron has no seconds field.'
          : '';
    throw new ScheduleExpressionError(
      'expression',
      `cron: expected 6 fields (${FIELD_NAMES}) but got ${body.trim() === '' ? 0 : parts.length}.${hint}`,
    );
  }
  const [minuteText = '', hourText = '', domText = '', monthText = '', dowText = '', yearText = ''] = parts;
  checkNumericField(minuteText, MINUTES);
  checkNumericField(hourText, HOURS);
  checkNumericField(monthText, MONTHS);
  checkNumericField(yearText, YEARS);
  const fields: CronFields = {
    minutes: parseList(minuteText, MINUTES),
    hours: parseList(hourText, HOURS),
    dayOfMonth: parseDayOfMonth(domText),
    months: parseList(monthText, MONTHS),
    dayOfWeek: parseDayOfWeek(dowText),
    years: parseList(yearText, YEARS),
  };
  const domAny = fields.dayOfMonth.kind === 'any';
  const dowAny = fields.dayOfWeek.kind === 'any';
  if (domAny && dowAny) {
    throw new ScheduleExpressionError(
      'day-of-month',
      'cron: day-of-month and day-of-week cannot both be ?; set one of them, e.g. cron(0 10 * * ? *).',
    );
  }
  if (!domAny && !dowAny) {
    throw new ScheduleExpressionError(
      'day-of-month',
      'cron: day-of-month and day-of-week cannot both be set; use ? in one of them.',
    );
  }
  return { fields, canonical: parts.join(' ') };
}
