// Sizes and import times: each Lambda bundle built the way infra/cdk/constructs/node-handler.ts has
// esbuild build it, the agent image's contents, and each handler bundle's cold import.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { median } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The options NodeHandler passes to esbuild through aws-lambda-nodejs. */
const CDK_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** Handler entries, as the CDK app names them: `entry: '…'` literals plus the channels' `lambda.ts`. */
export async function lambdaEntries(root = ROOT): Promise<string[]> {
  const entries = new Set<string>();
  for (const dir of ['infra/cdk/stacks', 'infra/cdk/constructs']) {
    for (const file of await readdir(join(root, dir))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const source = await readFile(join(root, dir, file), 'utf8');
      for (const match of source.matchAll(/\bentry: '([^']+\.ts)'/g)) entries.add(match[1]!);
    }
  }
  // chat-channel.ts builds `${kind}s/${channel}/lambda.ts` for each chat channel.
  for (const kind of ['producers', 'consumers']) {
    for (const channel of await readdir(join(root, kind))) {
      const entry = `${kind}/${channel}/lambda.ts`;
      if (await exists(join(root, entry))) entries.add(entry);
    }
  }
  return [...entries].sort();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export interface BundleSize {
  entry: string;
  /** The bundle without its source map, bytes. */
  bytes: number;
  gzipBytes: number;
  outfile: string;
}

/** Bundles each entry as `cdk synth` does (ESM, node24, minified, SDK included) into `outDir`. */
export async function bundleLambdas(entries: readonly string[], outDir: string): Promise<BundleSize[]> {
  // One esbuild call for all entries (no code splitting: each output stays a self-contained bundle).
  await build({
    entryPoints: entries.map((entry) => join(ROOT, entry)),
    outdir: outDir,
    outbase: ROOT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    banner: { js: CDK_BANNER },
    logLevel: 'silent',
  });
  const sizes: BundleSize[] = [];
  for (const entry of entries) {
    const outfile = join(outDir, entry.replace(/\.ts$/, '.mjs'));
    const code = await readFile(outfile);
    sizes.push({ entry, bytes: code.length, gzipBytes: gzipSync(code).length, outfile });
  }
  return sizes;
}

/** The agent image's bundle, as agent/Dockerfile builds it (not minified). */
export async function bundleAgent(entry: string, outDir: string): Promise<number> {
  const outfile = join(outDir, entry.replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: true,
    banner: { js: CDK_BANNER },
    logLevel: 'silent',
  });
  return (await stat(outfile)).size;
}

/** Bytes of every regular file under `dir`, following no symlinks except `dir` itself. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Environment a handler module may read at import; values are placeholders, nothing is called. */
const IMPORT_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  TABLE_NAME: 'bench',
  EVENT_BUS_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

/** Median of `runs` fresh-process imports of `file`, timed inside the child (Node start-up excluded). */
export async function coldImportMs(file: string, runs: number): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t)); process.exit(0);`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', ...IMPORT_ENV },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0
          ? resolve(stdout)
          : reject(new Error(`import of ${relative(ROOT, file)} failed: ${stderr.slice(-500)}`)),
      );
    });
    samples.push(Number(out));
  }
  return median(samples);
}

/** A scratch dir for bundles; remove with the returned function. */
export async function scratchDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'openclaw-bench-sizes-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
