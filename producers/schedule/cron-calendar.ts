import { type CronFields, FIRST_YEAR } from './cron-fields.ts';

/** Days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Day of the week in AWS numbering: 1 = SUN … 7 = SAT. */
export function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

/** The first value in the ascending list that is >= `value`. */
function firstAtLeast(values: readonly number[], value: number): number | undefined {
  for (const candidate of values) if (candidate >= value) return candidate;
  return undefined;
}

function dayOfMonthMatches(fields: CronFields, year: number, month: number): number[] {
  const last = daysInMonth(year, month);
  const rule = fields.dayOfMonth;
  switch (rule.kind) {
    case 'any':
      return [];
    case 'days':
      return rule.days.filter((day) => day <= last);
    case 'last':
      return [last];
    case 'lastWeekday': {
      const weekday = weekdayOf(year, month, last);
      return [weekday === 7 ? last - 1 : weekday === 1 ? last - 2 : last];
    }
    case 'nearestWeekday': {
      // AWS: "3W specifies the weekday closest to the third day of the month". As in Quartz, it never
      // leaves the month: a Saturday 1st moves to Monday the 3rd, a Sunday on the last day to Friday.
      // A day the month does not have (31W in April) does not fire, like a plain 31.
      const day = rule.day;
      if (day > last) return [];
      const weekday = weekdayOf(year, month, day);
      if (weekday === 7) return [day === 1 ? 3 : day - 1];
      if (weekday === 1) return [day === last ? day - 2 : day + 1];
      return [day];
    }
  }
}

function dayOfWeekMatches(fields: CronFields, year: number, month: number): number[] {
  const last = daysInMonth(year, month);
  const firstWeekday = weekdayOf(year, month, 1);
  const rule = fields.dayOfWeek;
  switch (rule.kind) {
    case 'any':
      return [];
    case 'weekdays': {
      const days: number[] = [];
      for (let day = 1; day <= last; day++) {
        if (rule.weekdays.includes(((firstWeekday - 1 + day - 1) % 7) + 1)) days.push(day);
      }
      return days;
    }
    case 'lastInMonth':
      return [last - ((weekdayOf(year, month, last) - rule.weekday + 7) % 7)];
    case 'nthInMonth': {
      const day = 1 + ((rule.weekday - firstWeekday + 7) % 7) + 7 * (rule.nth - 1);
      return day <= last ? [day] : [];
    }
  }
}

/** The days of `month` in `year` on which the schedule fires, ascending. */
export function matchingDays(fields: CronFields, year: number, month: number): number[] {
  // Exactly one of the two day fields is "?", so the other decides alone.
  return fields.dayOfMonth.kind === 'any'
    ? dayOfWeekMatches(fields, year, month)
    : dayOfMonthMatches(fields, year, month);
}

/**
 * The earliest wall time (see `wallClockAt`) at or after `from` whose minute, hour, day, month and
 * year all match, or `undefined` after 2199. Skips by field: a non-matching year, month, day or hour
 * is passed over whole, so the loop runs a few times per calendar month visited, never per minute.
 */
export function nextMatchingWall(fields: CronFields, from: number): number | undefined {
  const start = new Date(Math.ceil(from / 60_000) * 60_000);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let day = start.getUTCDate();
  let hour = start.getUTCHours();
  let minute = start.getUTCMinutes();
  if (year < FIRST_YEAR) {
    year = FIRST_YEAR;
    month = 1;
    day = 1;
    hour = 0;
    minute = 0;
  }
  for (;;) {
    const nextYear = firstAtLeast(fields.years, year);
    if (nextYear === undefined) return undefined;
    if (nextYear !== year) {
      year = nextYear;
      month = 1;
      day = 1;
      hour = 0;
      minute = 0;
    }
    const nextMonth = firstAtLeast(fields.months, month);
    if (nextMonth === undefined) {
      year += 1;
      month = 1;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextMonth !== month) {
      month = nextMonth;
      day = 1;
      hour = 0;
      minute = 0;
    }
    const nextDay = firstAtLeast(matchingDays(fields, year, month), day);
    if (nextDay === undefined) {
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextDay !== day) {
      day = nextDay;
      hour = 0;
      minute = 0;
    }
    const nextHour = firstAtLeast(fields.hours, hour);
    if (nextHour === undefined) {
      day += 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextHour !== hour) {
      hour = nextHour;
      minute = 0;
    }
    const nextMinute = firstAtLeast(fields.minutes, minute);
    if (nextMinute === undefined) {
      hour += 1;
      minute = 0;
      continue;
    }
    return Date.UTC(year, month - 1, day, hour, nextMinute);
  }
}
