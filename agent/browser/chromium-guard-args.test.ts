// The Chromium flags of chromium-guard-args.ts, on the real Debian Chromium: a page on an allowed host
// embeds subresources and a redirect to hosts that must stay unreachable; listeners we bind there count
// what reaches them. The same page without the flags is the control: it shows the test would see a leak.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumGuardArgs } from './chromium-guard-args.ts';

const CHROMIUM = process.env.OPENCLAW_BROWSER_EXECUTABLE || '/usr/bin/chromium';

interface Listener {
  server: Server;
  port: number;
  hits: string[];
}

async function listen(
  host: string,
  body: (port: number) => string,
  redirectTo?: () => string,
): Promise<Listener> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/hop' && redirectTo) {
      res.writeHead(302, { location: redirectTo() }).end();
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end(body((server.address() as AddressInfo).port));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/** Loads the URL in headless Chromium, lets the page settle, and returns the DOM. */
function dumpDom(url: string, extraArgs: string[]): Promise<string> {
  const args = [
    '--headless=new',
    '--disable-gpu',
    '--no-proxy-server',
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ...extraArgs,
    '--virtual-time-budget=3000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 60_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

describe('Chromium host resolver rules (defence in depth under OpenClaw SSRF policy)', () => {
  let page: Listener;
  let otherLoopback: Listener;
  let ipv6Loopback: Listener;

  beforeAll(async () => {
    otherLoopback = await listen('127.0.0.2', () => 'private');
    ipv6Loopback = await listen('::1', () => 'private');
    // 2130706434 is 127.0.0.2 in decimal. `/hop` redirects there: hops are what OpenClaw's guard misses.
    page = await listen(
      '127.0.0.1',
      () =>
        [
          '<title>allowed page</title>',
          `<img src="http://127.0.0.2:${otherLoopback.port}/img">`,
          `<img src="http://[::1]:${ipv6Loopback.port}/v6">`,
          `<img src="http://2130706434:${otherLoopback.port}/decimal">`,
          `<iframe src="http://127.0.0.2:${otherLoopback.port}/frame"></iframe>`,
        ].join(''),
      () => `http://127.0.0.2:${otherLoopback.port}/redirected`,
    );
  });

  afterAll(async () => {
    for (const listener of [page, otherLoopback, ipv6Loopback]) listener?.server.close();
  });

  const reset = () => {
    for (const listener of [page, otherLoopback, ipv6Loopback]) listener.hits.length = 0;
  };

  it('without the rules, the page reaches the other listeners (control)', async () => {
    reset();
    await dumpDom(`http://127.0.0.1:${page.port}/`, []);
    expect(otherLoopback.hits.length).toBeGreaterThan(0);
    expect(ipv6Loopback.hits.length).toBeGreaterThan(0);
  }, 60_000);

  it('with the rules, the allowed page loads and nothing else is fetched', async () => {
    reset();
    const dom = await dumpDom(`http://127.0.0.1:${page.port}/`, chromiumGuardArgs(['127.0.0.1']));
    expect(dom).toContain('<title>allowed page</title>');
    expect(page.hits).toContain('/');
    expect(otherLoopback.hits).toEqual([]);
    expect(ipv6Loopback.hits).toEqual([]);
  }, 60_000);

  it('with the rules, a redirect from the allowed host to a blocked one goes nowhere', async () => {
    reset();
    await dumpDom(`http://127.0.0.1:${page.port}/hop`, []);
    expect(otherLoopback.hits).toContain('/redirected'); // control: the hop is followed without the rules
    reset();
    await dumpDom(`http://127.0.0.1:${page.port}/hop`, chromiumGuardArgs(['127.0.0.1']));
    expect(page.hits).toEqual(['/hop']);
    expect(otherLoopback.hits).toEqual([]);
  }, 60_000);

  it('with the rules and no exception, even the loopback page is not fetched', async () => {
    reset();
    await dumpDom(`http://127.0.0.1:${page.port}/`, chromiumGuardArgs([]));
    expect(page.hits).toEqual([]);
  }, 60_000);

  it('blocks the ranges and names of the SSRF list, and not public hosts', () => {
    const [flag] = chromiumGuardArgs([]);
    const rules = flag!.replace('--host-resolver-rules=', '').split(', ');
    for (const pattern of ['169.254.*', '10.*', '127.*', '192.168.*', '172.16.*', '172.31.*', '100.64.*'])
      expect(rules).toContain(`MAP ${pattern} ~NOTFOUND`);
    expect(rules).toContain('MAP 100.127.* ~NOTFOUND');
    expect(rules).not.toContain('MAP 100.128.* ~NOTFOUND');
    expect(rules).not.toContain('MAP 172.32.* ~NOTFOUND');
    expect(rules).toContain('MAP [*]:* ~NOTFOUND');
    expect(rules).toContain('MAP localhost ~NOTFOUND');
    // `*:*` would match "host:port" of every URL and block the whole web.
    expect(rules).not.toContain('MAP *:* ~NOTFOUND');
  });
});
