import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createOpenClawApp } from './app.ts';
import { DeploymentConfigSchema } from './config.ts';
import { repoPath } from './paths.ts';

describe('deploying for real', () => {
  it('synthesizes cdk-nag-clean with an explicit account and region (as the CDK CLI always sets them)', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'openclaw-cdk-env-'));
    try {
      const config = DeploymentConfigSchema.parse({
        stage: 'staging',
        account: '123456789012',
        region: 'eu-west-1',
        agent: { reservedConcurrency: 5 },
      });
      const { app, main } = await createOpenClawApp(config, outdir);
      expect(() => app.synth()).not.toThrow();
      Template.fromStack(main).hasResourceProperties('AWS::Lambda::Function', {
        PackageType: 'Image',
        ReservedConcurrentExecutions: 5,
      });
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);

  it("builds a loadable agent bundle with the Dockerfile's own esbuild command (no Docker needed)", async () => {
    // Prepare: the command exactly as the Dockerfile runs it, writing to a temp dir instead of /out
    const dockerfile = await readFile(repoPath('agent', 'Dockerfile'), 'utf8');
    const command = /RUN (npx esbuild (?:[^\n]*\\\n)*[^\n]*)/.exec(dockerfile)?.[1]?.replace(/\\\n\s*/g, ' ');
    expect(command).toBeDefined();
    const out = await mkdtemp(join(tmpdir(), 'openclaw-bundle-'));
    try {
      // Act
      await promisify(execFile)('sh', ['-c', command!.replaceAll('/out/', `${out}/`)], {
        cwd: repoPath(),
        env: { ...process.env, PATH: `${repoPath('node_modules', '.bin')}:${process.env.PATH}` },
      });
      const bundle = (await import(join(out, 'lambda-handler.mjs'))) as { handler?: unknown };

      // Assess
      expect(typeof bundle.handler).toBe('function');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
