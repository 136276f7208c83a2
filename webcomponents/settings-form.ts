import type { LlmProvider, RuntimePreference, SettingsUpdate, SettingsView } from '../schemas/index.ts';

/**
 * Same as `LLM_PROVIDERS` in schemas/api.ts, with the names the form shows. Re-declared because the
 * schemas module is zod; settings-form.test.ts asserts they agree.
 */
export const PROVIDER_LABELS: Record<LlmProvider, string> = {
  anthropic: 'Anthropic',
  openai: 'OpenAI',
  openrouter: 'OpenRouter',
  deepseek: 'DeepSeek',
  bedrock: 'Amazon Bedrock',
  'openai-compatible': 'OpenAI-compatible URL (Ollama, vLLM…)',
};

/** Providers that take no API key (Bedrock uses the deployment's IAM role). */
export const KEYLESS_PROVIDERS: ReadonlySet<string> = new Set(['bedrock']);

/** Same bounds as `IdleTimeoutMinutesSchema` (re-declared; the test asserts they agree). */
export const IDLE_TIMEOUT_RANGE = { min: 1, max: 120 } as const;

/** The settings form as the user filled it in; empty strings mean "the deployment default". */
export interface SettingsForm {
  provider: LlmProvider | '';
  model: string;
  baseUrl: string;
  /** A new key typed in; empty keeps the stored one. */
  apiKey: string;
  /** The user asked to delete the stored key. */
  removeKey: boolean;
  runtime: RuntimePreference | '';
  idleTimeoutMinutes: string;
}

/** The form for what `GET /v1/settings` answered. The key is never in it: only `apiKeySet`. */
export function formFromSettings(view: SettingsView): SettingsForm {
  return {
    provider: view.llm?.provider ?? '',
    model: view.llm?.model ?? '',
    baseUrl: view.llm?.baseUrl ?? '',
    apiKey: '',
    removeKey: false,
    runtime: view.runtime ?? '',
    idleTimeoutMinutes: view.idleTimeoutMinutes == null ? '' : String(view.idleTimeoutMinutes),
  };
}

/**
 * The `PUT /v1/settings` body for a filled-in form, or what to fix first. `apiKey` is sent only when a new
 * key was typed (a string) or removal was asked (`null`); left out, the server keeps the stored key.
 * @example settingsUpdateFrom({ ...form, provider: '' }) // { update: { llm: null, runtime: null, idleTimeoutMinutes: null } }
 */
export function settingsUpdateFrom(form: SettingsForm): { update: SettingsUpdate } | { error: string } {
  const runtime = form.runtime || null;
  let idleTimeoutMinutes: number | null = null;
  if (form.idleTimeoutMinutes.trim()) {
    const minutes = Number(form.idleTimeoutMinutes);
    const { min, max } = IDLE_TIMEOUT_RANGE;
    if (!Number.isInteger(minutes) || minutes < min || minutes > max) {
      return { error: `The idle timeout is a whole number of minutes from ${min} to ${max}.` };
    }
    idleTimeoutMinutes = minutes;
  }
  if (!form.provider) return { update: { llm: null, runtime, idleTimeoutMinutes } };
  const model = form.model.trim();
  if (!model) return { error: 'Enter the model name, such as claude-sonnet-4-5 or gpt-4.1.' };
  const baseUrl = form.baseUrl.trim();
  if (form.provider === 'openai-compatible' && !baseUrl) {
    return {
      error: 'Enter the base URL of the OpenAI-compatible server, such as http://localhost:11434/v1.',
    };
  }
  if (baseUrl && !/^https?:\/\/[^\s/]+/i.test(baseUrl)) {
    return { error: 'The base URL must start with http:// or https://.' };
  }
  const key = form.apiKey.trim();
  const apiKey = KEYLESS_PROVIDERS.has(form.provider)
    ? undefined
    : key
      ? key
      : form.removeKey
        ? null
        : undefined;
  return {
    update: {
      llm: {
        provider: form.provider,
        model,
        ...(baseUrl ? { baseUrl } : {}),
        ...(apiKey !== undefined ? { apiKey } : {}),
      },
      runtime,
      idleTimeoutMinutes,
    },
  };
}
