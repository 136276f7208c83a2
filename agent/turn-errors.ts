import type { UserFacingError } from '../schemas/index.ts';

/** The messages a user sees when a turn cannot produce a normal reply. Each says what to do next. */
export const TurnErrors = {
  llmNotConfigured: (): UserFacingError => ({
    code: 'LLM_NOT_CONFIGURED',
    message:
      'No language model is configured. Set ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENCLAW_LLM_BASE_URL ' +
      '(for example a local Ollama at http://127.0.0.1:11434/v1) and restart, or choose a model in settings.',
  }),
  timeout: (seconds: number): UserFacingError => ({
    code: 'TURN_TIMEOUT',
    message: `The agent did not finish within ${seconds} seconds and was stopped. Please try again; if the model is slow or unreachable, check its settings.`,
  }),
  llmFailed: (provider: string, detail: string): UserFacingError => ({
    code: 'LLM_ERROR',
    message: `The language model (${provider}) returned an error: ${detail}`.slice(0, 600),
  }),
  busy: (): UserFacingError => ({
    code: 'AGENT_BUSY',
    message:
      'The agent is still busy with an earlier message and could not take this one in time. Please resend it.',
  }),
  stopped: (): UserFacingError => ({
    code: 'STOPPED',
    message: 'Stopped, as you asked. Send a new message to continue.',
  }),
  internal: (): UserFacingError => ({
    code: 'AGENT_FAILED',
    message: 'The agent failed while handling this message. Please try again.',
  }),
};

/** Removes secret values (API keys from the environment) from text before it reaches a user or a log. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Shortens an error from OpenClaw or a provider for a chat bubble: the first sentence, with file-system
 * paths of the runtime replaced, since they mean nothing to the user and reveal the host's layout.
 */
export function conciseError(text: string, maxChars = 300): string {
  const withoutPaths = text.replace(/(?:\/[\w.@-]+){2,}\/?/g, '…');
  const firstSentence = /^.*?[.!?](?=\s|$)/s.exec(withoutPaths)?.[0] ?? withoutPaths;
  return firstSentence.length > maxChars ? `${firstSentence.slice(0, maxChars - 1)}…` : firstSentence;
}
