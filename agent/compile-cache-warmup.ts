// Fills Node's compile cache at image build (agent/Dockerfile) by running one real OpenClaw turn
// against a throwaway loopback LLM, so the image ships V8's compiled code for every module a first
// turn loads (the runner's import and the chunks it imports lazily mid-turn). Measured with
// `npm run bench`: a cold first reply ~20% sooner (docs/performance.md).
//
// Run with NODE_COMPILE_CACHE set to the directory to fill, under the same Node binary and file paths
// the image runs: the cache is keyed by both. Nothing of a user's is involved; the state goes to a
// scratch dir that is removed.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { flushCompileCache, getCompileCacheDir } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOpenClaw } from './openclaw-adapter.ts';
import { buildOpenClawConfig, DEFAULT_API_KEY_ENV } from './openclaw-config.ts';

/** A minimal OpenAI-compatible stream: one assistant chunk, then the end. OpenClaw always streams. */
function startStubLlm(): Promise<{ baseUrl: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'warmup', object: 'chat.completion.chunk', created: 0, model: 'warmup', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(`${chunk({ role: 'assistant', content: 'ok' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`);
    });
  });
  return new Promise((ready) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      ready({ baseUrl: `http://127.0.0.1:${port}/v1`, close: () => server.close() });
    }),
  );
}

async function main(): Promise<void> {
  const cacheDir = getCompileCacheDir();
  if (!cacheDir) throw new Error('Set NODE_COMPILE_CACHE to the directory the compile cache goes to');
  const scratch = await mkdtemp(join(tmpdir(), 'openclaw-warmup-'));
  const llm = await startStubLlm();
  try {
    const adapter = await loadOpenClaw();
    const workspaceDir = join(scratch, 'workspace');
    const result = await adapter.runTurn({
      stateDir: join(scratch, 'state'),
      workspaceDir,
      sessionKey: 'warmup',
      prompt: 'warm up',
      config: buildOpenClawConfig({
        llm: { provider: 'warmup', api: 'openai-completions', model: 'warmup', baseUrl: llm.baseUrl },
        workspaceDir,
      }),
      runId: 'compile-cache-warmup',
      timeoutMs: 120_000,
      abortSignal: new AbortController().signal,
      env: { [DEFAULT_API_KEY_ENV]: 'unused' },
    });
    if (result.isError) throw new Error(`warm-up turn failed: ${result.errorMessage}`);
    flushCompileCache();
    console.log(`compile cache written to ${cacheDir} (OpenClaw ${adapter.version}, ${adapter.mode})`);
  } finally {
    llm.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().then(
    // OpenClaw leaves worker threads and timers running; the cache is flushed, so stop here.
    () => process.exit(0),
    (error: unknown) => {
      console.error('compile-cache warm-up failed:', error);
      process.exit(1);
    },
  );
}
