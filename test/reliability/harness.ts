import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutEventsEntry } from '../../bus/index.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../infra/local/stack.ts';
import type { LlmSettings } from '../../schemas/index.ts';
import { TEST_USER_LIST } from '../fixtures/local-auth.ts';

/** Every entry put on the local bus, by detail type: the fuzz tests check refused inputs publish nothing. */
export interface PublishCounter {
  total(): number;
  of(detailType: string): number;
  entries: PutEventsEntry[];
}

/** Counts what reaches the bus's PutEvents (accepted or not), in the process that runs the stack. */
export function countPublishes(stack: LocalStack): PublishCounter {
  const entries: PutEventsEntry[] = [];
  const putEvents = stack.bus.putEvents.bind(stack.bus);
  stack.bus.putEvents = (batch) => {
    entries.push(...batch);
    return putEvents(batch);
  };
  return {
    entries,
    total: () => entries.length,
    of: (detailType) => entries.filter((entry) => entry.DetailType === detailType).length,
  };
}

/** Resolves once nothing was published for `quietMs`: the turns an accepted input started are over. */
export async function quiet(counter: PublishCounter, quietMs = 40, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let seen = counter.total();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (counter.total() === seen || Date.now() > deadline) return;
    seen = counter.total();
  }
}

const STAND_IN_LLM: LlmSettings = {
  provider: 'custom',
  api: 'openai-completions',
  model: 'stand-in',
  baseUrl: 'http://127.0.0.1:9/v1',
  apiKeyRef: 'OPENCLAW_LLM_API_KEY',
};

export interface ReliabilityStack {
  stack: LocalStack;
  dataDir: string;
  publishes: PublishCounter;
  close(): Promise<void>;
}

/** The local stack (`npm start`'s handlers) in this process, on a fresh data directory. */
export async function startReliabilityStack(options: LocalStackOptions = {}): Promise<ReliabilityStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'openclaw-reliab-'));
  const stack = await startLocalStack({
    dataDir,
    port: 0,
    users: TEST_USER_LIST,
    signInFailureDelayMs: 0,
    logLevel: 'SILENT',
    preloadAgent: false,
    schedulerTickMs: 0,
    watchdogIntervalMs: 1_000,
    // A stand-in agent never calls it, but the turn runner wants an LLM configured before a turn.
    defaultLlm: STAND_IN_LLM,
    ...options,
    env: { OPENCLAW_LLM_API_KEY: 'sk-stand-in-0123456789', ...options.env },
  });
  return {
    stack,
    dataDir,
    publishes: countPublishes(stack),
    async close() {
      // Let the $disconnect of sockets the test just closed reach the stores before they stop.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
