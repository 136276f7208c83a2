import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError } from './errors.ts';
import { nextFireTime, type ParsedSchedule, parseScheduleExpression } from './expression.ts';

const at = (iso: string) => new Date(iso);
const iso = (date: Date | undefined) => date?.toISOString();

/** The next `count` fires after `after`, as ISO strings. */
function fires(schedule: ParsedSchedule, after: string, count: number): (string | undefined)[] {
  const result: (string | undefined)[] = [];
  let cursor: Date | undefined = at(after);
  for (let i = 0; i < count && cursor; i++) {
    cursor = nextFireTime(schedule, cursor);
    result.push(iso(cursor));
  }
  return result;
}

function errorOf(text: string, timeZone = 'UTC'): ScheduleExpressionError {
  try {
    parseScheduleExpression(text, timeZone);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) return error;
    throw error;
  }
  throw new Error(`${text} parsed`);
}

describe('parseScheduleExpression + nextFireTime: AWS documentation examples (UTC)', () => {
  it.each([
    // [expression, after, next fires] — the EventBridge cron reference's example table.
    ['cron(0 10 * * ? *)', '2026-05-05T10:00:00Z', ['2026-05-06T10:00:00.000Z', '2026-05-07T10:00:00.000Z']],
    ['cron(15 12 * * ? *)', '2026-05-05T12:16:00Z', ['2026-05-06T12:15:00.000Z']],
    // Friday 18:00 -> Monday 18:00.
    ['cron(0 18 ? * MON-FRI *)', '2026-05-08T18:00:00Z', ['2026-05-11T18:00:00.000Z']],
    ['cron(0 8 1 * ? *)', '2026-05-01T08:00:00Z', ['2026-06-01T08:00:00.000Z', '2026-07-01T08:00:00.000Z']],
    [
      'cron(0/15 * * * ? *)',
      '2026-05-05T10:07:00Z',
      [
        '2026-05-05T10:15:00.000Z',
        '2026-05-05T10:30:00.000Z',
        '2026-05-05T10:45:00.000Z',
        '2026-05-05T11:00:00.000Z',
      ],
    ],
    // Friday 23:55 -> Monday 00:00.
    [
      'cron(0/10 * ? * MON-FRI *)',
      '2026-05-08T23:55:00Z',
      ['2026-05-11T00:00:00.000Z', '2026-05-11T00:10:00.000Z'],
    ],
    // "every 5 minutes Monday through Friday between 8:00 am and 5:55 pm".
    [
      'cron(0/5 8-17 ? * MON-FRI *)',
      '2026-05-11T17:50:00Z',
      ['2026-05-11T17:55:00.000Z', '2026-05-12T08:00:00.000Z'],
    ],
    // First Monday of the month: 2026-06-01 and 2026-07-06 are Mondays.
    ['cron(0 9 ? * 2#1 *)', '2026-05-05T00:00:00Z', ['2026-06-01T09:00:00.000Z', '2026-07-06T09:00:00.000Z']],
    // Last day of the month, leap years included.
    [
      'cron(0 0 L * ? *)',
      '2028-01-31T00:00:00Z',
      ['2028-02-29T00:00:00.000Z', '2028-03-31T00:00:00.000Z', '2028-04-30T00:00:00.000Z'],
    ],
    // Last Friday: 2026-05-29, 2026-06-26.
    ['cron(0 0 ? * 6L *)', '2026-05-01T00:00:00Z', ['2026-05-29T00:00:00.000Z', '2026-06-26T00:00:00.000Z']],
    // Weekday nearest the 15th: Sat 2026-08-15 -> Fri 14th; Sun 2026-11-15 -> Mon 16th.
    ['cron(0 0 15W * ? *)', '2026-08-01T00:00:00Z', ['2026-08-14T00:00:00.000Z', '2026-09-15T00:00:00.000Z']],
    ['cron(0 0 15W * ? *)', '2026-10-16T00:00:00Z', ['2026-11-16T00:00:00.000Z']],
    // W never leaves the month: Sat 2026-08-01 -> Mon 3rd; Sun 2026-05-31 -> Fri 29th; no 31st in June.
    ['cron(0 0 1W * ? *)', '2026-07-02T00:00:00Z', ['2026-08-03T00:00:00.000Z']],
    ['cron(0 0 31W * ? *)', '2026-05-01T00:00:00Z', ['2026-05-29T00:00:00.000Z', '2026-07-31T00:00:00.000Z']],
    // LW, the last weekday: Sat 2026-10-31 -> Fri 30th; Mon 2026-11-30.
    ['cron(0 0 LW * ? *)', '2026-10-01T00:00:00Z', ['2026-10-30T00:00:00.000Z', '2026-11-30T00:00:00.000Z']],
    // L alone in day-of-week is Saturday, every week.
    ['cron(0 0 ? * L *)', '2026-05-01T00:00:00Z', ['2026-05-02T00:00:00.000Z', '2026-05-09T00:00:00.000Z']],
    // A fifth Thursday exists only in some months: 2026-04-30, then 2026-07-30.
    [
      'cron(0 0 ? * THU#5 *)',
      '2026-04-01T00:00:00Z',
      ['2026-04-30T00:00:00.000Z', '2026-07-30T00:00:00.000Z'],
    ],
    // The Scheduler guide's "10:15 on the last Friday of the month during 2022 to 2023"-style year range.
    ['cron(15 10 ? * 6L 2026-2027)', '2027-11-27T00:00:00Z', ['2027-12-31T10:15:00.000Z', undefined]],
  ] as const)('%s after %s', (expression, after, expected) => {
    // Prepare
    const schedule = parseScheduleExpression(expression, 'UTC');

    // Act
    const actual = fires(schedule, after, expected.length);

    // Assess
    expect(actual).toEqual(expected);
  });

  it('rate(5 minutes) fires at StartDate, then every 5 minutes', () => {
    const schedule = parseScheduleExpression('rate(5 minutes)');
    const startDate = at('2026-05-05T10:00:30Z');

    expect(iso(nextFireTime(schedule, at('2026-05-05T09:00:00Z'), { startDate }))).toBe(
      '2026-05-05T10:00:30.000Z',
    );
    expect(iso(nextFireTime(schedule, startDate, { startDate }))).toBe('2026-05-05T10:05:30.000Z');
    expect(iso(nextFireTime(schedule, at('2026-05-05T10:07:00Z'), { startDate }))).toBe(
      '2026-05-05T10:10:30.000Z',
    );
  });

  it('rate(1 hour) fires every hour from StartDate', () => {
    const schedule = parseScheduleExpression('rate(1 hour)');
    const startDate = at('2026-05-05T10:00:00Z');

    expect(iso(nextFireTime(schedule, at('2026-05-05T12:00:00Z'), { startDate }))).toBe(
      '2026-05-05T13:00:00.000Z',
    );
    expect(schedule).toMatchObject({ kind: 'rate', value: 1, unit: 'hours', intervalMs: 3_600_000 });
  });

  it('at(2026-11-30T08:00:00) fires once, at that time in the schedule zone', () => {
    const utc = parseScheduleExpression('at(2026-11-30T08:00:00)');
    const berlin = parseScheduleExpression('at(2026-11-30T08:00:00)', 'Europe/Berlin');

    expect(iso(nextFireTime(utc, at('2026-01-01T00:00:00Z')))).toBe('2026-11-30T08:00:00.000Z');
    expect(iso(nextFireTime(berlin, at('2026-01-01T00:00:00Z')))).toBe('2026-11-30T07:00:00.000Z');
    expect(nextFireTime(utc, at('2026-11-30T08:00:00Z'))).toBeUndefined();
  });
});

