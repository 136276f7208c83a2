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

  // The Dockerfile's esbuild commands, exactly as it runs them, one per image.
  const bundles = [
    {
      output: '/out/lambda/lambda-handler.mjs',
      entry: 'handler',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own variable, as written there
      root: '${LAMBDA_TASK_ROOT}/',
    },
    { output: '/out/fargate/container-entry.mjs', entry: 'main', root: '/app/' },
  ];
  it.each(bundles)(
    "builds a loadable $output with the Dockerfile's own esbuild command (no Docker needed)",
    async ({ output, entry, root }) => {
      // Prepare: the command that writes this bundle, writing to a temp dir instead of /out
      const dockerfile = await readFile(repoPath('agent', 'Dockerfile'), 'utf8');
      const commands = [...dockerfile.matchAll(/RUN (npx esbuild (?:[^\n]*\\\n)*[^\n]*)/g)].map((match) =>
        match[1]!.replace(/\\\n\s*/g, ' '),
      );
      const command = commands.find((candidate) => candidate.includes(`--outfile=${output}`));
      expect(command, `no esbuild command writes ${output}`).toBeDefined();
      const out = await mkdtemp(join(tmpdir(), 'openclaw-bundle-'));
      try {
        // Act
        await promisify(execFile)('sh', ['-c', command!.replaceAll('/out/', `${out}/`)], {
          cwd: repoPath(),
          env: { ...process.env, PATH: `${repoPath('node_modules', '.bin')}:${process.env.PATH}` },
        });
        const file = join(out, output.slice('/out/'.length));
        const bundle = (await import(file)) as Record<string, unknown>;

        // Assess
        expect(typeof bundle[entry]).toBe('function');
        // The schedule tool plugin is found relative to the bundle, where the image copies it.
        expect(await readFile(file, 'utf8')).toContain('new URL("./tools/schedule-plugin", import.meta.url)');
        expect(dockerfile).toContain(
          `COPY --from=build ${output.slice(0, output.lastIndexOf('/') + 1)} ${root}`,
        );
        expect(dockerfile).toContain(`COPY agent/tools/schedule-plugin/ ${root}tools/schedule-plugin/`);
        if (entry === 'main') {
          // As the image's CMD runs it, the bundle starts main() (import.meta.main survives bundling),
          // which refuses to run without a user.
          const { USER_ID: _ignored, ...env } = process.env;
          const run = promisify(execFile)(process.execPath, [file], { env, timeout: 30_000 });
          await expect(run).rejects.toMatchObject({
            code: 1,
            stderr: expect.stringMatching(/No user: set USER_ID/),
          });
        }
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
