import { describe, expect, it } from 'vitest';
import { defaultLlmSettingsFromEnv } from './llm-defaults.ts';

describe('the default LLM from the environment', () => {
  it('takes a full specification first (as the CDK stack sets it)', () => {
    expect(
      defaultLlmSettingsFromEnv({
        OPENCLAW_LLM_PROVIDER: 'anthropic',
        OPENCLAW_LLM_API: 'anthropic-messages',
        OPENCLAW_LLM_MODEL: 'claude-x',
        OPENCLAW_LLM_API_KEY_REF: 'ANTHROPIC_API_KEY',
        OPENAI_API_KEY: 'ignored',
      }),
    ).toEqual({
      provider: 'anthropic',
      api: 'anthropic-messages',
      model: 'claude-x',
      apiKeyRef: 'ANTHROPIC_API_KEY',
    });
  });

  it('treats a bare base URL as an OpenAI-compatible server such as Ollama', () => {
    expect(
      defaultLlmSettingsFromEnv({
        OPENCLAW_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
        OPENCLAW_LLM_MODEL: 'llama3.2',
      }),
    ).toMatchObject({ provider: 'custom', api: 'openai-completions', model: 'llama3.2' });
  });

  it('falls back to Anthropic, then OpenAI keys, then nothing', () => {
    expect(defaultLlmSettingsFromEnv({ ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'k' })?.provider).toBe(
      'anthropic',
    );
    expect(defaultLlmSettingsFromEnv({ OPENAI_API_KEY: 'k' })?.provider).toBe('openai');
    expect(defaultLlmSettingsFromEnv({})).toBeUndefined();
  });
});
