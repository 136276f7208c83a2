// One fresh agent process for the cold-start bench (spawned by bench/cold-start.ts, never imported).
// It loads OpenClaw, runs a first turn and then warm turns against the loopback LLM, and reports:
// `BENCH_FIRST_DELTA` on stdout the moment the first partial text arrives (the text the turn runner
// publishes as the first ReplyDelta), then one `BENCH_RESULT {json}` line at the end.
//
// Environment (set by the parent):
//   BENCH_VARIANT   `naive` (OpenClaw's defaults: the smallest config that runs a turn) or `lean`
//                   (our buildOpenClawConfig); NODE_COMPILE_CACHE is the parent's business
//   BENCH_LLM_URL   the fake LLM's base URL (…/v1)
//   BENCH_ROOT      scratch dir for this process's state and workspace
//   BENCH_WARM_TURNS  warm turns after the first (default 3)
//   BENCH_PRESTART  `0`: no worker prestart; otherwise loadOpenClaw's defaults (prestart on)
import { join } from 'node:path';
import { loadOpenClaw, type OpenClawAdapter } from '../agent/openclaw-adapter.ts';
import { buildOpenClawConfig, DEFAULT_API_KEY_ENV, OPENCLAW_AGENT_ID } from '../agent/openclaw-config.ts';

const variant = process.env.BENCH_VARIANT === 'naive' ? 'naive' : 'lean';
const llmUrl = required('BENCH_LLM_URL');
const root = required('BENCH_ROOT');
const warmTurns = Number(process.env.BENCH_WARM_TURNS ?? 3);
const workspaceDir = join(root, 'workspace');
const stateDir = join(root, 'state');
const llm = { provider: 'fake', api: 'openai-completions', model: 'fake-model', baseUrl: llmUrl } as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

/** OpenClaw's defaults: only what a turn cannot run without (a provider, a model, the agent roster). */
function naiveConfig(): Record<string, unknown> {
  return {
    models: {
      providers: {
        fake: {
          baseUrl: llmUrl,
          api: 'openai-completions',
          apiKey: { source: 'env', provider: 'default', id: DEFAULT_API_KEY_ENV },
          models: [{ id: 'fake-model', name: 'fake-model', input: ['text'] }],
        },
      },
    },
    agents: {
      defaults: { model: { primary: 'fake/fake-model' }, workspace: workspaceDir },
      entries: { [OPENCLAW_AGENT_ID]: { workspace: workspaceDir } },
    },
  };
}

const config = variant === 'naive' ? naiveConfig() : buildOpenClawConfig({ llm, workspaceDir });

async function turn(adapter: OpenClawAdapter, prompt: string, onFirst?: () => void) {
  let first = true;
  const started = performance.now();
  const result = await adapter.runTurn({
    stateDir,
    workspaceDir,
    sessionKey: 'conv-bench',
    prompt,
    config,
    runId: `bench-${process.pid}-${Math.random().toString(36).slice(2)}`,
    timeoutMs: 120_000,
    abortSignal: new AbortController().signal,
    env: { [DEFAULT_API_KEY_ENV]: 'sk-bench' },
    onPartialText: () => {
      if (first) onFirst?.();
      first = false;
    },
  });
  if (result.isError) throw new Error(`turn failed: ${result.errorMessage}`);
  return performance.now() - started;
}

/** The LLM's own time for one streamed answer, as a client sees it: subtracted from warm turns. */
async function llmOwnMs(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${llmUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  return performance.now() - started;
}

const loadStarted = performance.now();
// `0` turns the prestart off; otherwise loadOpenClaw's defaults, as the Lambda handler and the container use them.
const adapter = await loadOpenClaw(process.env.BENCH_PRESTART === '0' ? { prestartWorkers: false } : {});
const importMs = performance.now() - loadStarted;
if (adapter.mode !== 'embedded') throw new Error(`adapter fell back to ${adapter.mode}`);
const firstTurnMs = await turn(adapter, 'first question', () => process.stdout.write('BENCH_FIRST_DELTA\n'));
const warm: number[] = [];
const llm_: number[] = [];
for (let i = 0; i < warmTurns; i++) {
  llm_.push(await llmOwnMs());
  warm.push(await turn(adapter, `warm question ${i + 1}`));
}
const result = {
  variant,
  importMs,
  firstTurnMs,
  warmTurnMs: warm,
  llmOwnMs: llm_,
  // resourceUsage().maxRSS is in kilobytes.
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
// OpenClaw leaves timers and worker threads behind; the measurement is done.
process.exit(0);
