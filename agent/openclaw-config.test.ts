// The plugin allow-list of the lean config (pure). Real turns with it run in openclaw-adapter.test.ts (no plugin),
// test/agent-schedule-tool.test.ts (ours) and test/agent-browser-tool.test.ts (the browser).
import { describe, expect, it } from 'vitest';
import type { LlmSettings } from '../schemas/index.ts';
import { buildOpenClawConfig, SCHEDULE_PLUGIN_ID } from './openclaw-config.ts';

const llm: LlmSettings = {
  provider: 'fake',
  api: 'openai-completions',
  model: 'm',
  baseUrl: 'http://127.0.0.1:9/v1',
};

function plugins(input: Partial<Parameters<typeof buildOpenClawConfig>[0]> = {}) {
  const config = buildOpenClawConfig({ llm, workspaceDir: '/tmp/ws', ...input });
  return config.plugins as { allow?: unknown; enabled?: unknown };
}
const allowList = (input: Partial<Parameters<typeof buildOpenClawConfig>[0]> = {}) => plugins(input).allow;

describe('plugins', () => {
  it('are off when the turn needs none (an empty allow-list would let every bundled plugin load)', () => {
    expect(plugins()).toMatchObject({ enabled: false });
    expect(allowList()).toBeUndefined();
  });

  it('adds the browser plugin and ours only when the turn offers their tools', () => {
    const browser = { executablePath: '/usr/bin/chromium', allowedHostnames: [], portBase: 20_000 };
    expect(allowList({ browser, scheduleTools: true })).toEqual(['browser', SCHEDULE_PLUGIN_ID]);
    expect(allowList({ scheduleTools: true })).toEqual([SCHEDULE_PLUGIN_ID]);
    expect(plugins({ browser }).enabled).toBeUndefined();
  });

  it('keeps the plugin of an API that is served by one', () => {
    expect(allowList({ llm: { ...llm, api: 'ollama' } })).toEqual(['ollama']);
    expect(allowList({ llm: { ...llm, api: 'anthropic-messages' } })).toEqual(['anthropic']);
    expect(allowList({ llm: { ...llm, api: 'openai-responses' }, scheduleTools: true })).toEqual([
      'openai',
      SCHEDULE_PLUGIN_ID,
    ]);
  });
});
