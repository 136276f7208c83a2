import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cdpPortOf } from '../agent/browser/browser-config.ts';
import { findBrowserPortBase } from '../agent/browser/browser-process.ts';
import type { ServerFrame } from '../schemas/index.ts';
import { browserScript } from './fixtures/browser-script.ts';
import { type FakeLlm, startFakeLlm } from './fixtures/fake-llm.ts';
import { signIn, withToken } from './fixtures/local-auth.ts';
import { type LocalProcess, startLocalProcess } from './fixtures/local-process.ts';
import { connectTestSocket } from './fixtures/ws-client.ts';

/*
 * Local mode end to end: `npm start` with the Fargate runtime, so the turn runs in a container process
 * that finds /usr/bin/chromium and offers OpenClaw's browser tool; a screenshot it takes reaches the web
 * chat as an image frame. The page's host is allowed only by
 * the test's OPENCLAW_BROWSER_ALLOWED_HOSTS, which the container inherits. When the stack stops, the
 * container closes the Chromium it started.
 */

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
const TITLE = 'Harbour Office Opening Hours';

describe('local mode: the container runtime browses with the system Chromium', () => {
  let llm: FakeLlm;
  let page: Server;
  let dataDir: string;
  let portBase: number;
  let stack: LocalProcess | undefined;

  beforeAll(async () => {
    llm = await startFakeLlm({ reply: browserScript });
    page = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<html><head><title>${TITLE}</title></head><body>Open 9–17</body></html>`);
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-local-browser-'));
    portBase = await findBrowserPortBase();
    stack = await startLocalProcess({
      DATA_DIR: dataDir,
      DEFAULT_RUNTIME: 'fargate',
      OPENCLAW_LLM_BASE_URL: llm.baseUrl,
      OPENCLAW_LLM_MODEL: 'fake-model',
      OPENCLAW_LLM_API_KEY: 'sk-test-browser-0123456789',
      OPENCLAW_BROWSER_ALLOWED_HOSTS: '127.0.0.1',
      // Fixed here only so the test can check the Chromium is gone afterwards.
      OPENCLAW_BROWSER_PORT_BASE: String(portBase),
    });
  }, 90_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.log(stack?.output().slice(-8000));
  });

  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
    page?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  // Runs before the title test, which stops the stack at its end.
  it('delivers a browser screenshot to the web chat as an image frame whose URL serves the PNG', async () => {
    const socket = await connectTestSocket(withToken(stack!.wsUrl, (await signIn(stack!.url)).idToken));
    const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    const clientMessageId = `local-screenshot-${process.pid}`;

    socket.send({
      action: 'sendMessage',
      conversationId: 'shot',
      clientMessageId,
      text: `screenshot ${url}`,
    });
    const ack = await socket.waitFor(
      (frame): frame is Frame<'ack'> => frame.type === 'ack' && frame.clientMessageId === clientMessageId,
    );
    const reply = await socket.waitFor(
      (frame): frame is Frame<'completed'> => frame.type === 'completed' && frame.inReplyTo === ack.messageId,
      180_000,
    );
    const image = await socket.waitFor(
      (frame): frame is Frame<'image'> => frame.type === 'image' && frame.inReplyTo === ack.messageId,
      30_000,
    );
    socket.close();

    expect(reply.status).toBe('ok');
    expect(image).toMatchObject({ conversationId: 'shot', contentType: 'image/png' });
    expect(image.width).toBeGreaterThan(100);
    expect(image.height).toBeGreaterThan(100);
    // The URL is the server's presigned s3rver GET, not a path the model could have named.
    expect(image.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+X-Amz-Signature=/);
    const response = await fetch(image.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await response.arrayBuffer());
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // The IHDR chunk's size is the frame's: the bytes served are the screenshot the frame describes.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([image.width, image.height]);
  }, 240_000);

  it('reads the title of a page on 127.0.0.1 in a container turn, and closes Chromium on stop', async () => {
    const socket = await connectTestSocket(withToken(stack!.wsUrl, (await signIn(stack!.url)).idToken));
    const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    const clientMessageId = `local-browser-${process.pid}`;

    socket.send({ action: 'sendMessage', conversationId: 'browse', clientMessageId, text: `title ${url}` });
    const ack = await socket.waitFor(
      (frame): frame is Frame<'ack'> => frame.type === 'ack' && frame.clientMessageId === clientMessageId,
    );
    const reply = await socket.waitFor(
      (frame): frame is Frame<'completed'> => frame.type === 'completed' && frame.inReplyTo === ack.messageId,
      180_000,
    );

    expect(reply).toMatchObject({ status: 'ok', text: `The page is titled: ${TITLE}` });
    expect(stack!.output()).toMatch(/openclaw-container ready local:\d+/);
    const devtools = `http://127.0.0.1:${cdpPortOf(portBase)}/json/version`;
    expect((await fetch(devtools)).ok).toBe(true);
    socket.close();

    await stack!.stop();
    stack = undefined;
    await expect(fetch(devtools, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  }, 240_000);
});
