// The one place that knows how to run an OpenClaw turn. Everything else calls `loadOpenClaw()` once
// at start-up and then `adapter.runTurn()`.
//
// Two modes:
// - embedded (the normal one): OpenClaw's runner runs inside our process. It is not a public export
//   of openclaw 2026.9.6, so this module finds it in `dist/` at start-up and checks its shape; a
//   second turn in a warm process then takes ~0.5–1 s instead of a 14–20 s CLI process.
// - cli (the fallback): when the runner cannot be resolved (a new OpenClaw moved its chunks), we
//   spawn the public `openclaw agent --local --json` for each turn rather than crash.
//
// Facts measured on openclaw 2026.9.6, Node 24.21, 2 cores, loopback fake LLM (see DESIGN.md and
// openclaw-adapter.test.ts):
// - Importing the runner takes 3.2–5.7 s; a first turn 5–8.5 s; a warm turn 0.3–1 s; RSS 650–810 MB.
// - With the LLM unreachable OpenClaw retries for 73–93 s whatever `timeoutMs` says, but it honours
//   `abortSignal` within ~50–250 ms, so every turn gets a signal that also fires at `timeoutMs`.
//   After an abort `runTurn` still waits (up to `settleTimeoutMs`) for the run to stop writing the
//   state dir, because the caller snapshots that dir right after, and reports it in `settled`.
// - The state dir (sessions in SQLite) comes from `process.env.OPENCLAW_STATE_DIR` only: no runner
//   parameter or config key moves `state/openclaw.sqlite`, and ~50 dist modules call
//   `resolveStateDir()` against `process.env`. So embedded turns are serialised process-wide and
//   each turn sets the env var before it starts.
// - A turn needs the session's current `sessionId`: a new id for an existing key fails with
//   "Session changed before writer admission", and compaction can roll the id. We read it from the
//   public `openclaw/plugin-sdk/session-store-runtime` before each turn.
// - Session keys are lower-cased by OpenClaw, so `conv-AB` and `conv-ab` would share a session;
//   {@link openClawSessionKey} keeps case-distinct keys apart.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { collectTurnImages, listNames, outboundMediaDir, type TurnImage } from './browser/turn-images.ts';
import { OPENCLAW_AGENT_ID } from './openclaw-config.ts';

/** One turn: a prompt into one conversation of one user. */
export interface OpenClawTurnRequest {
  /** This user's OpenClaw state dir (restored from S3 before the turn). */
  stateDir: string;
  workspaceDir: string;
  /** One per conversation, e.g. `conv-<conversationId>`; the same key means the model sees history. */
  sessionKey: string;
  prompt: string;
  /** From `buildOpenClawConfig`. */
  config: Record<string, unknown>;
  runId: string;
  timeoutMs: number;
  abortSignal: AbortSignal;
  /** Called with the whole reply so far, each time it grows. */
  onPartialText?: (cumulativeText: string) => void;
  /** Extra environment for the turn, e.g. the API key variable the config's SecretRef names. */
  env?: Record<string, string>;
  /**
   * The workspace's `skills/` folder changed since this process's last turn in it (agent/skills-sync.ts):
   * OpenClaw must look at it again. It caches what it found there per workspace, and only its file
   * watcher (off in our lean config) would tell it, so a skill uploaded while a runtime is warm was
   * never listed to the model. @default false
   */
  skillsChanged?: boolean;
  /**
   * After an abort (or `timeoutMs`), how long to wait for OpenClaw's run (or the CLI process) to
   * actually stop before returning, so the state dir is not snapshotted mid-write. OpenClaw stops
   * 50–250 ms after an abort (measured). See {@link OpenClawTurnResult.settled}.
   * @default 3000
   */
  settleTimeoutMs?: number;
}

/** What a turn produced. */
export interface OpenClawTurnResult {
  text: string;
  isError: boolean;
  errorMessage?: string;
  stopReason?: string;
  /** The abort signal fired (or `timeoutMs` passed) before the turn finished. */
  aborted: boolean;
  /** The turn was stopped because `timeoutMs` passed (implies `aborted`). */
  timedOut?: boolean;
  usage?: { inputTokens?: number; outputTokens?: number };
  /** OpenClaw's transcript id for the session after this turn. */
  sessionId?: string;
  /**
   * Nothing of this turn is still running: the run (or CLI process) finished, failed or never
   * started before `runTurn` returned. Always true unless `aborted`; false when an aborted run did not
   * stop within `settleTimeoutMs`, in which case it may still be writing the state dir.
   */
  settled: boolean;
  /**
   * Local image files the reply carries: OpenClaw's `MEDIA:<path>` lines, and browser screenshots moved
   * out of the state dir (agent/browser/turn-images.ts). The type is a hint. Absent when there were none.
   */
  images?: TurnImage[];
}

