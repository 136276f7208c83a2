import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError } from './errors.ts';
import { assertTimeZone, gapEnd, instantsAt, isTimeZone, overlapEnd, wallClockAt } from './time-zone.ts';

const wall = (text: string) => Date.parse(`${text}Z`);

describe('assertTimeZone', () => {
  it.each([
    'UTC',
    'Europe/Berlin',
    'America/Argentina/Buenos_Aires',
    'Etc/GMT+5',
    'US/Eastern',
    'Asia/Calcutta',
  ])('accepts %s', (timeZone) => {
    expect(() => assertTimeZone(timeZone)).not.toThrow();
    expect(isTimeZone(timeZone)).toBe(true);
  });

  it.each(['', 'Foo/Bar', '+05:00', 'utc', 'Europe/Berlin ', 'Europe//Berlin', `Europe/${'A'.repeat(60)}`])(
    'rejects %j',
    (timeZone) => {
      expect(() => assertTimeZone(timeZone)).toThrow(ScheduleExpressionError);
      expect(isTimeZone(timeZone)).toBe(false);
    },
  );

  it('says how to spell a name Intl knows in another case', () => {
    expect(() => assertTimeZone('America/NEW_YORK')).toThrow(
      'Time zone names are case-sensitive; write America/New_York.',
    );
  });

  it('throws only ScheduleExpressionError, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (timeZone) => {
        try {
          assertTimeZone(timeZone);
        } catch (error) {
          expect(error).toBeInstanceOf(ScheduleExpressionError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('wall clock conversions', () => {
  it('reads the wall clock of a zone to the second', () => {
    expect(wallClockAt('Europe/Berlin', Date.parse('2026-07-15T06:00:07.900Z'))).toBe(
      wall('2026-07-15T08:00:07'),
    );
    expect(wallClockAt('Asia/Kolkata', Date.parse('2026-07-15T00:00:00Z'))).toBe(wall('2026-07-15T05:30:00'));
  });

  it('finds one instant normally, none in a gap and two in an overlap, earliest first', () => {
    expect(instantsAt('America/New_York', wall('2026-03-08T01:30:00'))).toEqual([
      Date.parse('2026-03-08T06:30:00Z'),
    ]);
    expect(instantsAt('America/New_York', wall('2026-03-08T02:30:00'))).toEqual([]);
    expect(instantsAt('America/New_York', wall('2026-11-01T01:30:00'))).toEqual([
      Date.parse('2026-11-01T05:30:00Z'),
      Date.parse('2026-11-01T06:30:00Z'),
    ]);
  });

  it('finds where a gap and an overlap end', () => {
    expect(gapEnd('America/New_York', wall('2026-03-08T02:30:00'))).toBe(wall('2026-03-08T03:00:00'));
    expect(overlapEnd('America/New_York', wall('2026-11-01T01:30:00'))).toBe(wall('2026-11-01T02:00:00'));
    expect(gapEnd('Australia/Lord_Howe', wall('2026-10-04T02:10:00'))).toBe(wall('2026-10-04T02:30:00'));
  });
});
