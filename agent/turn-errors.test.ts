import { describe, expect, it } from 'vitest';
import { conciseError, redactSecrets } from './turn-errors.ts';

describe('user-facing turn errors', () => {
  it('redacts secret values wherever they appear', () => {
    expect(redactSecrets('401 for key sk-abcdef123456 (sk-abcdef123456)', ['sk-abcdef123456'])).toBe(
      '401 for key [redacted] ([redacted])',
    );
  });

  it('ignores short or missing secrets rather than redacting common words', () => {
    expect(redactSecrets('the key', ['key', undefined])).toBe('the key');
  });

  it('keeps the first sentence and hides runtime paths', () => {
    const raw =
      'No API key found for provider "custom". Auth store: /tmp/x/agent-work/users/u/state/agents/main/agent/openclaw-agent.sqlite (agentDir: /tmp/x).';
    expect(conciseError(raw)).toBe('No API key found for provider "custom".');
    expect(conciseError('Connection refused at /var/task/node_modules/x/y.js')).toBe(
      'Connection refused at …',
    );
  });

  it('caps long messages', () => {
    expect(conciseError('a'.repeat(1000)).length).toBe(300);
  });
});
