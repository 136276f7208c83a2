// Contract test for the OpenClaw adapter: real OpenClaw turns against the loopback fake LLM.
// Slow by nature (importing OpenClaw takes 3–5 s, a first turn 5–9 s, a CLI turn 12–20 s on two
// cores), so the turns share one adapter and one state dir where they can.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmSettings } from '../schemas/index.ts';
import { echoReply, type FakeLlm, startFakeLlm, userTexts } from '../test/fixtures/fake-llm.ts';
import {
  loadOpenClaw,
  type OpenClawAdapter,
  type OpenClawTurnRequest,
  OpenClawUnavailableError,
  openClawSessionKey,
  withoutTestRunnerEnv,
} from './openclaw-adapter.ts';
import { buildOpenClawConfig, DEFAULT_API_KEY_ENV } from './openclaw-config.ts';

/** The adapter's default `settleTimeoutMs`, passed explicitly so the latency bound below is clear. */
const SETTLE_TIMEOUT_MS = 3_000;

const PACKAGE_DIR = new URL('./openclaw-runtime/node_modules/openclaw/', import.meta.url).pathname;

let root: string;
let fake: FakeLlm;
let adapter: OpenClawAdapter;

function llmFor(baseUrl: string): LlmSettings {
  return { provider: 'fake', api: 'openai-completions', model: 'fake-model', baseUrl };
}

/** A turn request for one user directory under the test root. */
function request(
  user: string,
  overrides: Partial<OpenClawTurnRequest> & { baseUrl?: string },
): OpenClawTurnRequest {
  const workspaceDir = join(root, user, 'workspace');
  const { baseUrl = fake.baseUrl, ...rest } = overrides;
  return {
    stateDir: join(root, user, 'state'),
    workspaceDir,
    sessionKey: 'conv-1',
    prompt: 'hello',
    config: buildOpenClawConfig({ llm: llmFor(baseUrl), workspaceDir }),
    runId: `run-${Math.random().toString(36).slice(2)}`,
    timeoutMs: 60_000,
    abortSignal: new AbortController().signal,
    env: { [DEFAULT_API_KEY_ENV]: 'sk-fake' },
    ...rest,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'openclaw-adapter-test-'));
  fake = await startFakeLlm({ chunkDelayMs: 5 });
  const started = performance.now();
  adapter = await loadOpenClaw();
  console.info(`[openclaw-adapter.test] loadOpenClaw: ${Math.round(performance.now() - started)} ms`);
}, 60_000);

