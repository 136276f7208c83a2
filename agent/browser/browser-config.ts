// The `browser` block of the OpenClaw config: a headless Chromium OpenClaw launches itself, under its
// strict SSRF policy, plus Chromium flags that close what OpenClaw's guard does not (see
// docs/upgrading-openclaw.md, "Browser tool"). Keys checked against openclaw 2026.9.6.
import { chromiumGuardArgs } from './chromium-guard-args.ts';

/** Where the agent's browser comes from and which private hosts it may still open. */
export interface BrowserToolOptions {
  /** The Chromium binary, e.g. `/usr/bin/chromium`. */
  executablePath: string;
  /**
   * Exact hostnames (or IP literals) exempt from the private-network block, e.g. `['127.0.0.1']` in
   * tests. Never set by default. @default none
   */
  allowedHostnames?: string[];
  /**
   * Chromium's `--no-sandbox`: needed only where Chromium cannot create its own sandbox (a container
   * running as root without user namespaces, as on Fargate). @default false
   */
  noSandbox?: boolean;
  /**
   * OpenClaw derives its browser ports from `gateway.port` even with no gateway running: the control
   * service listens on base+2, an extension relay on base+10, Chromium's DevTools on base+11 (all on
   * 127.0.0.1). Two runtimes on one machine need different bases ({@link findBrowserPortBase}).
   * @default 18789, OpenClaw's own
   */
  portBase?: number;
}

/** OpenClaw's default `gateway.port`. */
export const DEFAULT_PORT_BASE = 18_789;

/** Chromium's DevTools port for a port base: OpenClaw's first managed CDP port (control port + 9). */
export const cdpPortOf = (portBase: number) => portBase + 11;

/** OpenClaw's name for the browser profile it launches and manages itself. */
export const MANAGED_PROFILE = 'openclaw';

/** The config keys the browser needs: `browser`, and `gateway.port` for its ports. */
export function browserConfig(options: BrowserToolOptions): Record<string, unknown> {
  const portBase = options.portBase ?? DEFAULT_PORT_BASE;
  return { browser: browserBlock(options, portBase), gateway: { port: portBase } };
}

function browserBlock(options: BrowserToolOptions, portBase: number): Record<string, unknown> {
  const allowedHostnames = options.allowedHostnames ?? [];
  return {
    enabled: true,
    headless: true,
    noSandbox: options.noSandbox === true,
    executablePath: options.executablePath,
    // `act:evaluate` runs arbitrary JavaScript the model writes inside the page: not needed to read,
    // click or fill forms, and a way to script requests the navigation guard never sees.
    evaluateEnabled: false,
    defaultProfile: MANAGED_PROFILE,
    profiles: { [MANAGED_PROFILE]: { cdpPort: cdpPortOf(portBase) } },
    // OpenClaw's default policy is the strict one: no private, loopback, link-local or metadata address,
    // also after DNS, except the exact hosts listed. Do NOT write `dangerouslyAllowPrivateNetwork: false`:
    // in 2026.9.6 that explicit value switches to a harder mode that refuses every hostname URL and every
    // `open` on a locally launched Chromium (it wants Playwright redirect inspection), so nothing opens.
    ssrfPolicy: allowedHostnames.length > 0 ? { allowedHostnames } : {},
    extraArgs: chromiumGuardArgs(allowedHostnames),
  };
}
