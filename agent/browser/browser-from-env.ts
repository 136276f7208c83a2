// Whether this runtime offers the browser tool, from its environment. Only runtimes with a Chromium do:
// the Fargate image sets OPENCLAW_BROWSER_EXECUTABLE; local mode's container processes find Debian's
// /usr/bin/chromium. The Lambda runtime never calls this.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { BrowserToolOptions } from './browser-config.ts';
import { findBrowserPortBase } from './browser-process.ts';

/** Where Debian and Ubuntu put Chromium. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/**
 * - `OPENCLAW_BROWSER=off`: no browser tool.
 * - `OPENCLAW_BROWSER_EXECUTABLE`: the Chromium binary (default /usr/bin/chromium when it exists).
 * - `OPENCLAW_BROWSER_ALLOWED_HOSTS`: comma-separated exact hosts exempt from the private-network block,
 *   for tests only (`127.0.0.1`). Unset by default and on AWS.
 * - `OPENCLAW_BROWSER_NO_SANDBOX=1`: Chromium without its sandbox (the Fargate image; also implied when
 *   running as root, where Chromium refuses to start with it).
 * - `OPENCLAW_BROWSER_PORT_BASE`: OpenClaw's port base for the browser (default: a free one).
 */
export async function browserOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<(Required<Pick<BrowserToolOptions, 'portBase'>> & BrowserToolOptions) | undefined> {
  if (env.OPENCLAW_BROWSER === 'off') return undefined;
  const executablePath = env.OPENCLAW_BROWSER_EXECUTABLE || SYSTEM_CHROMIUM;
  if (!(await isExecutable(executablePath))) return undefined;
  const allowedHostnames = (env.OPENCLAW_BROWSER_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  const portBase = Number(env.OPENCLAW_BROWSER_PORT_BASE);
  return {
    executablePath,
    ...(allowedHostnames.length > 0 ? { allowedHostnames } : {}),
    noSandbox: env.OPENCLAW_BROWSER_NO_SANDBOX === '1' || process.getuid?.() === 0,
    portBase: Number.isInteger(portBase) && portBase > 0 ? portBase : await findBrowserPortBase(),
  };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
