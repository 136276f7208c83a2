import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextFireTime, parseScheduleExpression } from './expression.ts';
import { minimumIntervalMs } from './minimum-interval.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const from = new Date('2026-01-01T00:00:00Z');

describe('minimumIntervalMs', () => {
  it.each([
    ['rate(5 minutes)', 'UTC', 5 * MINUTE],
    ['rate(1 day)', 'America/New_York', 24 * HOUR],
    ['cron(0/5 8-17 ? * MON-FRI *)', 'UTC', 5 * MINUTE],
    ['cron(0 10 * * ? *)', 'UTC', 24 * HOUR],
    ['cron(* * * * ? *)', 'Europe/Berlin', MINUTE],
    // 08:00 Berlin on the spring-forward day comes 23 hours after the day before.
    ['cron(0 8 * * ? *)', 'Europe/Berlin', 23 * HOUR],
    // 01:00 EST and 03:00 EDT are one hour apart on 2026-03-08.
    ['cron(0 1,3 * * ? *)', 'America/New_York', HOUR],
    // ...and 01:59 EST to 03:00 EDT one minute.
    ['cron(0,59 1,3 * * ? *)', 'America/New_York', MINUTE],
    // Saturday 23:00 to Sunday 01:00.
    ['cron(0 1,23 ? * SAT,SUN *)', 'UTC', 2 * HOUR],
    ['cron(0 9 ? * 2#1 *)', 'UTC', 28 * 24 * HOUR],
  ])('%s in %s is %d ms', (expression, timeZone, expected) => {
    const schedule = parseScheduleExpression(expression, timeZone);

    expect(minimumIntervalMs(schedule, { from })).toBe(expected);
  });

  it('is undefined for at() and for crons with fewer than two fires in the horizon', () => {
    expect(minimumIntervalMs(parseScheduleExpression('at(2026-11-30T08:00:00)'))).toBeUndefined();
    expect(
      minimumIntervalMs(parseScheduleExpression('cron(0 0 1 1 ? *)'), { from, horizonDays: 300 }),
    ).toBeUndefined();
    expect(minimumIntervalMs(parseScheduleExpression('cron(0 0 1 1 ? 2020)'), { from })).toBeUndefined();
  });

  it('reaches as far as horizonDays', () => {
    const yearly = parseScheduleExpression('cron(0 0 1 1 ? *)');

    expect(minimumIntervalMs(yearly, { from, horizonDays: 800 })).toBe(365 * 24 * HOUR);
  });

  it('starts the horizon at the first fire', () => {
    const later = parseScheduleExpression('cron(0/20 * * * ? 2030)');

    expect(minimumIntervalMs(later, { from })).toBe(20 * MINUTE);
  });

  it('answers an every-minute cron in well under 100 ms', () => {
    const schedule = parseScheduleExpression('cron(* * * * ? *)', 'America/New_York');
    minimumIntervalMs(schedule, { from });

    const started = performance.now();
    minimumIntervalMs(schedule, { from });

    expect(performance.now() - started).toBeLessThan(100);
  });

  it('agrees with walking every fire', () => {
    const field = (max: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min: 2, max: Math.min(30, max + 1) }).map((step) => `*/${step}`),
        fc.uniqueArray(fc.integer({ min: 0, max }), { minLength: 1, maxLength: 4 }).map((v) => v.join(',')),
      );
    const days = fc.constantFrom('* * ?', '? * MON-FRI', '? * SAT,SUN', '1-10 * ?', 'L * ?', '? * 1#2');
    const zones = fc.constantFrom('UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe');
    const start = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) });
    fc.assert(
      fc.property(field(59), field(23), days, zones, start, (minutes, hours, dayFields, zone, startMs) => {
        // Prepare
        const [dom, month, dow] = dayFields.split(' ');
        const schedule = parseScheduleExpression(`cron(${minutes} ${hours} ${dom} ${month} ${dow} *)`, zone);
        const horizonDays = 20;

        // Act
        const actual = minimumIntervalMs(schedule, { from: new Date(startMs), horizonDays });

        // Assess
        const first = nextFireTime(schedule, new Date(startMs));
        let expected: number | undefined;
        if (first) {
          const end = first.getTime() + horizonDays * 24 * HOUR;
          let previous = first.getTime();
          for (let next = nextFireTime(schedule, first); next && next.getTime() <= end; ) {
            expected = Math.min(expected ?? Number.POSITIVE_INFINITY, next.getTime() - previous);
            previous = next.getTime();
            next = nextFireTime(schedule, next);
          }
        }
        expect(actual).toBe(expected);
      }),
      { numRuns: 30 },
    );
  });
});