/** Runs OpenClaw turns; get one from {@link loadOpenClaw}. */
export interface OpenClawAdapter {
  readonly mode: 'embedded' | 'cli';
  /** The installed OpenClaw version. */
  readonly version: string;
  /** Why the embedded runner was not used, when `mode` is `cli`. */
  readonly fallbackReason?: string;
  runTurn(req: OpenClawTurnRequest): Promise<OpenClawTurnResult>;
}

/** Options for {@link loadOpenClaw}. */
export interface LoadOpenClawOptions {
  /** Directory of the installed `openclaw` package. Default: env `OPENCLAW_PACKAGE_DIR`, else the pinned copy. */
  packageDir?: string;
  /** Skip the embedded runner and spawn the CLI for every turn. */
  forceCli?: boolean;
  /** Where the fallback warning goes. Default: `console.warn`. */
  warn?: (message: string) => void;
  /**
   * Boot OpenClaw's session-history worker thread while the runner is imported, so the first turn does
   * not wait for it (see {@link prestartSessionWorker}). Best effort: a failure changes nothing.
   * It pays only with a second core (the worker boots beside the import): measured 5.5 -> 4.7 s to the
   * first reply on 2 idle cores, 5–15% slower with both cores busy (docs/performance.md).
   * @default true when the machine has more than one core (a 3008 MB Lambda has two; a 1-vCPU task one)
   */
  prestartWorkers?: boolean;
}

/** OpenClaw is not installed (or not usable at all, not even through its CLI). */
export class OpenClawUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OpenClawUnavailableError';
  }
}

/** The pinned copy installed by agent/openclaw-runtime/install.mjs. */
const DEFAULT_PACKAGE_DIR = fileURLToPath(
  new URL('./openclaw-runtime/node_modules/openclaw', import.meta.url),
);

/**
 * Resolves OpenClaw and checks that it can run turns; call once at start-up.
 *
 * Tries the embedded runner first (importing it takes 3–5 s, which is why this happens up front and
 * not on the first turn) and falls back to the CLI when anything about the runner's private chunks is
 * not as expected. Throws {@link OpenClawUnavailableError} only when neither works.
 */
export async function loadOpenClaw(options: LoadOpenClawOptions = {}): Promise<OpenClawAdapter> {
  const packageDir = resolve(options.packageDir ?? process.env.OPENCLAW_PACKAGE_DIR ?? DEFAULT_PACKAGE_DIR);
  const manifest = await readManifest(packageDir);
  const idleStateDir = prepareProcessEnv();
  if (options.forceCli) return createCliAdapter(packageDir, manifest, 'forced by option');
  try {
    // Started before the runner's import, not after it: the worker thread boots on the other core while
    // this thread imports (both share one module map, so nothing is loaded twice).
    if (options.prestartWorkers ?? availableParallelism() > 1)
      void prestartSessionWorker(join(packageDir, 'dist'), idleStateDir);
    const runtime = await loadEmbeddedRuntime(packageDir, manifest);
    return createEmbeddedAdapter(runtime, manifest.version);
  } catch (error) {
    const reason = `embedded OpenClaw runner unavailable: ${errorText(error)}`;
    (options.warn ?? console.warn)(`[openclaw-adapter] ${reason}; falling back to the OpenClaw CLI`);
    return createCliAdapter(packageDir, manifest, reason);
  }
}

/**
 * The session key OpenClaw stores for one of our keys: `agent:main:<key>`.
 *
 * OpenClaw lower-cases session keys, and our conversation ids may be mixed-case, so a key with
 * upper-case letters gets a short hash of the original appended to stay distinct.
 */
export function openClawSessionKey(sessionKey: string): string {
  const lowered = sessionKey.toLowerCase();
  const distinct =
    lowered === sessionKey
      ? lowered
      : `${lowered}-${createHash('sha256').update(sessionKey).digest('hex').slice(0, 10)}`;
  return `agent:${OPENCLAW_AGENT_ID}:${distinct}`;
}

// ---------------------------------------------------------------------------------------------
// Process environment

/**
 * Set once, before OpenClaw is imported: some of its modules read these at import time.
 * - SQLite puts temp files in SQLITE_TMPDIR/TMPDIR; on Lambda only /tmp is writable.
 * - OPENCLAW_STATE_DIR defaults to ~/.openclaw, which Lambda cannot write; until the first turn sets
 *   the user's dir, point it at a scratch dir so nothing lands in $HOME.
 */
