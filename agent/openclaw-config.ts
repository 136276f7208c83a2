// Builds the OpenClaw config object we hand to every turn. A plain object is enough: the embedded
// runner takes `config` as a parameter, so no openclaw.json is written. Every key below was checked
// against the JSON schema printed by `openclaw config schema` (openclaw 2026.9.6), and the whole
// object passes `openclaw config validate` (see openclaw-adapter.test.ts).
import { fileURLToPath } from 'node:url';
import type { LlmSettings } from '../schemas/index.ts';
import { type BrowserToolOptions, browserConfig } from './browser/browser-config.ts';
import { SCHEDULE_TOOL_NAMES } from './tools/schedule-tools.ts';

/** What {@link buildOpenClawConfig} needs. */
export interface OpenClawConfigInput {
  llm: LlmSettings;
  /** The agent's workspace (files it may read and write); one per user. */
  workspaceDir: string;
  /**
   * Skill allow-list; default none. Each skill adds to the system prompt on every turn. With any skill,
   * the `read` tool is allowed too (OpenClaw lists skills only when the model can read their SKILL.md),
   * confined to the workspace, where `agent/skills-sync.ts` puts the user's skills.
   */
  skills?: string[];
  /** Context window of the model, in tokens, used for compaction decisions. Default 128k. */
  contextWindow?: number;
  /** Largest reply, in tokens. Default 8192. */
  maxTokens?: number;
  /**
   * Offer the agent its scheduled-job tools (`schedule_create`, … from agent/tools/schedule-plugin).
   * They act through agent/tools/tool-bridge.ts, which the turn runner sets up. @default false
   */
  scheduleTools?: boolean;
  /**
   * Offer OpenClaw's `browser` tool, driving a headless Chromium at `executablePath`, under its strict
   * SSRF policy (see agent/browser/browser-config.ts). Only where a Chromium exists: the Fargate image
   * and local mode. @default off
   */
  browser?: BrowserToolOptions;
}

/** The schedule tool plugin's folder; OpenClaw loads it through `plugins.load.paths`. */
export const SCHEDULE_PLUGIN_DIR = fileURLToPath(new URL('./tools/schedule-plugin', import.meta.url));
/** The plugin's id, as in its openclaw.plugin.json. */
export const SCHEDULE_PLUGIN_ID = 'serverless-openclaw-schedule';

/** The only agent we run; OpenClaw needs it in `agents.entries` to find the workspace. */
export const OPENCLAW_AGENT_ID = 'main';

/**
 * Name of the environment variable the API key SecretRef points at when the settings carry no
 * `apiKeyRef`. Local models (Ollama, the test fake) ignore the key but OpenClaw still resolves one.
 */
export const DEFAULT_API_KEY_ENV = 'OPENCLAW_LLM_API_KEY';

/**
 * The lean OpenClaw config for one user's turns.
 *
 * Lean on purpose: `skipBootstrap`, no skills, `tools.profile: 'minimal'`, `plugins.slots.memory: 'none'`
 * and `skills.load.watch: false` cut the system prompt from 47 KB to 9 KB and the first turn by about
 * 2 s (DESIGN.md); with `contextInjection: 'never'` and no `gateway` tool it measured 6.4 KB. Tools run
 * on the host unless sandboxed, so the tool set stays small and explicit.
 */
