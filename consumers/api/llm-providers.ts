import type { z } from 'zod';
import type { LlmProviderSchema } from '../../schemas/api.ts';
import type { LlmSettings } from '../../schemas/index.ts';

export type LlmProvider = z.infer<typeof LlmProviderSchema>;

/**
 * How each provider the settings page offers is reached with OpenClaw 2026.9.6: its `api` and default
 * base URL. `bedrock` is left out on purpose: OpenClaw's config knows a `bedrock-converse-stream` api,
 * but the provider itself is the separate `@openclaw/amazon-bedrock-provider` plugin, which the agent
 * image does not install, so a Bedrock setting could never answer.
 */
export const PROVIDER_ENDPOINTS: Readonly<
  Record<Exclude<LlmProvider, 'bedrock'>, { api: LlmSettings['api']; baseUrl?: string }>
> = {
  anthropic: { api: 'anthropic-messages', baseUrl: 'https://api.anthropic.com' },
  openai: { api: 'openai-completions', baseUrl: 'https://api.openai.com/v1' },
  openrouter: { api: 'openai-completions', baseUrl: 'https://openrouter.ai/api/v1' },
  deepseek: { api: 'openai-completions', baseUrl: 'https://api.deepseek.com/v1' },
  // No default: the user names the server (Ollama, vLLM, LM Studio…).
  'openai-compatible': { api: 'openai-completions' },
};

/** The settings page's provider for stored LLM settings (which `/model` may have copied from the default). */
export function providerOf(llm: LlmSettings): LlmProvider {
  if (Object.hasOwn(PROVIDER_ENDPOINTS, llm.provider)) return llm.provider as LlmProvider;
  if (llm.api === 'anthropic-messages') return 'anthropic';
  return llm.baseUrl ? 'openai-compatible' : 'openai';
}
