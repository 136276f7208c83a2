/**
 * Where the cost model gets its templates: an existing cloud assembly (`cdk.out/`), or a fresh offline
 * synth of the app (no credentials, no Docker) into a temporary folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenClawApp } from '../cdk/app.ts';
import type { DeploymentConfig } from '../cdk/config.ts';
import type { ContainerImageAsset, StackTemplate } from './inventory.ts';

export interface CloudAssembly {
  stacks: StackTemplate[];
  containerImages: ContainerImageAsset[];
}

interface Manifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
}

/**
 * Reads every stack template and container image asset of a cloud assembly folder.
 * @example readCloudAssembly('cdk.out')
 */
export function readCloudAssembly(dir: string): CloudAssembly {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath))
    throw new Error(`${dir} is no cloud assembly (no manifest.json); run npm run synth`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const stacks: StackTemplate[] = [];
  const containerImages: ContainerImageAsset[] = [];
  for (const [stackName, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    stacks.push({
      stackName,
      template: JSON.parse(readFileSync(join(dir, artifact.properties.templateFile), 'utf8')),
    });
    const assetsPath = join(dir, `${stackName}.assets.json`);
    if (!existsSync(assetsPath)) continue;
    const assets = JSON.parse(readFileSync(assetsPath, 'utf8')) as {
      dockerImages?: Record<string, { source?: { dockerBuildTarget?: string } }>;
    };
    for (const image of Object.values(assets.dockerImages ?? {}))
      containerImages.push({ stackName, target: image.source?.dockerBuildTarget });
  }
  return { stacks, containerImages };
}

/** Synthesizes the app for `config` into a temporary folder and reads it back. */
export async function synthesize(config: DeploymentConfig): Promise<CloudAssembly> {
  const outdir = await mkdtemp(join(tmpdir(), 'openclaw-cost-'));
  try {
    const { app } = await createOpenClawApp(config, outdir);
    app.synth();
    return readCloudAssembly(outdir);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
