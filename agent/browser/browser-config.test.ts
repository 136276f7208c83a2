import { describe, expect, it } from 'vitest';
import type { LlmSettings } from '../../schemas/index.ts';
import { buildOpenClawConfig } from '../openclaw-config.ts';

const llm: LlmSettings = {
  provider: 'fake',
  api: 'openai-completions',
  model: 'm',
  baseUrl: 'http://127.0.0.1:9/v1',
};

type Config = {
  tools: { alsoAllow?: string[] };
  browser?: Record<string, unknown> & { ssrfPolicy: Record<string, unknown>; extraArgs: string[] };
  gateway?: { port: number };
};

describe('the browser block of the OpenClaw config', () => {
  it('is absent by default: no browser key, no browser tool', () => {
    const config = buildOpenClawConfig({ llm, workspaceDir: '/w' }) as Config;
    expect(config.browser).toBeUndefined();
    expect(config.tools.alsoAllow ?? []).not.toContain('browser');
  });

  it('allows the tool, headless, strict SSRF policy, evaluate off, resolver rules, ports from the base', () => {
    const config = buildOpenClawConfig({
      llm,
      workspaceDir: '/w',
      browser: { executablePath: '/usr/bin/chromium', portBase: 21_000 },
    }) as Config;
    expect(config.tools.alsoAllow).toContain('browser');
    expect(config.browser).toMatchObject({
      enabled: true,
      headless: true,
      noSandbox: false,
      evaluateEnabled: false,
      executablePath: '/usr/bin/chromium',
      profiles: { openclaw: { cdpPort: 21_011 } },
    });
    // OpenClaw's default policy is the strict one; an explicit `false` would switch to a mode that
    // opens nothing on a local Chromium (see browser-config.ts).
    expect(config.browser!.ssrfPolicy).toEqual({});
    expect(config.browser!.extraArgs[0]).toMatch(/^--host-resolver-rules=MAP \[\*\]:\* ~NOTFOUND, /);
    expect(config.gateway).toEqual({ port: 21_000 });
  });

  it('puts exact host exceptions in the policy and exempts them from the resolver rules', () => {
    const config = buildOpenClawConfig({
      llm,
      workspaceDir: '/w',
      browser: { executablePath: '/usr/bin/chromium', allowedHostnames: ['127.0.0.1'] },
    }) as Config;
    expect(config.browser!.ssrfPolicy).toEqual({ allowedHostnames: ['127.0.0.1'] });
    expect(config.browser!.extraArgs[0]).toMatch(/^--host-resolver-rules=EXCLUDE 127\.0\.0\.1, MAP /);
  });
});
