// The managed Chromium outlives our process: OpenClaw starts it detached on the first browser call and
// only its gateway would stop it. Embedded, nobody does, so the runtime closes it on shutdown over the
// DevTools protocol (measured: a `process.exit` left Chromium running, re-parented to init).
import { createServer } from 'node:net';
import { cdpPortOf } from './browser-config.ts';

/** The loopback ports OpenClaw uses above a port base (control, relay, DevTools). */
const PORT_OFFSETS = [2, 10, 11];

/**
 * A port base whose browser ports are free now, so two runtimes on one machine (local mode starts one
 * per user, tests run beside it) do not share a Chromium. Racy by nature, good enough for loopback.
 */
export async function findBrowserPortBase(attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const free = await Promise.all(PORT_OFFSETS.map((offset) => isFree(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free loopback ports for the browser');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Closes the Chromium listening on the port base's DevTools port, if any (`Browser.close`). Resolves
 * false when there was none; never throws.
 */
export async function closeManagedBrowser(portBase: number, timeoutMs = 5_000): Promise<boolean> {
  try {
    const version = await fetch(`http://127.0.0.1:${cdpPortOf(portBase)}/json/version`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const { webSocketDebuggerUrl } = (await version.json()) as { webSocketDebuggerUrl?: string };
    if (!webSocketDebuggerUrl) return false;
    return await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(webSocketDebuggerUrl);
      const timer = setTimeout(() => {
        socket.close();
        resolve(false);
      }, timeoutMs);
      socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: 'Browser.close' }));
      // Chromium answers, then drops the socket as it exits.
      socket.onclose = () => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.onerror = () => undefined;
    });
  } catch {
    return false;
  }
}