function prepareProcessEnv(): string {
  process.env.SQLITE_TMPDIR ??= tmpdir();
  process.env.TMPDIR ??= tmpdir();
  // Per process: two runtimes on one machine (local mode and tests, several Lambda sandboxes never
  // share /tmp) must not contend for the SQLite files OpenClaw opens at import time.
  process.env.OPENCLAW_STATE_DIR ??= join(tmpdir(), `serverless-openclaw-idle-state-${process.pid}`);
  return process.env.OPENCLAW_STATE_DIR;
}

/** Applies a turn's environment. Values stay set after the turn: OpenClaw may read them in post-turn work. */
function applyTurnEnv(req: OpenClawTurnRequest): void {
  process.env.OPENCLAW_STATE_DIR = req.stateDir;
  for (const [name, value] of Object.entries(req.env ?? {})) process.env[name] = value;
}

// ---------------------------------------------------------------------------------------------
// Package resolution

interface PackageManifest {
  version: string;
  bin?: string | Record<string, string>;
  exports?: Record<string, unknown>;
}

async function readManifest(packageDir: string): Promise<PackageManifest> {
  try {
    const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as PackageManifest;
    if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
    return manifest;
  } catch (error) {
    throw new OpenClawUnavailableError(`OpenClaw is not installed in ${packageDir}: ${errorText(error)}`, {
      cause: error,
    });
  }
}

/** What the embedded mode needs from OpenClaw's dist, resolved and checked. */
interface EmbeddedRuntime {
  runEmbeddedAgent: (params: Record<string, unknown>) => Promise<unknown>;
  prepareAgentRunAdmission: (params: Record<string, unknown>) => PreparedRunAdmission;
  createOperationalRunInstanceRef: (runId: string) => { runId: string };
  getSessionEntry: (params: Record<string, unknown>) => { sessionId?: unknown } | undefined;
  /** What OpenClaw's skills watcher calls on a change: new discovery and a new snapshot for the workspace. */
  bumpSkillsSnapshotVersion: (params: { workspaceDir: string; reason: string }) => number;
}

interface PreparedRunAdmission {
  close(): void;
}

/** Public-ish entry of the runner; it re-exports `runEmbeddedAgent` by name. */
const RUNNER_ENTRY = 'run-embedded.runtime.js';
/** The content-hashed chunk holding the run-admission functions; the hash changes between builds. */
const ADMISSION_CHUNK = /^admitted-run-context-[\w-]+\.mjs$/;
/** The chunk holding the skills cache versions (module state: the copy the runner imports counts). */
const SKILLS_REFRESH_CHUNK = /^refresh-state-[\w-]+\.mjs$/;
/** How deep to follow the runner's static imports looking for that chunk (it is 3 deep in 2026.9.6). */
const MAX_IMPORT_DEPTH = 4;
const SESSION_STORE_EXPORT = './plugin-sdk/session-store-runtime';

async function loadEmbeddedRuntime(packageDir: string, manifest: PackageManifest): Promise<EmbeddedRuntime> {
  const distDir = join(packageDir, 'dist');
  // dist holds two `admitted-run-context-*` files: the implementation, which exports under one-letter
  // aliases that change per build, and a facade re-exporting it by name. Taking the chunk the runner
  // itself imports guarantees the admission's module state (WeakMaps keyed by admission) is the one
  // the runner checks; its `export { … as x }` list tells us the alias of each function.
  const [admissionChunk, refreshChunk] = (await findImportedChunks(distDir, RUNNER_ENTRY, [
    ADMISSION_CHUNK,
    SKILLS_REFRESH_CHUNK,
  ])) as [string, string];
  const admissionExports = parseExportNames(await readFile(join(distDir, admissionChunk), 'utf8'));
  const refreshExports = parseExportNames(await readFile(join(distDir, refreshChunk), 'utf8'));
  const runner = await importFile(join(distDir, RUNNER_ENTRY));
  const admission = await importFile(join(distDir, admissionChunk));
  const refresh = await importFile(join(distDir, refreshChunk));
  const sessionStore = await importFile(join(packageDir, exportTarget(manifest, SESSION_STORE_EXPORT)));
  return {
    runEmbeddedAgent: requireFunction(runner, 'runEmbeddedAgent', RUNNER_ENTRY),
    prepareAgentRunAdmission: requireFunction(
      admission,
      admissionExports.get('prepareAgentRunAdmission'),
      admissionChunk,
    ),
    createOperationalRunInstanceRef: requireFunction(
      admission,
      admissionExports.get('createOperationalRunInstanceRef'),
      admissionChunk,
    ),
    getSessionEntry: requireFunction(sessionStore, 'getSessionEntry', SESSION_STORE_EXPORT),
    bumpSkillsSnapshotVersion: requireFunction(
      refresh,
      refreshExports.get('bumpSkillsSnapshotVersion'),
      refreshChunk,
    ),
  } as EmbeddedRuntime;
}

