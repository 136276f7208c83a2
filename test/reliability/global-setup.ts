import { clearRecordedParts, formatCounts, readRecordedParts, reliabilityScale } from './counts.ts';

/** Starts each run with no counts, and ends it with the table of what every part counted. */
export default function setup() {
  const scale = reliabilityScale();
  clearRecordedParts();
  return () => {
    const { table, totals } = formatCounts(readRecordedParts());
    console.log(`\nReliability suite (RELIABILITY_SCALE=${scale})\n${table}\n`);
    const bad = totals.crashes + totals.lost + totals.duplicates;
    if (totals.inputsTried === 0) throw new Error('reliability suite: no part recorded any input');
    if (bad > 0) {
      throw new Error(
        `reliability suite: ${totals.crashes} crashes, ${totals.lost} lost, ${totals.duplicates} duplicates`,
      );
    }
  };
}