afterAll(async () => {
  await fake?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('embedded OpenClaw turn', () => {
  it('resolves the in-process runner', () => {
    expect(adapter.mode).toBe('embedded');
    expect(adapter.fallbackReason).toBeUndefined();
  });

  it('streams partial text and returns the model reply', async () => {
    const partials: string[] = [];
    const started = performance.now();
    const result = await adapter.runTurn(
      request('alice', { prompt: 'first question', onPartialText: (text) => partials.push(text) }),
    );
    console.info(`[openclaw-adapter.test] first turn: ${Math.round(performance.now() - started)} ms`);

    expect(result).toMatchObject({ isError: false, aborted: false, stopReason: 'stop', settled: true });
    const llmRequest = fake.requests.at(-1)!;
    expect(llmRequest.stream).toBe(true);
    expect(userTexts(llmRequest).at(-1)).toContain('first question');
    expect(result.text).toBe(echoReply(llmRequest));
    // Cumulative partials, more than one, ending with the final text.
    expect(partials.length).toBeGreaterThan(1);
    expect(partials.at(-1)).toBe(result.text);
    for (let i = 1; i < partials.length; i++) expect(partials[i]!.startsWith(partials[i - 1]!)).toBe(true);
    expect(result.usage?.outputTokens).toBeGreaterThan(0);
  }, 90_000);

  it('carries history into the next turn of the same session', async () => {
    const started = performance.now();
    const result = await adapter.runTurn(request('alice', { prompt: 'second question' }));
    console.info(`[openclaw-adapter.test] second turn: ${Math.round(performance.now() - started)} ms`);

    expect(result.isError).toBe(false);
    const texts = userTexts(fake.requests.at(-1)!);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('first question');
    expect(texts[1]).toContain('second question');
  }, 60_000);

  it('keeps users apart by state dir and conversations apart by key', async () => {
    await adapter.runTurn(request('bob', { prompt: 'bob speaking' }));
    expect(userTexts(fake.requests.at(-1)!)).toEqual([expect.stringContaining('bob speaking')]);

    // OpenClaw lower-cases session keys; mixed-case conversation ids must not collide.
    await adapter.runTurn(request('alice', { sessionKey: 'conv-AB', prompt: 'upper' }));
    await adapter.runTurn(request('alice', { sessionKey: 'conv-ab', prompt: 'lower' }));
    expect(userTexts(fake.requests.at(-1)!)).toEqual([expect.stringContaining('lower')]);
    console.info(
      `[openclaw-adapter.test] rss after turns: ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
    );
  }, 60_000);

  it('returns soon after the abort, once the run has stopped, when the LLM hangs', async () => {
    const hanging = await startFakeLlm({ hang: true });
    try {
      const controller = new AbortController();
      const pending = adapter.runTurn(
        request('carol', {
          baseUrl: hanging.baseUrl,
          abortSignal: controller.signal,
          prompt: 'never answered',
          settleTimeoutMs: SETTLE_TIMEOUT_MS,
        }),
      );
      await waitFor(() => hanging.requests.length > 0, 30_000);
      const abortedAt = performance.now();
      controller.abort(new Error('Lambda deadline'));
      const result = await pending;
      const latency = performance.now() - abortedAt;
      console.info(`[openclaw-adapter.test] abort latency (until settled): ${Math.round(latency)} ms`);

      expect(result).toMatchObject({ aborted: true, isError: true, settled: true });
      expect(result.errorMessage).toContain('Lambda deadline');
      expect(latency).toBeLessThan(SETTLE_TIMEOUT_MS + 1_000);
      // Settled means OpenClaw no longer writes the state dir the caller is about to snapshot.
      const atReturn = await stateSnapshot(join(root, 'carol', 'state'));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await stateSnapshot(join(root, 'carol', 'state'))).toEqual(atReturn);
    } finally {
      await hanging.close();
    }
  }, 60_000);

  it('stops at timeoutMs even though OpenClaw keeps retrying an unreachable LLM', async () => {
    const closed = await startFakeLlm();
    const deadUrl = closed.baseUrl;
    await closed.close();
    const started = performance.now();
    const result = await adapter.runTurn(request('dave', { baseUrl: deadUrl, timeoutMs: 3_000 }));
    const elapsed = performance.now() - started;

    expect(result).toMatchObject({
      aborted: true,
      isError: true,
      timedOut: true,
      stopReason: 'timeout',
      settled: true,
    });
    // timeoutMs, plus at most the settle wait, plus slack for a loaded 2-core machine: far below the
    // 73-93 s OpenClaw spends retrying on its own.
    expect(elapsed).toBeLessThan(3_000 + 3_000 + 2_000);
  }, 30_000);

  it('does not start a turn whose signal has already fired', async () => {
    const result = await adapter.runTurn(
      request('erin', { abortSignal: AbortSignal.abort(new Error('gone')) }),
    );
    expect(result).toMatchObject({ aborted: true, isError: true, text: '', settled: true });
  });
});

describe('OpenClaw config', () => {
  it('passes `openclaw config validate`', async () => {
    const dir = join(root, 'validate');
    await mkdir(dir, { recursive: true });
    const configPath = join(dir, 'openclaw.json');
    const config = buildOpenClawConfig({
      llm: llmFor('http://127.0.0.1:9/v1'),
      workspaceDir: join(dir, 'ws'),
      // With a skill the config also allows `read`, confined to the workspace: validated as well.
      skills: ['tide-tables'],
      // The schedule tool plugin's load path, entry and allow-list too.
      scheduleTools: true,
      // And the browser block (with `gateway.port`, which places its ports).
      browser: { executablePath: '/usr/bin/chromium', allowedHostnames: ['127.0.0.1'], portBase: 20_000 },
    });
    await writeFile(configPath, JSON.stringify(config));
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(PACKAGE_DIR, 'openclaw.mjs'), 'config', 'validate'],
      {
        env: {
          ...withoutTestRunnerEnv(process.env),
          OPENCLAW_STATE_DIR: join(dir, 'state'),
          OPENCLAW_CONFIG_PATH: configPath,
        },
      },
    );
    expect(stdout).toContain('Config valid');
    // Validation also reports keys it silently rewrote (e.g. retired markers): we want none.
    expect(`${stdout}${stderr}`).not.toMatch(/warning/i);
  }, 30_000);
});

describe('resolution and fallback', () => {
  it('falls back to the CLI when the runner chunks are not where we expect', async () => {
    const packageDir = join(root, 'broken-openclaw');
    await mkdir(packageDir, { recursive: true });
    await writeFile(
      join(packageDir, 'package.json'),
      JSON.stringify({ version: '0.0.0-test', bin: 'openclaw.mjs' }),
    );
    await writeFile(join(packageDir, 'openclaw.mjs'), '');
    const warnings: string[] = [];
    const fallback = await loadOpenClaw({ packageDir, warn: (message) => warnings.push(message) });

    expect(fallback.mode).toBe('cli');
    expect(fallback.fallbackReason).toMatch(/run-embedded\.runtime\.js/);
    expect(warnings).toHaveLength(1);
  });

  it('throws OpenClawUnavailableError when OpenClaw is not installed', async () => {
    await expect(loadOpenClaw({ packageDir: join(root, 'nowhere') })).rejects.toBeInstanceOf(
      OpenClawUnavailableError,
    );
  });

  it('maps conversation keys to distinct OpenClaw session keys', () => {
    expect(openClawSessionKey('conv-abc')).toBe('agent:main:conv-abc');
    expect(openClawSessionKey('conv-ABC')).not.toBe(openClawSessionKey('conv-abc'));
    expect(openClawSessionKey('conv-ABC')).toBe(openClawSessionKey('conv-ABC').toLowerCase());
  });

  it('runs a turn through the public CLI when forced', async () => {
    const cli = await loadOpenClaw({ forceCli: true });
    const partials: string[] = [];
    const started = performance.now();
    const result = await cli.runTurn(
      request('frank', { prompt: 'via the cli', onPartialText: (text) => partials.push(text) }),
    );
    console.info(`[openclaw-adapter.test] CLI turn: ${Math.round(performance.now() - started)} ms`);

    expect(cli.mode).toBe('cli');
    expect(result).toMatchObject({ isError: false, aborted: false });
    const llmRequest = fake.requests.at(-1)!;
    expect(userTexts(llmRequest).at(-1)).toContain('via the cli');
    expect(result.text).toBe(echoReply(llmRequest));
    expect(partials).toEqual([result.text]);
  }, 60_000);

  it('waits for the CLI process to exit after an abort', async () => {
    const hanging = await startFakeLlm({ hang: true });
    try {
      const cli = await loadOpenClaw({ forceCli: true });
      const controller = new AbortController();
      const pending = cli.runTurn(
        request('grace', {
          baseUrl: hanging.baseUrl,
          abortSignal: controller.signal,
          prompt: 'never answered via the cli',
          settleTimeoutMs: SETTLE_TIMEOUT_MS,
        }),
      );
      await waitFor(() => hanging.requests.length > 0, 45_000);
      const abortedAt = performance.now();
      controller.abort(new Error('Lambda deadline'));
      const result = await pending;
      const latency = performance.now() - abortedAt;
      console.info(`[openclaw-adapter.test] CLI abort latency (until exit): ${Math.round(latency)} ms`);

      expect(result).toMatchObject({ aborted: true, isError: true, settled: true });
      expect(latency).toBeLessThan(SETTLE_TIMEOUT_MS + 1_000);
    } finally {
      await hanging.close();
    }
  }, 60_000);
});

/** Size and mtime of every file under `dir`, to tell whether anything is still writing there. */
async function stateSnapshot(dir: string): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const file of (await readdir(dir, { recursive: true })).sort()) {
    const stats = await stat(join(dir, file));
    if (stats.isFile()) snapshot[file] = `${stats.size}@${stats.mtimeMs}`;
  }
  return snapshot;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