/**
 * Walks static relative imports breadth-first from `entry` and returns, for each pattern, the one module
 * matching it that the nearest importer pulls in. One walk for all patterns: it reads only the files on
 * the way, and stops once every pattern is found (at depth 3, 173 files, in 2026.9.6).
 */
async function findImportedChunks(distDir: string, entry: string, patterns: RegExp[]): Promise<string[]> {
  const chunks: (string | undefined)[] = patterns.map(() => undefined);
  let frontier = [entry];
  const seen = new Set(frontier);
  for (let depth = 0; depth < MAX_IMPORT_DEPTH && frontier.length > 0; depth++) {
    const found = patterns.map(() => new Set<string>());
    const next: string[] = [];
    for (const file of frontier) {
      for (const specifier of staticImports(await readFile(join(distDir, file), 'utf8'))) {
        const name = specifier.slice(2);
        const index = patterns.findIndex((pattern, i) => chunks[i] === undefined && pattern.test(name));
        if (index >= 0) found[index]!.add(name);
        else if (!seen.has(name)) {
          seen.add(name);
          next.push(name);
        }
      }
    }
    found.forEach((names, i) => {
      if (names.size > 1)
        throw new Error(`${entry} imports several ${patterns[i]} chunks: ${[...names].join(', ')}`);
      if (names.size === 1) chunks[i] = [...names][0];
    });
    if (chunks.every((chunk) => chunk !== undefined)) return chunks as string[];
    frontier = next;
  }
  const missing = patterns.filter((_, i) => chunks[i] === undefined).join(', ');
  throw new Error(`no chunk matching ${missing} among the static imports of ${entry}`);
}

/**
 * Relative specifiers of the static `import … from "./x"` / `export … from "./x"` / `import "./x"`
 * statements. OpenClaw's bundler writes one statement per line, so a line scan is enough; dynamic
 * `import("./x")` calls are skipped on purpose (they are not loaded with the runner).
 */
function staticImports(source: string): string[] {
  const specifiers: string[] = [];
  const statement = /^\s*(?:import|export)\b[^("'`]*?["'](\.\/[^"']+)["'];?\s*$/;
  for (const line of source.split('\n')) {
    const match = statement.exec(line);
    if (match) specifiers.push(match[1]!);
  }
  return specifiers;
}

/** Maps each local name in a chunk's `export { local as exported, … }` lists to its exported name. */
function parseExportNames(source: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const match of source.matchAll(/\bexport\s*\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(',')) {
      const item = /^\s*([\w$]+)(?:\s+as\s+([\w$]+))?\s*$/.exec(part);
      if (item) names.set(item[1]!, item[2] ?? item[1]!);
    }
  }
  return names;
}

/** File path of a package `exports` entry (string or `{ import | default }`). */
function exportTarget(manifest: PackageManifest, subpath: string): string {
  const entry = manifest.exports?.[subpath];
  const target =
    typeof entry === 'string'
      ? entry
      : ((entry as Record<string, unknown> | undefined)?.import ??
        (entry as Record<string, unknown> | undefined)?.default);
  if (typeof target !== 'string') throw new Error(`package.json exports no "${subpath}"`);
  return target;
}

