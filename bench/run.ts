// `npm run bench`: measures the agent's cold start (ours vs a naive embedded OpenClaw turn), warm turn
// overhead and peak RSS, the local event pipeline's overhead, and bundle sizes and import times, then
// prints one table. Progress goes to stderr, the table to stdout. See docs/performance.md.
//
// BENCH_RUNS       cold runs per variant (default 3; the median is reported)
// BENCH_IMPORT_RUNS  fresh-process imports per handler bundle (default 3)
// BENCH_ONLY       comma-separated subset of `cold,pipeline,sizes` (default all)
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COLD_VARIANTS, type ColdStartResult, measureColdStart } from './cold-start.ts';
import { measurePipeline } from './pipeline.ts';
import {
  bundleAgent,
  bundleLambdas,
  coldImportMs,
  directoryBytes,
  lambdaEntries,
  scratchDir,
} from './sizes.ts';
import { median, percentile } from './stats.ts';
import { type BenchRow, formatTable, mb, ms } from './table.ts';

const COLD_TARGET_RATIO = 0.5;
const PIPELINE_P99_TARGET_MS = 50;
/** OpenClaw's parts that no turn loads (measured: a turn still runs with them deleted, see docs). */
const PRUNABLE = ['dist/control-ui', 'docs'];
const OPENCLAW_RUNTIME = fileURLToPath(new URL('../agent/openclaw-runtime/node_modules', import.meta.url));

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function intFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function coldRows(results: ColdStartResult[]): BenchRow[] {
  const [naive, ...others] = results;
  if (!naive) return [];
  const rows: BenchRow[] = [
    {
      section: 'cold start',
      metric: `first reply, ${naive.variant.name} (median of ${naive.runs.length})`,
      value: ms(naive.medianFirstDeltaMs),
    },
  ];
  for (const result of others) {
    const ratio = result.medianFirstDeltaMs / naive.medianFirstDeltaMs;
    const ours = result === others.at(-1);
    rows.push({
      section: 'cold start',
      metric: `first reply, ${result.variant.name}`,
      value: ms(result.medianFirstDeltaMs),
      baseline: ms(naive.medianFirstDeltaMs),
      ratio,
      ...(ours ? { target: { text: `<= ${COLD_TARGET_RATIO}x`, met: ratio <= COLD_TARGET_RATIO } } : {}),
    });
  }
  for (const result of results) {
    const name = result.variant.name.split(' (')[0]!.split(':')[0]!;
    rows.push({
      section: 'cold start',
      metric: `  ${name}: import / first turn`,
      value: `${ms(median(result.runs.map((run) => run.importMs)))} / ${ms(median(result.runs.map((run) => run.firstTurnMs)))}`,
    });
  }
  for (const result of [naive, others.at(-1)!]) {
    const overhead = result.runs.flatMap((run) =>
      run.warmTurnMs.map((turn, i) => turn - (run.llmOwnMs[i] ?? 0)),
    );
    const name = result === naive ? 'naive' : 'ours';
    rows.push({
      section: 'warm turn',
      metric: `${name}: turn minus the LLM's own time (median of ${overhead.length})`,
      value: ms(median(overhead)),
      ...(result !== naive
        ? {
            baseline: ms(
              median(naive.runs.flatMap((run) => run.warmTurnMs.map((t, i) => t - (run.llmOwnMs[i] ?? 0)))),
            ),
          }
        : {}),
    });
    rows.push({
      section: 'memory',
      metric: `${name}: agent peak RSS (maxRSS, median)`,
      value: `${Math.round(median(result.runs.map((run) => run.maxRssMb)))} MB`,
    });
  }
  return rows;
}