describe('parseScheduleExpression: canonical text for AWS', () => {
  it.each([
    ['cron(0 8 ? * mon-fri *)', 'cron(0 8 ? * MON-FRI *)'],
    ['  CRON( 0   8 1  jan,jul ?  * ) ', 'cron(0 8 1 JAN,JUL ? *)'],
    ['Rate(5 Minutes)', 'rate(5 minutes)'],
    ['rate(05 minutes)', 'rate(5 minutes)'],
    ['at(2026-11-30T08:00:00)', 'at(2026-11-30T08:00:00)'],
  ])('%s -> %s', (text, canonical) => {
    expect(parseScheduleExpression(text).expression).toBe(canonical);
  });

  it('keeps the time zone on the result; UTC is the default, as in AWS', () => {
    expect(parseScheduleExpression('rate(1 day)').timeZone).toBe('UTC');
    expect(parseScheduleExpression('rate(1 day)', 'Asia/Tokyo').timeZone).toBe('Asia/Tokyo');
  });
});

describe('parseScheduleExpression: what AWS rejects', () => {
  it.each([
    [
      'cron(0 10 * * * *)',
      'day-of-month',
      'cron: day-of-month and day-of-week cannot both be set; use ? in one of them.',
    ],
    [
      'cron(0 10 ? * ? *)',
      'day-of-month',
      'cron: day-of-month and day-of-week cannot both be ?; set one of them, e.g. cron(0 10 * * ? *).',
    ],
    ['cron(60 10 * * ? *)', 'minutes', 'cron: minutes: "60" is out of range; use 0-59.'],
    ['cron(0 24 * * ? *)', 'hours', 'cron: hours: "24" is out of range; use 0-23.'],
    ['cron(0 10 32 * ? *)', 'day-of-month', 'cron: day-of-month: "32" is out of range; use 1-31.'],
    ['cron(0 10 0 * ? *)', 'day-of-month', 'cron: day-of-month: "0" is out of range; use 1-31.'],
    ['cron(0 10 * 13 ? *)', 'month', 'cron: month: "13" is out of range; use 1-12 or JAN-DEC.'],
    [
      'cron(0 10 * JANUARY ? *)',
      'month',
      'cron: month: "JANUARY" is not a valid value; use 1-12 or JAN-DEC.',
    ],
    [
      'cron(0 10 ? * 0 *)',
      'day-of-week',
      'cron: day-of-week: "0" is out of range; use 1-7 (1 = SUN) or SUN-SAT.',
    ],
    [
      'cron(0 10 ? * 8 *)',
      'day-of-week',
      'cron: day-of-week: "8" is out of range; use 1-7 (1 = SUN) or SUN-SAT.',
    ],
    ['cron(0 10 * * ? 1969)', 'year', 'cron: year: "1969" is out of range; use 1970-2199.'],
    ['cron(0 10 * * ? 2200)', 'year', 'cron: year: "2200" is out of range; use 1970-2199.'],
    [
      'cron(0 10 * * ?)',
      'expression',
      'cron: expected 6 fields (minutes hours day-of-month month day-of-week year) but got 5. AWS cron ends with a year field, e.g. cron(0 10 * * ? *).',
    ],
    [
      'cron(0 0 10 * * ? *)',
      'expression',
      'cron: expected 6 fields (minutes hours day-of-month month day-of-week year) but got 7. AWS cron has no seconds field.',
    ],
    ['cron(? 10 * * ? *)', 'minutes', 'cron: minutes: ? is allowed only in day-of-month or day-of-week.'],
    ['cron(0 L * * ? *)', 'hours', 'cron: hours: L is allowed only in day-of-month or day-of-week.'],
    [
      'cron(0 10 * * 2#1 *)',
      'day-of-month',
      'cron: day-of-month and day-of-week cannot both be set; use ? in one of them.',
    ],
    [
      'cron(0 10 1#2 * ? *)',
      'day-of-month',
      'cron: day-of-month: # is allowed only in day-of-week (3#2 = second Tuesday).',
    ],
    [
      'cron(0 10 ? * 3#1,6#3 *)',
      'day-of-week',
      'cron: day-of-week: with # the field holds one expression only, e.g. 3#2; "3#1,6#3" is not valid.',
    ],
    ['cron(0 10 ? * 2#6 *)', 'day-of-week', 'cron: day-of-week: the number after # must be 1-5, not "6".'],
    [
      'cron(0 10 ? * MON/2 *)',
      'day-of-week',
      'cron: day-of-week: / is not allowed here; list the days instead, e.g. MON,WED,FRI.',
    ],
    [
      'cron(0 10 ? * FRI-MON *)',
      'day-of-week',
      'cron: day-of-week: the range "FRI-MON" runs backwards; write FRI-SAT,SUN-MON.',
    ],
    ['cron(0 22-2 * * ? *)', 'hours', 'cron: hours: the range "22-2" runs backwards; write 22-23,0-2.'],
    [
      'cron(0/0 * * * ? *)',
      'minutes',
      'cron: minutes: the step after / must be a whole number from 1 to 60, not "0".',
    ],
    [
      'cron(0 10 L-3 * ? *)',
      'day-of-month',
      'cron: day-of-month: L-n is not part of AWS cron; use L for the last day of the month.',
    ],
    [
      'cron(0 10 1,L * ? *)',
      'day-of-month',
      'cron: day-of-month: L, LW and W must stand alone: write L, LW or one day such as 15W, without a list.',
    ],
    [
      'cron(0 10 1,,2 * ? *)',
      'day-of-month',
      'cron: day-of-month: "1,,2" has an empty item; separate values with one comma.',
    ],
    ['rate(1 minutes)', 'rate', 'rate: use the singular unit with 1: rate(1 minute).'],
    ['rate(1 hours)', 'rate', 'rate: use the singular unit with 1: rate(1 hour).'],
    ['rate(5 minute)', 'rate', 'rate: use the plural unit for values above 1: rate(5 minutes).'],
    ['rate(0 minutes)', 'rate', 'rate: the value must be at least 1, e.g. rate(1 minute).'],
    ['rate(-5 minutes)', 'rate', 'rate: the value must be a whole number, not "-5"; e.g. rate(5 minutes).'],
    ['rate(1.5 hours)', 'rate', 'rate: the value must be a whole number, not "1.5"; e.g. rate(5 minutes).'],
    ['rate(30 seconds)', 'rate', 'rate: the unit must be minute(s), hour(s) or day(s), not "seconds".'],
    [
      'rate(5 constructor)',
      'rate',
      'rate: the unit must be minute(s), hour(s) or day(s), not "constructor".',
    ],
    ['rate(5)', 'rate', 'rate: expected rate(value unit), e.g. rate(5 minutes).'],
    ['rate(999999999 days)', 'rate', 'rate: the interval is too long; it must fire before 2200.'],
    ['at(2026-02-30T08:00:00)', 'at', 'at: "2026-02-30T08:00:00" is not a valid date and time.'],
    ['at(2026-11-30T24:00:00)', 'at', 'at: "2026-11-30T24:00:00" is not a valid date and time.'],
    ['at(2026-11-30 08:00:00)', 'at', 'at: expected at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-11-30T08:00:00).'],
    ['at(2026-11-30T08:00)', 'at', 'at: expected at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-11-30T08:00:00).'],
    ['at(2200-01-01T00:00:00)', 'at', 'at: the year must be 1970-2199.'],
    [
      '0 10 * * ? *',
      'expression',
      'Wrap cron fields in cron(...) with six fields (minutes hours day-of-month month day-of-week year), e.g. cron(0 10 * * ? *).',
    ],
    [
      'every day at 10',
      'expression',
      'The schedule expression must be at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year).',
    ],
    [
      '   ',
      'expression',
      'The schedule expression is empty; use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year).',
    ],
    [
      `cron(${'0,'.repeat(130)}0 10 * * ? *)`,
      'expression',
      'The schedule expression is longer than 256 characters.',
    ],
  ])('%s', (text, field, message) => {
    const error = errorOf(text);

    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });

  it.each([
    [
      'Europe/Berln',
      'Unknown time zone "Europe/Berln"; use an IANA name such as Europe/Berlin, America/New_York or UTC.',
    ],
    [
      '+05:00',
      'Unknown time zone "+05:00"; use an IANA name such as Europe/Berlin, America/New_York or UTC.',
    ],
    [
      'europe/berlin',
      'Unknown time zone "europe/berlin"; use an IANA name such as Europe/Berlin, America/New_York or UTC.',
    ],
    ['Europe/BERLIN', 'Time zone names are case-sensitive; write Europe/Berlin.'],
  ])('rejects the time zone %s', (timeZone, message) => {
    const error = errorOf('rate(5 minutes)', timeZone);

    expect(error.field).toBe('timeZone');
    expect(error.message).toBe(message);
  });
});

