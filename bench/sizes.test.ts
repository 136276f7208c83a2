import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryBytes, lambdaEntries } from './sizes.ts';

describe('lambdaEntries', () => {
  it('lists the CDK app’s handler entries, the chat channels’ lambda.ts included', async () => {
    const entries = await lambdaEntries();
    expect(entries).toContain('producers/web/handler.ts');
    expect(entries).toContain('consumers/runtime-selector/lambda.ts');
    expect(entries).toContain('producers/telegram/lambda.ts');
    expect(entries).toContain('consumers/slack/lambda.ts');
    expect(entries.some((entry) => entry.startsWith('agent/'))).toBe(false);
    expect(new Set(entries).size).toBe(entries.length);
  });
});

describe('directoryBytes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-sizes-test-'));
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await writeFile(join(dir, 'one'), 'x'.repeat(10));
    await writeFile(join(dir, 'a', 'b', 'two'), 'y'.repeat(32));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('adds up the files of every level', async () => {
    expect(await directoryBytes(dir)).toBe(42);
  });
});