export function buildOpenClawConfig(input: OpenClawConfigInput): Record<string, unknown> {
  const { llm } = input;
  const skills = input.skills ?? [];
  const alsoAllow = [
    ...(skills.length > 0 ? ['read'] : []),
    ...(input.scheduleTools ? SCHEDULE_TOOL_NAMES : []),
    ...(input.browser ? ['browser'] : []),
  ];
  const toolSearchOff = input.scheduleTools || input.browser;
  const allowedPlugins = pluginAllowList(input);
  return {
    models: { mode: 'replace', providers: { [llm.provider]: providerEntry(input) } },
    agents: {
      defaults: {
        model: { primary: `${llm.provider}/${llm.model}` },
        workspace: input.workspaceDir,
        // No AGENTS.md/SOUL.md/… written into the workspace, and none injected into the prompt.
        skipBootstrap: true,
        contextInjection: 'never',
        skills,
      },
      entries: { [OPENCLAW_AGENT_ID]: { workspace: input.workspaceDir } },
    },
    // `minimal` still offers the `gateway` tool, which updates/restarts OpenClaw itself: never wanted
    // in an immutable image. Denying it also took 1.1 KB off the system prompt (7.5 → 6.4 KB).
    // `read` only with skills: OpenClaw 2026.9.6 leaves the skills prompt out when `read` is not allowed.
    // `fs.workspaceOnly` keeps it out of other users' directories and the process's files (/proc, keys).
    // Plugin tools are allowed by name past `minimal`. Without `toolSearch: false` OpenClaw 2026.9.6 hides
    // them behind tool_search/tool_describe/tool_call, which costs a small model two extra calls (measured).
    tools: {
      profile: 'minimal',
      deny: ['gateway'],
      ...(alsoAllow.length > 0 ? { alsoAllow } : {}),
      ...(toolSearchOff ? { toolSearch: false } : {}),
      fs: { workspaceOnly: true },
    },
    skills: { load: { watch: false } },
    // `browser` (and `gateway.port`, which only places the browser's loopback ports: no gateway runs).
    ...(input.browser ? browserConfig(input.browser) : {}),
    // An exclusive allow-list, or no plugins at all: by default a first turn loads ~40 bundled plugins
    // (providers, speech, canvas, …) that no turn of ours uses, ~0.7 s of a cold first turn
    // (docs/performance.md). An empty `allow` would mean "all", hence `enabled: false`.
    plugins: {
      ...(allowedPlugins.length > 0 ? { allow: allowedPlugins } : { enabled: false }),
      slots: { memory: 'none' },
      ...(input.scheduleTools
        ? { load: { paths: [SCHEDULE_PLUGIN_DIR] }, entries: { [SCHEDULE_PLUGIN_ID]: { enabled: true } } }
        : {}),
    },
  };
}

/**
 * OpenClaw's bundled plugins whose transport serves an API. `openai-completions` runs without any
 * (measured against the fake LLM); the others keep the plugin of their family, unmeasured here.
 */
const API_PLUGINS: Record<LlmSettings['api'], string[]> = {
  'openai-completions': [],
  'openai-responses': ['openai'],
  'anthropic-messages': ['anthropic'],
  ollama: ['ollama'],
};

/**
 * The plugins a turn may load: its API's, the browser's and ours. Only ids of plugins that exist:
 * `openclaw config validate` warns about any other ("plugin not found").
 */
function pluginAllowList(input: OpenClawConfigInput): string[] {
  const ids = [
    ...API_PLUGINS[input.llm.api],
    ...(input.browser ? ['browser'] : []),
    ...(input.scheduleTools ? [SCHEDULE_PLUGIN_ID] : []),
  ];
  return [...new Set(ids)];
}

/** The env SecretRef for the provider's API key: the key itself never enters the config. */
export function apiKeySecretRef(llm: LlmSettings): { source: 'env'; provider: 'default'; id: string } {
  return { source: 'env', provider: 'default', id: llm.apiKeyRef ?? DEFAULT_API_KEY_ENV };
}

function providerEntry(input: OpenClawConfigInput): Record<string, unknown> {
  const { llm } = input;
  return {
    ...(llm.baseUrl ? { baseUrl: llm.baseUrl } : {}),
    api: llm.api,
    apiKey: apiKeySecretRef(llm),
    models: [
      {
        id: llm.model,
        name: llm.model,
        input: ['text'],
        contextWindow: input.contextWindow ?? 128_000,
        maxTokens: input.maxTokens ?? 8192,
      },
    ],
  };
}
