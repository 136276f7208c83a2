// Agent cold start: fresh process -> first partial reply, ours vs a naive embedded OpenClaw turn, each
// variant a fresh child of `process.execPath`, runs interleaved so machine noise hits all alike.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startFakeLlm } from '../test/fixtures/fake-llm.ts';
import { median } from './stats.ts';

const CHILD_SOURCE = fileURLToPath(new URL('./agent-turn-child.ts', import.meta.url));
const WARMUP_SOURCE = fileURLToPath(new URL('../agent/compile-cache-warmup.ts', import.meta.url));
const AGENT_DIR = fileURLToPath(new URL('../agent/', import.meta.url));
const CHILD_TIMEOUT_MS = 180_000;

/**
 * The child and the compile-cache warm-up as esbuild bundles, built as agent/Dockerfile builds the images'
 * entries: the images run one bundle of our code, not TypeScript sources, whose type stripping and ~250
 * extra modules cost every variant 0.3–0.5 s here. The bundles go in agent/ (and are removed after),
 * because our code finds OpenClaw's install and our plugin relative to its own file.
 */
async function bundleChildren(): Promise<{ child: string; warmup: string; remove: () => Promise<void> }> {
  const tag = `.bench-${process.pid}`;
  const child = join(AGENT_DIR, `${tag}-agent-turn-child.mjs`);
  const warmup = join(AGENT_DIR, `${tag}-compile-cache-warmup.mjs`);
  const options = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'silent',
  } as const;
  await build({ ...options, entryPoints: [CHILD_SOURCE], outfile: child });
  await build({ ...options, entryPoints: [WARMUP_SOURCE], outfile: warmup });
  return { child, warmup, remove: () => Promise.all([rm(child), rm(warmup)]).then(() => undefined) };
}

/** One way of starting the agent. */
export interface ColdVariant {
  name: string;
  config: 'naive' | 'lean';
  /** Run with the compile cache that agent/compile-cache-warmup.ts fills at image build. */
  compileCache: boolean;
  /** loadOpenClaw's `prestartWorkers`; true runs loadOpenClaw with its defaults, as the images do. */
  prestartWorkers: boolean;
}

export const COLD_VARIANTS: readonly ColdVariant[] = [
  {
    name: 'naive (OpenClaw defaults, no cache)',
    config: 'naive',
    compileCache: false,
    prestartWorkers: false,
  },
  { name: 'lean config', config: 'lean', compileCache: false, prestartWorkers: false },
  { name: 'lean config + baked compile cache', config: 'lean', compileCache: true, prestartWorkers: false },
  {
    name: 'ours: lean + compile cache + worker prestart (the images)',
    config: 'lean',
    compileCache: true,
    prestartWorkers: true,
  },
];

/** What one child measured; times in ms. */
export interface ColdRun {
  /** Spawn -> `BENCH_FIRST_DELTA` on the child's stdout, seen by the parent. */
  firstDeltaMs: number;
  importMs: number;
  firstTurnMs: number;
  warmTurnMs: number[];
  llmOwnMs: number[];
  maxRssMb: number;
}

export interface ColdStartResult {
  variant: ColdVariant;
  runs: ColdRun[];
  medianFirstDeltaMs: number;
}

/** Runs every variant `runs` times, interleaved, after filling the compile cache once (not measured). */
export async function measureColdStart(
  runs: number,
  log: (line: string) => void,
): Promise<ColdStartResult[]> {
  const llm = await startFakeLlm({ chunkDelayMs: 0 });
  const scratch = await mkdtemp(join(tmpdir(), 'openclaw-bench-cold-'));
  const cacheDir = join(scratch, 'compile-cache');
  const bundles = await bundleChildren();
  try {
    log('cold start: filling the compile cache as the image build does');
    await runNode([bundles.warmup], { NODE_COMPILE_CACHE: cacheDir }, () => undefined);
    const results = COLD_VARIANTS.map((variant) => ({ variant, runs: [] as ColdRun[] }));
    for (let i = 0; i < runs; i++) {
      for (const result of results) {
        const run = await runChild(
          bundles.child,
          result.variant,
          llm.baseUrl,
          join(scratch, `run-${i}-variant-${results.indexOf(result)}`),
          cacheDir,
        );
        log(`cold start: ${result.variant.name} #${i + 1}: first reply ${Math.round(run.firstDeltaMs)} ms`);
        result.runs.push(run);
      }
    }
    return results.map((result) => ({
      ...result,
      medianFirstDeltaMs: median(result.runs.map((run) => run.firstDeltaMs)),
    }));
  } finally {
    await llm.close();
    await bundles.remove();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function runChild(
  childBundle: string,
  variant: ColdVariant,
  llmUrl: string,
  root: string,
  cacheDir: string,
): Promise<ColdRun> {
  const started = performance.now();
  let firstDeltaMs: number | undefined;
  const output = await runNode(
    [childBundle],
    {
      BENCH_VARIANT: variant.config,
      BENCH_LLM_URL: llmUrl,
      BENCH_ROOT: root,
      BENCH_PRESTART: variant.prestartWorkers ? '1' : '0',
      ...(variant.compileCache ? { NODE_COMPILE_CACHE: cacheDir } : {}),
    },
    (line) => {
      if (line === 'BENCH_FIRST_DELTA') firstDeltaMs ??= performance.now() - started;
    },
  );
  const resultLine = output.find((line) => line.startsWith('BENCH_RESULT '));
  if (!resultLine || firstDeltaMs === undefined)
    throw new Error(`${variant.name}: the child reported no result`);
  return {
    firstDeltaMs,
    ...(JSON.parse(resultLine.slice('BENCH_RESULT '.length)) as Omit<ColdRun, 'firstDeltaMs'>),
  };
}

/** Runs a fresh Node process; resolves with its stdout lines, rejects with its stderr when it fails. */
function runNode(
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void,
): Promise<string[]> {
  const base = { ...process.env };
  // Only the variants that say so get a compile cache.
  delete base.NODE_COMPILE_CACHE;
  const child = spawn(process.execPath, args, {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new Error(`${args.join(' ')} exited with ${code ?? signal}:\n${stderr}`));
    });
  });
}
