#!/usr/bin/env node
// Installs the pinned OpenClaw into agent/openclaw-runtime/node_modules.
//
// Why a nested package: OpenClaw's preinstall refuses any Node older than 24.16, and the root
// `npm install` runs dependency lifecycle scripts before the `node@24` devDependency is linked,
// so a root dependency on openclaw fails on a machine whose system Node is 20. The root
// `postinstall` runs after that link, with node_modules/.bin (Node 24) first on PATH, and calls us.
// The same folder is what the agent container image installs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies.openclaw;
const installedManifest = join(here, 'node_modules', 'openclaw', 'package.json');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 24 || (major === 24 && minor < 16) || major === 25) {
  console.error(
    `[openclaw-runtime] Node ${process.versions.node} is too old for OpenClaw ${wanted}; ` +
      'run `npm install` in the repository root (it brings Node 24 as a devDependency), ' +
      'or install Node >= 24.16.',
  );
  process.exit(1);
}

if (existsSync(installedManifest)) {
  const installed = JSON.parse(readFileSync(installedManifest, 'utf8')).version;
  if (installed === wanted) {
    console.log(`[openclaw-runtime] openclaw ${wanted} already installed`);
    process.exit(0);
  }
}

// Run npm with this (Node 24) binary so lifecycle scripts inside see a supported Node.
const npmCli = process.env.npm_execpath;
const command = npmCli ? process.execPath : 'npm';
const verb = existsSync(join(here, 'package-lock.json')) ? 'ci' : 'install';
const args = [...(npmCli ? [npmCli] : []), verb, '--no-audit', '--no-fund', '--omit=dev'];
console.log(`[openclaw-runtime] npm ${verb} openclaw ${wanted} with Node ${process.versions.node}`);
const result = spawnSync(command, args, { cwd: here, stdio: 'inherit' });
process.exit(result.status ?? 1);
