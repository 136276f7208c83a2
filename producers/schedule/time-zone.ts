import { quote, ScheduleExpressionError } from './errors.ts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

// Every segment of an IANA name starts with a capital letter ("America/Argentina/Buenos_Aires",
// "Etc/GMT+5", "UTC"). Intl also accepts offsets such as "+05:00" and any letter case; AWS documents
// neither, so the shape check keeps them out before Intl is asked.
const IANA_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

// One formatter per zone: building an Intl.DateTimeFormat costs ~50x more than using one. The set of
// zones is finite (~600 names), and only names Intl accepted are stored.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23, not hour12: false, which prints midnight as "24" in some ICU versions.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function unknownZone(timeZone: unknown): ScheduleExpressionError {
  const shown = typeof timeZone === 'string' ? quote(timeZone) : 'that value';
  return new ScheduleExpressionError(
    'timeZone',
    `Unknown time zone ${shown}; use an IANA name such as Europe/Berlin, America/New_York or UTC.`,
  );
}

/**
 * Throws a {@link ScheduleExpressionError} unless `timeZone` is an IANA time zone name that
 * EventBridge Scheduler's `ScheduleExpressionTimezone` takes, e.g. `Europe/Berlin` or `UTC`.
 */
export function assertTimeZone(timeZone: string): void {
  if (typeof timeZone !== 'string' || timeZone.length > 50 || !IANA_NAME.test(timeZone)) {
    throw unknownZone(timeZone);
  }
  let resolved: string;
  try {
    resolved = formatterFor(timeZone).resolvedOptions().timeZone;
  } catch {
    throw unknownZone(timeZone);
  }
  // Intl matches names case-insensitively; AWS (like the tz database) does not.
  if (resolved !== timeZone && resolved.toLowerCase() === timeZone.toLowerCase()) {
    throw new ScheduleExpressionError('timeZone', `Time zone names are case-sensitive; write ${resolved}.`);
  }
}

/** `true` when {@link assertTimeZone} would accept `timeZone`. */
export function isTimeZone(timeZone: string): boolean {
  try {
    assertTimeZone(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a wall clock in `timeZone` shows at `epochMs`, to the second, encoded as if it were a UTC time
 * ("wall time"): `Date.UTC(year, month - 1, day, hour, minute, second)`. Wall times make calendar
 * arithmetic plain number arithmetic; only this module turns them back into instants.
 */
export function wallClockAt(timeZone: string, epochMs: number): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
    else if (part.type === 'second') second = Number(part.value);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The zone's UTC offset in milliseconds at `epochMs` (e.g. +3_600_000 for CET). */
export function offsetAt(timeZone: string, epochMs: number): number {
  return wallClockAt(timeZone, epochMs) - Math.floor(epochMs / 1000) * 1000;
}

/**
 * Every instant at which the wall clock in `timeZone` shows `wall`, earliest first: one normally,
 * none inside a spring-forward gap, two inside a fall-back overlap. Assumes at most one offset change
 * within a day of `wall`, which holds for every zone in the tz database since 1970.
 */
export function instantsAt(timeZone: string, wall: number): number[] {
  const before = offsetAt(timeZone, wall - DAY_MS);
  const after = offsetAt(timeZone, wall + DAY_MS);
  const instants: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = wall - offset;
    if (wallClockAt(timeZone, instant) === wall) instants.push(instant);
  }
  return instants.sort((a, b) => a - b);
}

/**
 * The first instant (to the second) in `(lo, hi]` with the offset that `hi` has, given that the
 * offset changes exactly once in between. Binary search: ~17 look-ups for a two-day range.
 */
export function transitionBetween(timeZone: string, lo: number, hi: number): number {
  const target = offsetAt(timeZone, hi);
  let low = Math.floor(lo / 1000);
  let high = Math.ceil(hi / 1000);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetAt(timeZone, middle * 1000) === target) high = middle;
    else low = middle;
  }
  return high * 1000;
}

/** For a wall time inside a spring-forward gap: the wall time the clock jumps to (03:00 in New York). */
export function gapEnd(timeZone: string, wall: number): number {
  const before = offsetAt(timeZone, wall - DAY_MS);
  const after = offsetAt(timeZone, wall + DAY_MS);
  return transitionBetween(timeZone, wall - after, wall - before) + after;
}

/**
 * For a wall time the clock shows twice (fall back): the first wall time after the repeated stretch,
 * 02:00 for New York's 01:00-01:59.
 */
export function overlapEnd(timeZone: string, wall: number): number {
  const [first = wall, second = wall] = instantsAt(timeZone, wall);
  return transitionBetween(timeZone, first, second) + offsetAt(timeZone, first);
}
