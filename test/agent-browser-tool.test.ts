import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserOptionsFromEnv } from '../agent/browser/browser-from-env.ts';
import { closeManagedBrowser } from '../agent/browser/browser-process.ts';
import { loadOpenClaw, type OpenClawAdapter, type OpenClawTurnResult } from '../agent/openclaw-adapter.ts';
import { createSessionStore } from '../agent/session-store.ts';
import { createTurnRunner } from '../agent/turn-runner.ts';
import { createPublisher, LocalBus, type Route } from '../bus/index.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, MessageReceived, ReplyCompleted } from '../schemas/index.ts';
import { browserScript } from './fixtures/browser-script.ts';
import { type FakeLlm, startFakeLlm } from './fixtures/fake-llm.ts';
import { startLocalAws } from './fixtures/local-aws.ts';

/*
 * OpenClaw's browser tool in real turns through the turn runner: real OpenClaw, Debian's Chromium, the
 * fake LLM choosing the browser calls. The page is served on 127.0.0.1, which only the test's
 * OPENCLAW_BROWSER_ALLOWED_HOSTS exception lets the browser open; a listener on 127.0.0.2 stands for
 * "a private address" and counts what reaches it.
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PAGE_TITLE = 'Tide Tables for Port Blue';

const captureAgentEvents: Route = {
  name: 'capture',
  description: 'test',
  pattern: { source: ['openclaw.agent'] },
  target: 'web-consumer',
  delivery: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
};

interface Listener {
  server: Server;
  port: number;
  hits: string[];
}

async function listen(
  host: string,
  handler: (url: string) => { status?: number; headers?: Record<string, string>; body?: string },
): Promise<Listener> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const { status = 200, headers = { 'content-type': 'text/html' }, body = '' } = handler(req.url ?? '/');
    res.writeHead(status, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe('the browser tool in real turns (OpenClaw + Debian Chromium)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let llm: FakeLlm;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let workRoot: string;
  let page: Listener;
  let privateListener: Listener;
  let portBase: number;
  const events: BusEnvelope[] = [];
  const results: OpenClawTurnResult[] = [];
  let adapter: OpenClawAdapter;

  const runner = (withBrowser: Awaited<ReturnType<typeof browserOptionsFromEnv>>) =>
    createTurnRunner({
      storage: aws.storage,
      publisher: createPublisher({
        client: new EventBridgeClient(localClientConfig(busEndpoint.endpoint)),
        eventBusName: 'test',
      }),
      sessionStore: createSessionStore({ bucket: aws.bucket, client: aws.s3Client }),
      // The real adapter; the wrapper only keeps each turn's result so the test can read `images`.
      loadAdapter: async () => ({
        ...adapter,
        runTurn: async (req) => {
          const result = await adapter.runTurn(req);
          results.push(result);
          return result;
        },
      }),
      logger: new Logger({ logLevel: 'SILENT' }),
      workRoot,
      defaultLlm: { provider: 'fake', api: 'openai-completions', model: 'fake-model', baseUrl: llm.baseUrl },
      owner: 'test',
      reserveMs: 1_000,
      ...(withBrowser ? { browser: withBrowser } : {}),
    });
  let browserRunner: ReturnType<typeof createTurnRunner>;

  let ids = 0;
  async function converse(
    text: string,
    run = browserRunner,
  ): Promise<{ reply: ReplyCompleted; result: OpenClawTurnResult }> {
    const userId = 'browsing-user';
    const message: MessageReceived = {
      userId,
      conversationId: `conv-browser-${++ids}`,
      messageId: `msg-browser-${ids}`,
      text,
      receivedAt: new Date().toISOString(),
      replyTo: { channel: 'web', address: { connectionId: 'c=' } },
    };
    await run(message, { deadlineAt: Date.now() + 120_000 });
    const reply = events.find(
      (e) =>
        e['detail-type'] === 'ReplyCompleted.v1' &&
        (e.detail as ReplyCompleted).inReplyTo === message.messageId,
    )?.detail as ReplyCompleted;
    return { reply, result: results.at(-1)! };
  }

  beforeAll(async () => {
    const loading = loadOpenClaw();
    aws = await startLocalAws();
    llm = await startFakeLlm({ reply: browserScript });
    const bus = new LocalBus({
      routes: [captureAgentEvents],
      targets: { 'web-consumer': async (e) => void events.push(e) },
    });
    busEndpoint = await startEventBridgeEndpoint(bus);
    workRoot = await mkdtemp(join(tmpdir(), 'openclaw-browser-'));
    privateListener = await listen('127.0.0.2', () => ({ body: '<title>private</title>' }));
    page = await listen('127.0.0.1', (url) =>
      url === '/hop'
        ? { status: 302, headers: { location: `http://127.0.0.2:${privateListener.port}/after-redirect` } }
        : {
            body: `<html><head><title>${PAGE_TITLE}</title></head><body><h1>High tide 06:12</h1></body></html>`,
          },
    );
    // The runtime's own configuration path, with the test-only exception for the page's host.
    const options = await browserOptionsFromEnv({ OPENCLAW_BROWSER_ALLOWED_HOSTS: '127.0.0.1' });
    if (!options) throw new Error('no Chromium at /usr/bin/chromium');
    portBase = options.portBase;
    adapter = await loading;
    browserRunner = runner(options);
  }, 120_000);

  afterAll(async () => {
    // The managed Chromium outlives the process unless closed; closing it is part of the runtime's job.
    const closed = await closeManagedBrowser(portBase);
    await busEndpoint?.close();
    await llm?.close();
    await aws?.close();
    page?.server.close();
    privateListener?.server.close();
    await rm(workRoot, { recursive: true, force: true });
    expect(closed).toBe(true);
  });

  it('opens a page on 127.0.0.1 and the reply carries its title', async () => {
    const url = `http://127.0.0.1:${page.port}/`;

    const { reply } = await converse(`title ${url}`);

    expect(reply).toMatchObject({ status: 'ok' });
    expect(reply.text).toBe(`The page is titled: ${PAGE_TITLE}`);
    expect(page.hits).toContain('/');
    const offered = llm.requests.find((request) => request.tools.includes('browser'));
    expect(offered).toBeDefined();
  }, 180_000);

  it('refuses the metadata endpoint, private ranges and odd encodings; nothing reaches a private listener', async () => {
    const refused = [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.170.2/v2/credentials',
      'http://10.0.0.1/',
      `http://127.0.0.2:${privateListener.port}/direct`,
      `http://2130706434:${privateListener.port}/decimal`, // 127.0.0.2
      'http://0xa9fea9fe/', // 169.254.169.254
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00::1]/',
      'http://localhost/',
    ];

    const { reply } = await converse(`open ${refused.join(' ')}`);

    expect(reply.status).toBe('ok');
    const answers = reply.text.replace(/^Tool said: /, '').split('\n---\n');
    expect(answers).toHaveLength(refused.length);
    for (const answer of answers) expect(answer).toMatch(/navigation blocked by policy|Blocked hostname/i);
    expect(privateListener.hits).toEqual([]);
  }, 180_000);

  it('a redirect from the allowed page to a private address reaches nothing', async () => {
    const { reply } = await converse(`open http://127.0.0.1:${page.port}/hop`);

    expect(reply.status).toBe('ok');
    expect(page.hits).toContain('/hop');
    // OpenClaw does not inspect redirect hops of a managed Chromium; the host resolver rules stop it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(privateListener.hits).toEqual([]);
  }, 180_000);

  it('takes a screenshot and the turn result lists it as a PNG file outside the state dir', async () => {
    const { reply, result } = await converse(`screenshot http://127.0.0.1:${page.port}/`);

    expect(reply.status).toBe('ok');
    expect(result.images).toHaveLength(1);
    const [image] = result.images!;
    expect(image!.contentType).toBe('image/png');
    expect(image!.path).not.toContain(workRoot);
    const bytes = await readFile(image!.path);
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(bytes.length).toBeGreaterThan(1_000);
  }, 180_000);

  it('a runtime without the browser option (the Lambda one) does not offer the tool', async () => {
    const before = llm.requests.length;

    const { reply } = await converse(`title http://127.0.0.1:${page.port}/`, runner(undefined));

    expect(reply.text).toMatch(/^No browser: /);
    const asked = llm.requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    for (const request of asked) expect(request.tools).not.toContain('browser');
  }, 180_000);
});