describe('nextFireTime: time zones and daylight saving time', () => {
  it('fires a job at 08:00 Europe/Berlin at 07:00Z in winter and 06:00Z in summer', () => {
    const schedule = parseScheduleExpression('cron(0 8 * * ? *)', 'Europe/Berlin');

    expect(iso(nextFireTime(schedule, at('2026-01-15T00:00:00Z')))).toBe('2026-01-15T07:00:00.000Z');
    expect(iso(nextFireTime(schedule, at('2026-07-15T00:00:00Z')))).toBe('2026-07-15T06:00:00.000Z');
  });

  it('skips 02:30 on the New York spring-forward day (2026-03-08), as AWS documents', () => {
    const schedule = parseScheduleExpression('cron(30 2 * * ? *)', 'America/New_York');

    expect(fires(schedule, '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-09T06:30:00.000Z', // 02:30 EDT; 2026-03-08 02:30 does not exist
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('runs 01:30 once on the New York fall-back day (2026-11-01), at its first occurrence', () => {
    const schedule = parseScheduleExpression('cron(30 1 * * ? *)', 'America/New_York');

    expect(fires(schedule, '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, first of two
      '2026-11-02T06:30:00.000Z', // 01:30 EST; no second run at 2026-11-01T06:30Z
    ]);
    // Asked from inside the repeated hour (01:10 EST), the 01:30 already fired.
    expect(iso(nextFireTime(schedule, at('2026-11-01T06:10:00Z')))).toBe('2026-11-02T06:30:00.000Z');
  });

  it('skips 02:30 on the Berlin spring-forward day (2026-03-29)', () => {
    const schedule = parseScheduleExpression('cron(30 2 * * ? *)', 'Europe/Berlin');

    expect(fires(schedule, '2026-03-28T00:00:00Z', 2)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('runs 02:30 once on the Berlin fall-back day (2026-10-25), at its first occurrence', () => {
    const schedule = parseScheduleExpression('cron(30 2 * * ? *)', 'Europe/Berlin');

    expect(fires(schedule, '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not fire again
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('pauses an every-15-minutes cron for the repeated hour and jumps the skipped one', () => {
    const schedule = parseScheduleExpression('cron(0/15 * * * ? *)', 'America/New_York');

    expect(fires(schedule, '2026-11-01T05:40:00Z', 3)).toEqual([
      '2026-11-01T05:45:00.000Z', // 01:45 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST: 01:00-01:45 EST were already shown once
      '2026-11-01T07:15:00.000Z',
    ]);
    expect(fires(schedule, '2026-03-08T06:40:00Z', 2)).toEqual([
      '2026-03-08T06:45:00.000Z', // 01:45 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
    ]);
  });

  it('keeps rate(1 day) at 24 hours across DST ("days represents a 24-hour duration")', () => {
    const schedule = parseScheduleExpression('rate(1 day)', 'America/New_York');
    const startDate = at('2026-03-07T13:00:00Z'); // 08:00 EST

    expect(iso(nextFireTime(schedule, startDate, { startDate }))).toBe('2026-03-08T13:00:00.000Z'); // 09:00 EDT
  });

  it('treats an at() wall time shown twice as its first occurrence and refuses one that does not exist', () => {
    const twice = parseScheduleExpression('at(2026-11-01T01:30:00)', 'America/New_York');

    expect(iso(nextFireTime(twice, at('2026-01-01T00:00:00Z')))).toBe('2026-11-01T05:30:00.000Z');
    expect(errorOf('at(2026-03-08T02:30:00)', 'America/New_York').message).toBe(
      'at: 2026-03-08 02:30:00 does not exist in America/New_York (the clocks skip it for daylight saving time); choose another time.',
    );
  });

  it('handles half-hour zones and half-hour DST (Australia/Lord_Howe)', () => {
    // Lord Howe: +10:30 standard, +11 summer; 2026-10-04 02:00 jumps to 02:30.
    const schedule = parseScheduleExpression('cron(15 2 * * ? *)', 'Australia/Lord_Howe');

    expect(fires(schedule, '2026-10-02T12:00:00Z', 2)).toEqual([
      '2026-10-02T15:45:00.000Z', // 10-03 02:15 +10:30
      '2026-10-04T15:15:00.000Z', // 10-05 02:15 +11; 10-04 02:15 does not exist
    ]);
  });
});

describe('nextFireTime: StartDate and EndDate', () => {
  const daily = parseScheduleExpression('cron(0 10 * * ? *)');

  it('fires on or after startDate', () => {
    expect(
      iso(nextFireTime(daily, at('2026-01-01T00:00:00Z'), { startDate: at('2026-03-01T10:00:00Z') })),
    ).toBe('2026-03-01T10:00:00.000Z');
  });

  it('fires only before endDate', () => {
    const endDate = at('2026-03-03T10:00:00Z');

    expect(iso(nextFireTime(daily, at('2026-03-02T00:00:00Z'), { endDate }))).toBe(
      '2026-03-02T10:00:00.000Z',
    );
    expect(nextFireTime(daily, at('2026-03-02T10:00:00Z'), { endDate })).toBeUndefined();
  });

  it('ends rate schedules at endDate too', () => {
    const schedule = parseScheduleExpression('rate(10 minutes)');
    const startDate = at('2026-03-02T10:00:00Z');
    const endDate = at('2026-03-02T10:20:00Z');

    expect(iso(nextFireTime(schedule, at('2026-03-02T10:05:00Z'), { startDate, endDate }))).toBe(
      '2026-03-02T10:10:00.000Z',
    );
    expect(nextFireTime(schedule, at('2026-03-02T10:10:00Z'), { startDate, endDate })).toBeUndefined();
  });

  it('ignores both for at(), as AWS does for one-time schedules', () => {
    const once = parseScheduleExpression('at(2026-11-30T08:00:00)');

    expect(iso(nextFireTime(once, at('2026-01-01T00:00:00Z'), { endDate: at('2026-02-01T00:00:00Z') }))).toBe(
      '2026-11-30T08:00:00.000Z',
    );
  });

  it('needs startDate for a rate schedule and valid dates throughout', () => {
    const schedule = parseScheduleExpression('rate(5 minutes)');

    expect(() => nextFireTime(schedule, at('2026-01-01T00:00:00Z'))).toThrow(TypeError);
    expect(() => nextFireTime(daily, new Date(Number.NaN))).toThrow(TypeError);
  });

  it('returns undefined once the years of a cron are over', () => {
    const schedule = parseScheduleExpression('cron(0 10 * * ? 2025)');

    expect(nextFireTime(schedule, at('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(
      nextFireTime(parseScheduleExpression('cron(0 0 30 2 ? *)'), at('2026-01-01T00:00:00Z')),
    ).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------
// Property tests against an oracle that knows nothing of the implementation: it builds expressions from
// parts with their own match predicates, and finds fires by walking real time minute by minute. A fire
// is the first instant at which the zone's wall clock shows a matching minute: a wall time the clock
// skips never fires, one it shows twice fires the first time.

type Part = { text: string; has: (value: number) => boolean };

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function listPart(min: number, max: number, names?: readonly string[], steps = true): fc.Arbitrary<Part> {
  const token = (value: number) =>
    names ? fc.constantFrom(String(value), names[value - min] ?? String(value)) : fc.constant(String(value));
  const value = fc.integer({ min, max });
  const item: fc.Arbitrary<Part> = fc.oneof(
    value.chain((v) => token(v).map((text) => ({ text, has: (x: number) => x === v }))),
    fc
      .tuple(value, value)
      .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)
      .map(([a, b]) => ({ text: `${a}-${b}`, has: (x: number) => x >= a && x <= b })),
    ...(steps
      ? [
          fc
            .tuple(value, fc.integer({ min: 1, max: max - min + 1 }))
            .map(([a, s]) => ({ text: `${a}/${s}`, has: (x: number) => x >= a && (x - a) % s === 0 })),
          fc
            .integer({ min: 1, max: max - min + 1 })
            .map((s) => ({ text: `*/${s}`, has: (x: number) => x >= min && (x - min) % s === 0 })),
        ]
      : []),
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ text: '*', has: () => true }) },
    {
      weight: 3,
      arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => ({
        text: items.map((i) => i.text).join(','),
        has: (x: number) => items.some((i) => i.has(x)),
      })),
    },
  );
}

type DayRule = { text: string; has: (year: number, month: number, day: number) => boolean };

const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const weekday = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1;
const isWeekday = (y: number, m: number, d: number) => weekday(y, m, d) >= 2 && weekday(y, m, d) <= 6;

const dayOfMonthRule: fc.Arbitrary<DayRule> = fc.oneof(
  listPart(1, 31).map((p) => ({ text: p.text, has: (_y: number, _m: number, d: number) => p.has(d) })),
  fc.constant({ text: 'L', has: (y: number, m: number, d: number) => d === lastDay(y, m) }),
  fc.constant({
    text: 'LW',
    has: (y: number, m: number, d: number) => {
      let last = lastDay(y, m);
      while (!isWeekday(y, m, last)) last--;
      return d === last;
    },
  }),
  fc.integer({ min: 1, max: 31 }).map((n) => ({
    text: `${n}W`,
    // The weekday of the month closest to day n; none when the month has no day n.
    has: (y: number, m: number, d: number) => {
      if (n > lastDay(y, m) || !isWeekday(y, m, d)) return false;
      for (let other = 1; other <= lastDay(y, m); other++) {
        if (isWeekday(y, m, other) && Math.abs(other - n) < Math.abs(d - n)) return false;
      }
      return true;
    },
  })),
);

const dayOfWeekRule: fc.Arbitrary<DayRule> = fc.oneof(
  listPart(1, 7, WEEKDAYS, false).map((p) => ({
    text: p.text,
    has: (y: number, m: number, d: number) => p.has(weekday(y, m, d)),
  })),
  fc.constant({ text: 'L', has: (y: number, m: number, d: number) => weekday(y, m, d) === 7 }),
  fc.integer({ min: 1, max: 7 }).map((w) => ({
    text: `${w}L`,
    has: (y: number, m: number, d: number) => weekday(y, m, d) === w && d + 7 > lastDay(y, m),
  })),
  fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 })).map(([w, k]) => ({
    text: `${WEEKDAYS[w - 1]}#${k}`,
    has: (y: number, m: number, d: number) => weekday(y, m, d) === w && Math.ceil(d / 7) === k,
  })),
);

const cronArbitrary = fc
  .record({
    minutes: listPart(0, 59),
    hours: listPart(0, 23),
    days: fc.oneof(
      dayOfMonthRule.map((rule) => ({ dom: rule.text, dow: '?', has: rule.has })),
      dayOfWeekRule.map((rule) => ({ dom: '?', dow: rule.text, has: rule.has })),
    ),
    months: listPart(1, 12, [
      'JAN',
      'FEB',
      'MAR',
      'APR',
      'MAY',
      'JUN',
      'JUL',
      'AUG',
      'SEP',
      'OCT',
      'NOV',
      'DEC',
    ]),
    years: fc.oneof(
      fc.constant({ text: '*', has: () => true }),
      fc.constant({ text: '2026-2027', has: (y: number) => y === 2026 || y === 2027 }),
      fc.constant({ text: '2026/2', has: (y: number) => y >= 2026 && y % 2 === 0 }),
    ),
  })
  .map(({ minutes, hours, days, months, years }) => ({
    text: `cron(${minutes.text} ${hours.text} ${days.dom} ${months.text} ${days.dow} ${years.text})`,
    matches: (wall: Date) =>
      minutes.has(wall.getUTCMinutes()) &&
      hours.has(wall.getUTCHours()) &&
      months.has(wall.getUTCMonth() + 1) &&
      years.has(wall.getUTCFullYear()) &&
      days.has(wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate()),
  }));

const oracleFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall clock at `ms`, as a Date whose UTC fields are the wall-clock fields. */
function wallOf(timeZone: string, ms: number): Date {
  let formatter = oracleFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    oracleFormatters.set(timeZone, formatter);
  }
  // sv-SE prints "2026-11-01 01:30".
  return new Date(`${formatter.format(ms).replace(' ', 'T')}:00Z`);
}

// Instants within six hours of each zone's 2026 offset changes, to make DST cases common.
const TRANSITIONS_2026 = ZONES.flatMap((zone) => {
  const changes: number[] = [];
  for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 3_600_000) {
    const wallStep = wallOf(zone, ms + 3_600_000).getTime() - wallOf(zone, ms).getTime();
    if (wallStep !== 3_600_000) changes.push(ms);
  }
  return changes.map((ms) => ({ zone, ms }));
});

const MINUTE = 60_000;
const ORACLE_SPAN = 2 * 86_400_000;

/** The oracle's first fire after `after` within two days, or undefined. */
function oracleNext(matches: (wall: Date) => boolean, timeZone: string, after: number): number | undefined {
  const startMinute = Math.floor(after / MINUTE) * MINUTE;
  // Walls shown in the three hours up to `after` count as already shown.
  let newestWall = Number.NEGATIVE_INFINITY;
  for (let t = startMinute - 3 * 3_600_000; t <= startMinute; t += MINUTE) {
    newestWall = Math.max(newestWall, wallOf(timeZone, t).getTime());
  }
  for (let t = startMinute + MINUTE; t <= after + ORACLE_SPAN; t += MINUTE) {
    const wall = wallOf(timeZone, t);
    const isNew = wall.getTime() > newestWall;
    newestWall = Math.max(newestWall, wall.getTime());
    if (isNew && matches(wall)) return t;
  }
  return undefined;
}

const afterArbitrary = fc.oneof(
  fc
    .tuple(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2030, 0, 1) }))
    .map(([zone, ms]) => ({ zone, ms })),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS_2026), fc.integer({ min: -6 * 3_600_000, max: 6 * 3_600_000 }))
    .map(([transition, delta]) => ({ zone: transition.zone, ms: transition.ms + delta })),
);

describe('nextFireTime: properties', () => {
  it('returns exactly the first instant after `after` whose wall clock first shows a matching minute', () => {
    fc.assert(
      fc.property(cronArbitrary, afterArbitrary, (cron, { zone, ms }) => {
        // Prepare
        const schedule = parseScheduleExpression(cron.text, zone);

        // Act
        const next = nextFireTime(schedule, new Date(ms))?.getTime();

        // Assess
        const expected = oracleNext(cron.matches, zone, ms);
        if (expected !== undefined) expect(next).toBe(expected);
        else if (next !== undefined) expect(next).toBeGreaterThan(ms + ORACLE_SPAN);
        if (next !== undefined) {
          expect(next).toBeGreaterThan(ms);
          expect(cron.matches(wallOf(zone, next))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('matches the oracle around DST changes for crons that fire within the changing hours', () => {
    const nearChange = fc
      .tuple(fc.constantFrom(...TRANSITIONS_2026), fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }))
      .map(([transition, delta]) => ({ zone: transition.zone, ms: transition.ms + delta }));
    const hours = fc.constantFrom('*', '1', '2', '3', '1-3', '0/2', '2,3');
    fc.assert(
      fc.property(listPart(0, 59), hours, nearChange, (minutes, hourText, { zone, ms }) => {
        const schedule = parseScheduleExpression(`cron(${minutes.text} ${hourText} * * ? *)`, zone);
        const hourSet = hourText === '*' ? null : parseScheduleExpression(`cron(0 ${hourText} * * ? *)`);
        const matches = (wall: Date) =>
          minutes.has(wall.getUTCMinutes()) &&
          (hourSet === null ||
            (hourSet.kind === 'cron' && hourSet.fields.hours.includes(wall.getUTCHours())));

        expect(nextFireTime(schedule, new Date(ms))?.getTime()).toBe(oracleNext(matches, zone, ms));
      }),
      { numRuns: 300 },
    );
  });

  it('lets only ScheduleExpressionError escape the parser, whatever the input', () => {
    const cronish = fc
      .array(
        fc.constantFrom(
          '0',
          '5',
          '15',
          '*',
          '?',
          'L',
          'W',
          '#',
          '/',
          '-',
          ',',
          ' ',
          'MON',
          'JAN',
          '2026',
          'LW',
        ),
        {
          maxLength: 30,
        },
      )
      .map((parts) => `cron(${parts.join('')})`);
    const anything = fc.oneof(
      fc.string({ maxLength: 300 }),
      cronish,
      fc.string().map((s) => `rate(${s})`),
      fc.string().map((s) => `at(${s})`),
    );
    fc.assert(
      fc.property(anything, fc.constantFrom('UTC', 'Europe/Berlin', 'Nowhere/City', ''), (text, zone) => {
        try {
          const schedule = parseScheduleExpression(text, zone);
          // A parsed schedule re-parses to itself and can always be asked for its next fire.
          expect(parseScheduleExpression(schedule.expression, zone).expression).toBe(schedule.expression);
          const startDate = new Date(Date.UTC(2026, 0, 1));
          nextFireTime(schedule, startDate, { startDate });
        } catch (error) {
          expect(error).toBeInstanceOf(ScheduleExpressionError);
        }
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('nextFireTime: speed', () => {
  it.each([
    'cron(* * * * ? *)',
    'cron(0 0 29 2 ? *)', // leap days only
    'cron(0 0 30 2 ? *)', // never: scans to 2199
    'cron(59 23 31 12 ? 2199)',
    'cron(0 0 ? * 2#5 *)',
    'cron(0 0 LW * ? *)',
    'cron(30 2 * * ? *)', // in the DST gap twice a year
  ])('answers %s in well under 10 ms', (expression) => {
    const schedule = parseScheduleExpression(expression, 'America/New_York');
    const durations: number[] = [];
    for (let i = 0; i < 200; i++) {
      const after = new Date(Date.UTC(2026, 0, 1) + i * 1_987_654_321);
      // The best of three runs: the cost of the search, not of a GC pause or a busy CI core.
      let best = Number.POSITIVE_INFINITY;
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        nextFireTime(schedule, after);
        best = Math.min(best, performance.now() - started);
      }
      durations.push(best);
    }

    expect(Math.max(...durations)).toBeLessThan(10);
    expect(durations.reduce((sum, d) => sum + d, 0) / durations.length).toBeLessThan(1);
  });
});
