// The images' browser, read from agent/Dockerfile (no Docker here): Chromium and its path only in the
// Fargate stage; the Lambda stage never gets one, so a Lambda turn cannot offer the browser tool.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

async function stages(): Promise<Map<string, string>> {
  const dockerfile = await readFile(new URL('../Dockerfile', import.meta.url), 'utf8');
  const byName = new Map<string, string>();
  for (const part of dockerfile.split(/^(?=FROM )/m).slice(1)) {
    const name = /^FROM \S+ AS (\S+)/.exec(part)?.[1];
    if (name) byName.set(name, part);
  }
  return byName;
}

describe('the browser in the agent images', () => {
  it('the Fargate stage installs Debian Chromium with fonts and points OpenClaw at it', async () => {
    const fargate = (await stages()).get('fargate')!;
    expect(fargate).toMatch(/apt-get install -y --no-install-recommends chromium fonts-/);
    expect(fargate).toContain('OPENCLAW_BROWSER_EXECUTABLE=/usr/bin/chromium');
    expect(fargate).toMatch(/^USER node$/m);
  });

  it('the Lambda stage has no browser', async () => {
    const lambda = (await stages()).get('lambda')!;
    expect(lambda).toBeDefined();
    expect(lambda).not.toMatch(/chromium|OPENCLAW_BROWSER/i);
  });

  it('the Lambda handler never asks for the browser tool', async () => {
    const handler = await readFile(new URL('../lambda-handler.ts', import.meta.url), 'utf8');
    expect(handler).not.toMatch(/browser/i);
  });
});