async function pipelineRows(): Promise<BenchRow[]> {
  log('pipeline: local stack in-process, stand-in agent');
  const results = await measurePipeline([
    { conversations: 1, messagesEach: 100 },
    { conversations: 50, messagesEach: 10 },
    // A second reading of "50 concurrent conversations": people who read the reply and type the next one.
    { conversations: 50, messagesEach: 4, thinkMs: [2_000, 6_000] },
  ]);
  return results.flatMap((result) => {
    const p99 = percentile(result.samples, 99);
    const pacing = result.thinkMs
      ? ` paced (${result.thinkMs[0] / 1000}–${result.thinkMs[1] / 1000} s pause after each reply)`
      : '';
    const label = `${result.conversations} conversation${result.conversations > 1 ? 's' : ''}${pacing}`;
    log(`pipeline: ${label}, DynamoDB calls per message: ${JSON.stringify(result.perMessage.dynamo)}`);
    return [
      {
        section: 'pipeline',
        metric: `${label}: message in -> reply out, p50 (n=${result.samples.length})`,
        value: ms(percentile(result.samples, 50)),
      },
      {
        section: 'pipeline',
        metric: `${label}: p99`,
        value: ms(p99),
        target: { text: `<= ${PIPELINE_P99_TARGET_MS} ms`, met: p99 <= PIPELINE_P99_TARGET_MS },
      },
      {
        section: 'pipeline',
        metric: `${label}: message in -> ack (producer), p50 / p99`,
        value: `${ms(percentile(result.ackSamples, 50))} / ${ms(percentile(result.ackSamples, 99))}`,
      },
      {
        section: 'pipeline',
        metric: `${label}: CPU per message, process / main thread busy`,
        value: `${ms(result.cpuMsPerMessage)} / ${ms(result.mainThreadMsPerMessage)}`,
      },
      {
        section: 'pipeline',
        metric: `${label}: calls per message (DynamoDB / PutEvents / PostToConnection)`,
        value: `${result.perMessage.dynamoTotal} / ${result.perMessage.putEvents} / ${result.perMessage.postToConnection}`,
      },
    ];
  });
}

async function sizeRows(importRuns: number): Promise<BenchRow[]> {
  const scratch = await scratchDir();
  try {
    log('sizes: bundling every Lambda handler as cdk synth does');
    const bundles = await bundleLambdas(await lambdaEntries(), join(scratch.dir, 'lambda'));
    const rows: BenchRow[] = [];
    for (const bundle of bundles) {
      log(`sizes: cold import of ${bundle.entry}`);
      rows.push({
        section: 'lambda',
        metric: bundle.entry,
        value: `${mb(bundle.bytes)} (gzip ${mb(bundle.gzipBytes)}), import ${ms(await coldImportMs(bundle.outfile, importRuns))}`,
      });
    }
    log('sizes: agent image contents');
    const runtime = await directoryBytes(OPENCLAW_RUNTIME);
    let prunable = 0;
    for (const part of PRUNABLE) prunable += await directoryBytes(join(OPENCLAW_RUNTIME, 'openclaw', part));
    const worker = await directoryBytes(join(OPENCLAW_RUNTIME, 'openclaw', 'dist', 'worker'));
    rows.push(
      { section: 'agent image', metric: 'OpenClaw runtime (node_modules)', value: mb(runtime) },
      {
        section: 'agent image',
        metric: `  without ${PRUNABLE.join(', ')} (pruned)`,
        value: mb(runtime - prunable),
        baseline: mb(runtime),
        ratio: (runtime - prunable) / runtime,
      },
      { section: 'agent image', metric: '  of which dist/worker (kept: tools use it)', value: mb(worker) },
      {
        section: 'agent image',
        metric: 'our bundle: lambda-handler.mjs',
        value: mb(await bundleAgent('agent/lambda-handler.ts', join(scratch.dir, 'agent'))),
      },
      {
        section: 'agent image',
        metric: 'our bundle: container-entry.mjs',
        value: mb(await bundleAgent('agent/container-entry.ts', join(scratch.dir, 'agent'))),
      },
    );
    return rows;
  } finally {
    await scratch.remove();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const only = new Set((process.env.BENCH_ONLY ?? 'cold,pipeline,sizes').split(','));
  const rows: BenchRow[] = [];
  if (only.has('cold')) {
    const runs = intFromEnv('BENCH_RUNS', 3);
    log(`cold start: ${COLD_VARIANTS.length} variants x ${runs} runs, interleaved`);
    rows.push(...coldRows(await measureColdStart(runs, log)));
  }
  if (only.has('pipeline')) rows.push(...(await pipelineRows()));
  if (only.has('sizes')) rows.push(...(await sizeRows(intFromEnv('BENCH_IMPORT_RUNS', 3))));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `\nserverless-openclaw bench — ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${Math.round((performance.now() - started) / 1000)} s\n\n${formatTable(rows)}\n`,
  );
}

main().then(
  // OpenClaw children are gone, but SDK clients keep sockets alive for a moment; the table is out.
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
