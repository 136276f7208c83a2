import { describe, expect, it } from 'vitest';
import { formatTable, mb, ms } from './table.ts';

describe('formatTable', () => {
  it('prints a header, a rule and one padded row per figure, with ratio and target verdict', () => {
    // Act
    const table = formatTable([
      { section: 'cold start', metric: 'naive', value: ms(12_345.6) },
      {
        section: 'cold start',
        metric: 'ours',
        value: ms(5_000),
        baseline: ms(12_345.6),
        ratio: 5_000 / 12_345.6,
        target: { text: '<= 0.5x', met: true },
      },
      { section: 'pipeline', metric: 'p99', value: ms(61.2), target: { text: '<= 50 ms', met: false } },
    ]);

    // Assess
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\| section +\| metric +\| value +\| baseline +\| ratio +\| target +\|$/);
    expect(lines[1]).toMatch(/^\| -+ \| -+ \| -+ \| -+ \| -+ \| -+ \|$/);
    expect(lines[3]).toContain('| 5000 ms ');
    expect(lines[3]).toContain('| 12346 ms ');
    expect(lines[3]).toContain('| 0.41x ');
    expect(lines[3]).toContain('<= 0.5x met');
    expect(lines[4]).toContain('<= 50 ms NOT met');
    // Every line as wide as the header: the columns line up.
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });

  it('prints only the header and rule for no rows', () => {
    expect(formatTable([]).split('\n')).toHaveLength(2);
  });
});

describe('units', () => {
  it('formats milliseconds and megabytes', () => {
    expect(ms(3.24)).toBe('3.2 ms');
    expect(ms(1234.5)).toBe('1235 ms');
    expect(mb(12_345_678)).toBe('12.3 MB');
  });
});
