// The bench's one table: a row per figure, with its baseline and their ratio where it has one.

/** One figure of the bench. */
export interface BenchRow {
  /** The table's group, e.g. `cold start`. */
  section: string;
  metric: string;
  /** The figure, already formatted with its unit (see {@link ms}, {@link mb}). */
  value: string;
  /** What the figure is compared with, measured in the same run, formatted. */
  baseline?: string;
  /** `value / baseline`, when both are numbers of one unit. */
  ratio?: number;
  /** The target as text (`<= 0.5x`), and whether this run met it. */
  target?: { text: string; met: boolean };
}

const HEADERS = ['section', 'metric', 'value', 'baseline', 'ratio', 'target'] as const;

/** Milliseconds, rounded: `1234 ms`; below 10 ms with one decimal. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** Bytes as megabytes with one decimal (`12.3 MB`; 1 MB = 10^6 bytes, as `du --si`). */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A plain-text table (also valid Markdown), columns padded to their widest cell. */
export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((row) => [
    row.section,
    row.metric,
    row.value,
    row.baseline ?? '',
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
    row.target ? `${row.target.text} ${row.target.met ? 'met' : 'NOT met'}` : '',
  ]);
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: readonly string[]) =>
    `| ${values.map((value, i) => value.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(HEADERS), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}
