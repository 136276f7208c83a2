/** Renders cost tables as Markdown (readable in a terminal too) and checks the targets. */
import type { CostTable } from './model.ts';
import { PRICE_DATE, PRICE_REGION } from './prices.ts';

/** A monthly ceiling one scenario must stay under. */
export interface CostTarget {
  scenario: string;
  maxUsd: number;
  label: string;
}

/** The targets of issue [8/8]: LLM tokens excluded. */
export const TARGETS: readonly CostTarget[] = [
  { scenario: 'idle', maxUsd: 0.1, label: 'idle ≤ $0.10/month' },
  { scenario: 'lambda30', maxUsd: 1, label: '30 messages/day on Lambda ≤ $1/month' },
];

const usd = (value: number) => (value < 0.005 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`);

/**
 * One scenario's table: per service, the fixed and usage parts with the free tier, and the total without it.
 * `withFree` and `withoutFree` must price the same inventory and profile.
 */
export function renderTable(withFree: CostTable, withoutFree: CostTable, detail = false): string {
  const services = [...new Set([...withFree.lines, ...withoutFree.lines].map((l) => l.service))].sort();
  const of = (table: CostTable, service: string, kind?: 'fixed' | 'usage') =>
    table.lines
      .filter((l) => l.service === service && (!kind || l.kind === kind))
      .reduce((s, l) => s + l.usd, 0);
  const rows = services.map(
    (service) =>
      `| ${service} | ${usd(of(withFree, service, 'fixed'))} | ${usd(of(withFree, service, 'usage'))} | ${usd(of(withFree, service))} | ${usd(of(withoutFree, service))} |`,
  );
  const out = [
    `### ${withFree.profile.name}`,
    '',
    '| service | fixed | usage | total (always-free tier) | total (no free tier) |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    `| **total** | **${usd(withFree.fixedUsd)}** | **${usd(withFree.usageUsd)}** | **${usd(withFree.totalUsd)}** | **${usd(withoutFree.totalUsd)}** |`,
  ];
  if (detail) {
    out.push(
      '',
      '| service | item | kind | quantity | meter | USD (free tier) | USD (none) |',
      '|---|---|---|---:|---|---:|---:|',
    );
    withFree.lines.forEach((line, i) => {
      out.push(
        `| ${line.service} | ${line.item} | ${line.kind} | ${Number(line.quantity.toPrecision(4))} | ${line.meter} | ${usd(line.usd)} | ${usd(withoutFree.lines[i]!.usd)} |`,
      );
    });
  }
  if (withFree.unpriced.length > 0)
    out.push('', `Not priced (unknown resource types): ${withFree.unpriced.join(', ')}`);
  return out.join('\n');
}

/** One PASS/FAIL line per target, with and without the free tier. */
export function renderTargets(
  results: Record<string, { withFree: CostTable; withoutFree: CostTable }>,
): string {
  return TARGETS.filter((t) => results[t.scenario])
    .map((target) => {
      const { withFree, withoutFree } = results[target.scenario]!;
      const verdict = (value: number) => (value <= target.maxUsd ? 'PASS' : 'FAIL');
      return `${verdict(withFree.totalUsd)} ${target.label}: ${usd(withFree.totalUsd)} with the always-free tier (without it: ${usd(withoutFree.totalUsd)}, ${verdict(withoutFree.totalUsd)})`;
    })
    .join('\n');
}

/** The heading line: price date and region, LLM tokens excluded. */
export const priceHeader = () =>
  `Monthly USD at AWS list prices for ${PRICE_REGION} as of ${PRICE_DATE} (not fetched: check them against the AWS price list). LLM tokens excluded.`;