async function importFile(path: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

function requireFunction(module: Record<string, unknown>, name: string | undefined, where: string): unknown {
  const value = name === undefined ? undefined : module[name];
  if (typeof value !== 'function')
    throw new Error(`${where} has no function export ${name ?? '(name not found)'}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Worker prestart

/** The chunks holding the session-history worker pool (an implementation and a facade, hashed names). */
const SESSION_WORKER_CHUNK = /^session-transcript-worker-runtime-[\w-]+\.mjs$/;

/**
 * A first turn waits ~1 s (2 cores, measured with `npm run bench`) for OpenClaw's session-history worker
 * thread to boot and load its own modules: the runner's first presence read of the session starts it.
 * Doing one such read now, on the idle state dir, boots that worker (its pool never retires it) while the
 * main thread is still busy importing the runner. Never rejects: when the chunk moved or the read fails,
 * the turn simply boots the worker itself as before.
 *
 * The read names its store path. Without one OpenClaw resolves it from its runtime config, which it then
 * loads from the config file and caches for the process: before our first turn has written the browser
 * keys there (see {@link mirrorBrowserConfig}), so the browser service ran with defaults and Chromium
 * failed to start (test/agent-browser-tool.test.ts).
 */
async function prestartSessionWorker(distDir: string, stateDir: string): Promise<void> {
  try {
    for (const file of (await readdir(distDir)).filter((name) => SESSION_WORKER_CHUNK.test(name))) {
      const alias = parseExportNames(await readFile(join(distDir, file), 'utf8')).get(
        'prepareSessionEntryPresenceRead',
      );
      if (!alias) continue;
      const prepare = requireFunction(await importFile(join(distDir, file)), alias, file) as (params: {
        agentId: string;
        sessionKey: string;
        env: NodeJS.ProcessEnv;
        storePath: string;
      }) => { read(): Promise<unknown> };
      await prepare({
        agentId: OPENCLAW_AGENT_ID,
        sessionKey: openClawSessionKey('prestart'),
        // OpenClaw's default: <state dir>/agents/<id>/sessions/sessions.json.
        storePath: join(stateDir, 'agents', OPENCLAW_AGENT_ID, 'sessions', 'sessions.json'),
        env: process.env,
      }).read();
      return;
    }
  } catch {
    // Best effort only (see above).
  }
}

// ---------------------------------------------------------------------------------------------
// Embedded mode

/** After an abort, how long a still-running turn may keep the process-wide lock before we move on. */
const ABORT_DRAIN_MS = 10_000;
/** Default {@link OpenClawTurnRequest.settleTimeoutMs}. */
const DEFAULT_SETTLE_TIMEOUT_MS = 3_000;

/** Tail of the queue of embedded turns: they share `process.env`, so they run one at a time. */
let turnQueue: Promise<void> = Promise.resolve();

/** Queues for the process-wide turn lock; resolves with the release function once it is ours. */
function acquireTurnLock(): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolveHeld) => {
    release = once(resolveHeld);
  });
  const acquired = turnQueue.then(() => release);
  turnQueue = turnQueue.then(() => held);
  return acquired;
}

function createEmbeddedAdapter(runtime: EmbeddedRuntime, version: string): OpenClawAdapter {
  return {
    mode: 'embedded',
    version,
    runTurn: (req) => runEmbeddedTurn(runtime, req),
  };
}

async function runEmbeddedTurn(
  runtime: EmbeddedRuntime,
  req: OpenClawTurnRequest,
): Promise<OpenClawTurnResult> {
  const { signal, dispose } = turnSignal(req);
  const partial = partialTracker(req.onPartialText);
  try {
    const lock = acquireTurnLock();
    const release = await untilAborted(lock, signal);
    if (release === ABORTED) {
      // Nothing of ours started, so there is nothing to wait for.
      void lock.then((lateRelease) => lateRelease());
      return abortedResult(signal, '', true);
    }
    const run = runLockedEmbeddedTurn(runtime, req, signal, partial.onPartial).catch((error: unknown) =>
      failedResult(error, signal),
    );
    const outcome = await untilAborted(run, signal);
    if (outcome === ABORTED) {
      // An aborted run may still stream for a moment; the caller hears no more.
      partial.stop();
      const settleTimeoutMs = settleTimeout(req);
      // OpenClaw stops within ~250 ms of an abort (measured), but keep the lock until it really has,
      // so the next turn cannot switch OPENCLAW_STATE_DIR under it; cap the wait in case it never does.
      void settleWithin(run, Math.max(ABORT_DRAIN_MS, settleTimeoutMs), true).then(release);
      // Return only once it has stopped writing the state dir (the caller snapshots it next), or at
      // the bound, saying so in `settled`.
      const settled = await settleWithin(run, settleTimeoutMs);
      return abortedResult(signal, partial.latest(), settled);
    }
    release();
    return outcome;
  } finally {
    partial.stop();
    dispose();
  }
}

async function runLockedEmbeddedTurn(
  runtime: EmbeddedRuntime,
  req: OpenClawTurnRequest,
  signal: AbortSignal,
  onPartial: (text: string) => void,
): Promise<OpenClawTurnResult> {
  applyTurnEnv(req);
  await Promise.all([mkdir(req.stateDir, { recursive: true }), mkdir(req.workspaceDir, { recursive: true })]);
  await mirrorBrowserConfig(req.config);
  const mediaBefore = await listNames(outboundMediaDir(req.stateDir));
  // As the watcher would on a change: OpenClaw discovers the folder again and rebuilds the sessions'
  // skills snapshots (`config-change` is the reason that always publishes). Inside the turn lock: no
  // other turn is reading the cache.
  if (req.skillsChanged) {
    runtime.bumpSkillsSnapshotVersion({ workspaceDir: resolve(req.workspaceDir), reason: 'config-change' });
  }
  const sessionKey = openClawSessionKey(req.sessionKey);
  const admission = runtime.prepareAgentRunAdmission({
    cfg: req.config,
    operationalRunInstance: runtime.createOperationalRunInstanceRef(req.runId),
    facts: {
      runId: req.runId,
      agentId: OPENCLAW_AGENT_ID,
      ingress: { kind: 'system', boundary: 'serverless-openclaw', state: 'present' },
    },
  });
  try {
    const result = await runtime.runEmbeddedAgent({
      sessionId: currentSessionId(runtime, sessionKey) ?? randomUUID(),
      sessionKey,
      agentId: OPENCLAW_AGENT_ID,
      trigger: 'user',
      workspaceDir: req.workspaceDir,
      config: req.config,
      prompt: req.prompt,
      runId: req.runId,
      timeoutMs: req.timeoutMs,
      abortSignal: signal,
      preparedRunAdmission: admission,
      onPartialReply: (payload: { text?: unknown } | undefined) => {
        if (typeof payload?.text === 'string') onPartial(payload.text);
      },
    });
    return withImages(toTurnResult(result as RunResult, signal), req, mediaBefore);
  } finally {
    admission.close();
  }
}

/**
 * OpenClaw's browser service does not read the runner's `config` parameter: it loads the config file
 * (`OPENCLAW_CONFIG_PATH`, default `<state dir>/openclaw.json`) when it handles a request, and would
 * apply defaults (no `allowedHostnames`, default ports) without one (measured on 2026.9.6). So the
 * browser-related keys go to one file per process, the same for every user; it holds no secrets.
 */
async function mirrorBrowserConfig(config: Record<string, unknown>): Promise<void> {
  if (!config.browser) return;
  const mirror = JSON.stringify({ browser: config.browser, gateway: config.gateway });
  if (mirror === mirroredBrowserConfig) return;
  const path = join(tmpdir(), `serverless-openclaw-browser-config-${process.pid}.json`);
  await writeFile(path, mirror, { mode: 0o600 });
  process.env.OPENCLAW_CONFIG_PATH = path;
  mirroredBrowserConfig = mirror;
}
let mirroredBrowserConfig: string | undefined;

/** Adds the images the turn left in the state dir; a failure to collect them must not fail the turn. */
async function withImages(
  result: OpenClawTurnResult,
  req: OpenClawTurnRequest,
  before: Set<string>,
): Promise<OpenClawTurnResult> {
  const images = await collectTurnImages(req.stateDir, before, req.runId).catch(() => []);
  return images.length > 0 ? { ...result, images: [...(result.images ?? []), ...images] } : result;
}

/** The session's current transcript id, or undefined for a new session. Reads this turn's state dir. */
function currentSessionId(runtime: EmbeddedRuntime, sessionKey: string): string | undefined {
  const entry = runtime.getSessionEntry({
    agentId: OPENCLAW_AGENT_ID,
    sessionKey,
    readConsistency: 'latest',
    env: process.env,
  });
  return typeof entry?.sessionId === 'string' && entry.sessionId ? entry.sessionId : undefined;
}

// ---------------------------------------------------------------------------------------------
// CLI mode

/** After SIGTERM, how long the CLI gets before SIGKILL. */
const CLI_KILL_GRACE_MS = 2_000;

async function createCliAdapter(
  packageDir: string,
  manifest: PackageManifest,
  fallbackReason: string,
): Promise<OpenClawAdapter> {
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.openclaw;
  if (!bin) throw new OpenClawUnavailableError(`OpenClaw in ${packageDir} has no CLI (${fallbackReason})`);
  const binPath = join(packageDir, bin);
  try {
    await access(binPath);
  } catch (error) {
    throw new OpenClawUnavailableError(`OpenClaw CLI ${binPath} is missing (${fallbackReason})`, {
      cause: error,
    });
  }
  return {
    mode: 'cli',
    version: manifest.version,
    fallbackReason,
    runTurn: (req) => runCliTurn(binPath, req),
  };
}

/**
 * One turn through `openclaw agent --local --json`, a fresh process per turn (12–35 s measured).
 * The CLI takes no run id and prints no partial text: `onPartialText` gets the final text once.
 */
async function runCliTurn(binPath: string, req: OpenClawTurnRequest): Promise<OpenClawTurnResult> {
  const { signal, dispose } = turnSignal(req);
  try {
    return await runCliProcess(binPath, req, signal);
  } catch (error) {
    return failedResult(error, signal);
  } finally {
    dispose();
  }
}

async function runCliProcess(
  binPath: string,
  req: OpenClawTurnRequest,
  signal: AbortSignal,
): Promise<OpenClawTurnResult> {
  if (signal.aborted) return abortedResult(signal, '', true);
  await Promise.all([mkdir(req.stateDir, { recursive: true }), mkdir(req.workspaceDir, { recursive: true })]);
  const scratch = await mkdtemp(join(tmpdir(), 'openclaw-cli-'));
  try {
    const configPath = join(scratch, 'openclaw.json');
    const promptPath = join(scratch, 'prompt.txt');
    await writeFile(configPath, JSON.stringify(req.config));
    await writeFile(promptPath, req.prompt);
    const mediaBefore = await listNames(outboundMediaDir(req.stateDir));
    const args = [
      binPath,
      'agent',
      '--local',
      '--json',
      '--agent',
      OPENCLAW_AGENT_ID,
      '--session-key',
      openClawSessionKey(req.sessionKey),
      '--message-file',
      promptPath,
      '--timeout',
      String(Math.max(1, Math.ceil(req.timeoutMs / 1000))),
    ];
    const env = {
      ...withoutTestRunnerEnv(process.env),
      ...req.env,
      OPENCLAW_STATE_DIR: req.stateDir,
      OPENCLAW_CONFIG_PATH: configPath,
    };
    const child = spawn(process.execPath, args, {
      cwd: req.workspaceDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectCliOutput(child);
    const outcome = await untilAborted(output, signal);
    if (outcome === ABORTED) {
      stopChild(child);
      // The CLI writes the state dir until it exits; wait for that (bounded) before returning.
      const settled = await settleWithin(output, settleTimeout(req));
      return abortedResult(signal, '', settled);
    }
    const result = await withImages(cliResult(outcome), req, mediaBefore);
    if (result.text) safeCall(req.onPartialText, result.text);
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The environment minus Vitest's markers: when `openclaw.mjs` sees `VITEST=true` it exits 0 without
 * doing anything (measured), so a CLI spawned from a test would silently do nothing.
 */
export function withoutTestRunnerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('VITEST')));
}

interface CliOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collectCliOutput(child: ChildProcess): Promise<CliOutput> {
  return new Promise((resolveOutput, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolveOutput({ code, stdout, stderr }));
  });
}

function cliResult(output: CliOutput): OpenClawTurnResult {
  const start = output.stdout.indexOf('{');
  if (start >= 0) {
    try {
      const result = toTurnResult(JSON.parse(output.stdout.slice(start)) as RunResult, undefined);
      if (output.code === 0 || result.isError) return result;
    } catch {
      // Not JSON: fall through and report the CLI's own error.
    }
  }
  return {
    text: '',
    isError: true,
    errorMessage: cliErrorMessage(output),
    aborted: false,
    settled: true,
  };
}

/** The CLI prints `[openclaw] Reason: …` on failure; otherwise use the last line of stderr. */
function cliErrorMessage(output: CliOutput): string {
  const plain = stripVTControlCharacters(output.stderr);
  const reason = /Reason:\s*(.+)/.exec(plain)?.[1];
  const last = plain.trim().split('\n').at(-1);
  return reason || last || `openclaw CLI exited with code ${output.code}`;
}

function stopChild(child: ChildProcess): void {
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, CLI_KILL_GRACE_MS).unref();
}

// ---------------------------------------------------------------------------------------------
// Results

/** The parts of OpenClaw's run result we read (same shape from the runner and `--json`). */
interface RunResult {
  payloads?: {
    text?: string;
    isError?: boolean;
    isReasoning?: boolean;
    /** OpenClaw strips `MEDIA:` lines from the text and reports their targets here. */
    mediaUrl?: string;
    mediaUrls?: string[];
  }[];
  meta?: {
    aborted?: boolean;
    stopReason?: string;
    completion?: { stopReason?: string };
    error?: { message?: string; kind?: string } | string;
    agentMeta?: { sessionId?: string; usage?: { input?: number; output?: number } };
  };
}

function toTurnResult(result: RunResult, signal: AbortSignal | undefined): OpenClawTurnResult {
  const payloads = result.payloads ?? [];
  const visible = payloads.filter((payload) => !payload.isReasoning && !payload.isError && payload.text);
  const errorPayload = payloads.find((payload) => payload.isError && payload.text);
  const meta = result.meta ?? {};
  const metaError = typeof meta.error === 'string' ? meta.error : meta.error?.message;
  const stopReason = meta.stopReason ?? meta.completion?.stopReason;
  const aborted = meta.aborted === true || signal?.aborted === true;
  const errorMessage =
    metaError ?? errorPayload?.text ?? (stopReason === 'error' ? 'OpenClaw run failed' : undefined);
  const usage = meta.agentMeta?.usage;
  return {
    text: visible.map((payload) => payload.text).join('\n\n'),
    isError: errorMessage !== undefined || aborted,
    ...(errorMessage !== undefined ? { errorMessage } : aborted ? { errorMessage: 'aborted' } : {}),
    ...(stopReason !== undefined ? { stopReason } : {}),
    aborted,
    ...(usage ? { usage: { inputTokens: usage.input, outputTokens: usage.output } } : {}),
    ...(meta.agentMeta?.sessionId ? { sessionId: meta.agentMeta.sessionId } : {}),
    ...imagesOf(payloads),
    settled: true,
  };
}

const IMAGE_TYPE_HINTS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/**
 * The local files the payloads name as media. Remote URLs are left out: fetching what the model names
 * would let it make the agent download anything; the turn runner reads (and sniffs) local files only.
 */
function imagesOf(payloads: NonNullable<RunResult['payloads']>): Pick<OpenClawTurnResult, 'images'> {
  const paths = new Set<string>();
  for (const payload of payloads) {
    if (payload.isError || payload.isReasoning) continue;
    for (const url of payload.mediaUrls ?? (payload.mediaUrl ? [payload.mediaUrl] : [])) {
      if (typeof url !== 'string') continue;
      if (url.startsWith('/')) paths.add(url);
      else if (url.startsWith('file://')) {
        try {
          paths.add(fileURLToPath(url));
        } catch {
          // not a local file URL (file://host/...): left out
        }
      }
    }
  }
  if (paths.size === 0) return {};
  const images = [...paths].map((path) => ({
    path,
    contentType: IMAGE_TYPE_HINTS[path.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream',
  }));
  return { images };
}

/**
 * A thrown error as a result: OpenClaw rejects with the abort reason when the signal fires. The
 * rejection itself means the run is over, hence `settled`.
 */
function failedResult(error: unknown, signal: AbortSignal): OpenClawTurnResult {
  if (signal.aborted) return abortedResult(signal, '', true);
  return { text: '', isError: true, errorMessage: errorText(error), aborted: false, settled: true };
}

function abortedResult(signal: AbortSignal, partialText: string, settled: boolean): OpenClawTurnResult {
  const timedOut = signal.reason instanceof TurnTimeoutError;
  return {
    text: partialText,
    isError: true,
    errorMessage: timedOut ? (signal.reason as Error).message : `aborted: ${errorText(signal.reason)}`,
    stopReason: timedOut ? 'timeout' : 'aborted',
    aborted: true,
    ...(timedOut ? { timedOut } : {}),
    settled,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

class TurnTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`OpenClaw turn timed out after ${timeoutMs} ms`);
    this.name = 'TurnTimeoutError';
  }
}

/** The caller's signal, also fired at `timeoutMs`: OpenClaw's own timeout does not stop its retries. */
function turnSignal(req: OpenClawTurnRequest): { signal: AbortSignal; dispose: () => void } {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new TurnTimeoutError(req.timeoutMs)), req.timeoutMs);
  timer.unref();
  return { signal: AbortSignal.any([req.abortSignal, timeout.signal]), dispose: () => clearTimeout(timer) };
}

/** Remembers the latest cumulative text and forwards growth to the caller's callback until stopped. */
function partialTracker(callback: ((text: string) => void) | undefined) {
  let latest = '';
  let stopped = false;
  return {
    latest: () => latest,
    stop: () => {
      stopped = true;
    },
    onPartial: (text: string) => {
      if (stopped || text === latest) return;
      latest = text;
      safeCall(callback, text);
    },
  };
}

const ABORTED = Symbol('aborted');

/** Resolves with the promise's value, or with ABORTED as soon as the signal fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolveRace, reject) => {
    const onAbort = () => resolveRace(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolveRace(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The request's `settleTimeoutMs`, defaulted and clamped to what `setTimeout` accepts. */
function settleTimeout(req: OpenClawTurnRequest): number {
  const ms = req.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS;
  return Number.isNaN(ms) ? DEFAULT_SETTLE_TIMEOUT_MS : Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/** The longest delay `setTimeout` honours (larger ones fire after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits for the promise to settle, but no longer than `ms`. Resolves true when it settled (fulfilled
 * or rejected) in time, false when the time ran out. Never rejects. A `background` wait does not keep
 * the process alive.
 */
function settleWithin(promise: Promise<unknown>, ms: number, background = false): Promise<boolean> {
  return new Promise<boolean>((resolveSettled) => {
    const timer = setTimeout(() => resolveSettled(false), ms);
    if (background) timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolveSettled(true);
    };
    promise.then(done, done);
  });
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

/** A throwing callback must not break the turn. */
function safeCall(callback: ((text: string) => void) | undefined, text: string): void {
  try {
    callback?.(text);
  } catch {
    // The caller's streaming is best-effort; the final result still carries the text.
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
