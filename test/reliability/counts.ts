import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What every part of the suite counts; the totals are printed at the end and must show no crash, loss or duplicate. */
export interface ReliabilityCounts {
  inputsTried: number;
  crashes: number;
  lost: number;
  duplicates: number;
  retried: number;
  reported: number;
}

export const EMPTY_COUNTS: ReliabilityCounts = {
  inputsTried: 0,
  crashes: 0,
  lost: 0,
  duplicates: 0,
  retried: 0,
  reported: 0,
};

/** Test files run in worker processes: each writes its counts here and the global teardown adds them up. */
export const COUNTS_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'reliability');

/** `ci` runs bounded sizes (CI has ~25 min for this suite); `full` the sizes. */
export type ReliabilityScale = 'ci' | 'full';

export function reliabilityScale(env: NodeJS.ProcessEnv = process.env): ReliabilityScale {
  const value = env.RELIABILITY_SCALE ?? 'full';
  if (value !== 'ci' && value !== 'full')
    throw new Error(`RELIABILITY_SCALE must be ci or full, not '${value}'`);
  return value;
}

/** A figure by scale. */
export const byScale = <T>(values: Record<ReliabilityScale, T>): T => values[reliabilityScale()];

let written = 0;
/** Records one part's counts (a line of the final table), with a note such as which agent ran. */
export function recordCounts(part: string, counts: Partial<ReliabilityCounts>, note = ''): void {
  mkdirSync(COUNTS_DIR, { recursive: true });
  const file = join(COUNTS_DIR, `${process.pid}-${++written}.json`);
  writeFileSync(file, JSON.stringify({ part, note, counts: { ...EMPTY_COUNTS, ...counts } }));
}

export interface RecordedPart {
  part: string;
  note: string;
  counts: ReliabilityCounts;
}

export function readRecordedParts(): RecordedPart[] {
  let files: string[];
  try {
    files = readdirSync(COUNTS_DIR).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((name) => JSON.parse(readFileSync(join(COUNTS_DIR, name), 'utf8')) as RecordedPart)
    .sort((a, b) => a.part.localeCompare(b.part));
}

export function clearRecordedParts(): void {
  rmSync(COUNTS_DIR, { recursive: true, force: true });
}

/** The table printed at the end of the run, and the totals it ends with. */
export function formatCounts(parts: RecordedPart[]): { table: string; totals: ReliabilityCounts } {
  const totals = { ...EMPTY_COUNTS };
  const keys = Object.keys(EMPTY_COUNTS) as (keyof ReliabilityCounts)[];
  const rows = parts.map(({ part, note, counts }) => {
    for (const key of keys) totals[key] += counts[key];
    return [part, ...keys.map((key) => String(counts[key])), note];
  });
  rows.push(['TOTAL', ...keys.map((key) => String(totals[key])), '']);
  const header = ['part', 'inputs', 'crashes', 'lost', 'duplicates', 'retried', 'reported', 'note'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return { table: [line(header), ...rows.map(line)].join('\n'), totals };
}
