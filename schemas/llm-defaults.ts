import { LlmSettingsSchema } from './common.ts';
import type { LlmSettings } from './types.ts';

/*
 * The deployment's default LLM, read from the environment. A pure function of the environment, so every
 * component that must agree on it (the agent, and the chat producers' `/model` and `/status`) reads it
 * the same way.
 */

/** Environment variables that choose the deployment-wide default LLM, in order of precedence. */
export const LLM_ENV_HELP = [
  'OPENCLAW_LLM_BASE_URL=http://127.0.0.1:11434/v1 OPENCLAW_LLM_MODEL=llama3.2   (any OpenAI-compatible server, e.g. Ollama; optional OPENCLAW_LLM_API_KEY)',
  'ANTHROPIC_API_KEY=...   (optional ANTHROPIC_MODEL, default claude-sonnet-4-5)',
  'OPENAI_API_KEY=...      (optional OPENAI_MODEL, default gpt-4.1-mini; OPENAI_BASE_URL)',
];

/**
 * The LLM a user gets when they have not chosen one: from the environment, or undefined when none is
 * configured (the agent then answers with an explanation instead of failing silently).
 */
export function defaultLlmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LlmSettings | undefined {
  if (env.OPENCLAW_LLM_PROVIDER) {
    // A full specification, as the CDK stack sets it from deploy.config.json (the key stays in SSM).
    return LlmSettingsSchema.parse({
      provider: env.OPENCLAW_LLM_PROVIDER,
      api: env.OPENCLAW_LLM_API || 'openai-completions',
      model: env.OPENCLAW_LLM_MODEL || 'default',
      baseUrl: env.OPENCLAW_LLM_BASE_URL || undefined,
      apiKeyRef: env.OPENCLAW_LLM_API_KEY_REF || undefined,
    });
  }
  if (env.OPENCLAW_LLM_BASE_URL) {
    return LlmSettingsSchema.parse({
      provider: 'custom',
      api: 'openai-completions',
      model: env.OPENCLAW_LLM_MODEL || 'default',
      baseUrl: env.OPENCLAW_LLM_BASE_URL,
      apiKeyRef: 'OPENCLAW_LLM_API_KEY',
    });
  }
  if (env.ANTHROPIC_API_KEY) {
    return {
      provider: 'anthropic',
      api: 'anthropic-messages',
      model: env.ANTHROPIC_MODEL || 'claude-sonnet-4-5',
      baseUrl: 'https://api.anthropic.com',
      apiKeyRef: 'ANTHROPIC_API_KEY',
    };
  }
  if (env.OPENAI_API_KEY) {
    return {
      provider: 'openai',
      api: 'openai-completions',
      model: env.OPENAI_MODEL || 'gpt-4.1-mini',
      baseUrl: env.OPENAI_BASE_URL || 'https://api.openai.com/v1',
      apiKeyRef: 'OPENAI_API_KEY',
    };
  }
  return undefined;
}

/**
 * The environment that makes `defaultLlmSettingsFromEnv` return `llm` again: how a parent process hands
 * its default LLM to a child (local mode's container). The key itself is not in it; it travels under the
 * name `apiKeyRef` gives it.
 */
export function llmSettingsToEnv(llm: LlmSettings): Record<string, string> {
  return {
    OPENCLAW_LLM_PROVIDER: llm.provider,
    OPENCLAW_LLM_API: llm.api,
    OPENCLAW_LLM_MODEL: llm.model,
    ...(llm.baseUrl ? { OPENCLAW_LLM_BASE_URL: llm.baseUrl } : {}),
    ...(llm.apiKeyRef ? { OPENCLAW_LLM_API_KEY_REF: llm.apiKeyRef } : {}),
  };
}
