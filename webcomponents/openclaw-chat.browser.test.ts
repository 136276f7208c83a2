import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SendMessageFrame, ServerFrame } from '../schemas/index.ts';
import { launchChromium } from '../test/fixtures/browser.ts';
import { tinyPng } from '../test/fixtures/images.ts';
import { buildWebComponents } from './build.ts';
import { renderChatPage } from './page.ts';

/** The picture the page server serves at `/shot.png`: 6 x 4 pixels, so the test can see it decoded. */
const SHOT = tinyPng(6, 4, [10, 120, 200, 255]);

/**
 * A fake of the server side of the chat protocol, served with the built bundle on 127.0.0.1, driven
 * by Debian's Chromium. Text "fail please" gets an error frame; anything else a streamed reply, and
 * "screenshot please" also image frames after it (one good, then hostile schemes and a repeat).
 */
class FakeChatServer {
  /** The page server's origin, for the image URL the fake "presigns". */
  origin = '';
  readonly received: SendMessageFrame[] = [];
  /** The messageId of every ack sent, in order. */
  readonly acked: string[] = [];
  /** The request URL (path and query) of every upgrade request, accepted or not. */
  readonly upgrades: string[] = [];
  accepting = true;
  #sockets = new Set<WebSocket>();
  #wss = new WebSocketServer({ noServer: true });
  #nextId = 1;

  attach(server: Server): void {
    server.on('upgrade', (req, socket, head) => {
      this.upgrades.push(req.url ?? '');
      if (!this.accepting || new URL(req.url ?? '', 'http://x').pathname !== '/ws') {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        this.#sockets.add(ws);
        ws.on('close', () => this.#sockets.delete(ws));
        ws.on('message', (data) => void this.#onMessage(ws, JSON.parse(String(data))));
      });
    });
  }

  /** Drops every client socket, as API Gateway does at its 2-hour limit. */
  dropAll(): void {
    for (const ws of this.#sockets) ws.terminate();
  }

  async #onMessage(ws: WebSocket, frame: SendMessageFrame | { action: 'ping' }): Promise<void> {
    if (frame.action === 'ping') return send(ws, { type: 'pong' });
    this.received.push(frame);
    const { conversationId, clientMessageId } = frame;
    if (frame.text === 'fail please') {
      return send(ws, {
        type: 'error',
        code: 'RATE_LIMITED',
        message: 'Slow down a little.',
        clientMessageId,
      });
    }
    const messageId = `msg-${this.#nextId++}`;
    this.acked.push(messageId);
    send(ws, { type: 'ack', clientMessageId, messageId, conversationId, duplicate: false });
    send(ws, {
      type: 'status',
      conversationId,
      inReplyTo: messageId,
      status: 'thinking',
      message: 'Thinking…',
    });
    const reply = `You said: ${frame.text}`;
    const pieces = [reply.slice(0, 4), reply.slice(0, 9), reply];
    for (const [i, text] of pieces.entries()) {
      await sleep(60);
      send(ws, { type: 'delta', conversationId, inReplyTo: messageId, seq: i, text });
    }
    // A stale delta that arrives late must not shorten the reply.
    send(ws, { type: 'delta', conversationId, inReplyTo: messageId, seq: 0, text: pieces[0]! });
    await sleep(60);
    send(ws, { type: 'completed', conversationId, inReplyTo: messageId, seq: 2, status: 'ok', text: reply });
    // ...and a delta after completion is ignored too.
    send(ws, { type: 'delta', conversationId, inReplyTo: messageId, seq: 9, text: 'garbage' });
    if (frame.text !== 'screenshot please') return;
    const image = { type: 'image', conversationId, inReplyTo: messageId, contentType: 'image/png' } as const;
    send(ws, {
      ...image,
      url: `${this.origin}/shot.png?X-Amz-Signature=abc`,
      alt: 'Screenshot 1',
      width: 6,
      height: 4,
    });
    // Schemes the server never makes: the chat must not load them, whatever reaches the socket.
    send(ws, { ...image, url: 'javascript:alert(1)', alt: 'evil 1' });
    send(ws, { ...image, url: `data:image/png;base64,${SHOT.toString('base64')}`, alt: 'evil 2' });
    // A redelivered frame: shown once.
    send(ws, { ...image, url: `${this.origin}/shot.png?X-Amz-Signature=abc`, alt: 'Screenshot 1' });
  }
}

function send(ws: WebSocket, frame: ServerFrame): void {
  ws.send(JSON.stringify(frame));
}

/**
 * The element's rendered text, trimmed: Lit leaves comment markers and template whitespace around
 * bindings, and a Markdown line break is a `<br>`, which only the rendered text shows as a newline.
 */
async function text(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the test asserts.
  return (await locator.innerText({ timeout: 5_000 })).trim();
}

/** Polls until the value matches; the browser renders asynchronously. */
function until<T>(read: () => Promise<T | null>, timeout = 5_000) {
  return expect.poll(read, { timeout, interval: 25 });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('<openclaw-chat> in Chromium', { timeout: 20_000 }, () => {
  let outdir: string;
  let server: Server;
  let fake: FakeChatServer;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let servedPage: 'plain' | 'tokenFromFragment' = 'plain';

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'openclaw-web-'));
    const { file } = await buildWebComponents({ outdir });
    const bundle = await readFile(file);
    const pages = {
      plain: renderChatPage({ scriptUrl: '/openclaw-chat.js', title: 'Test chat' }),
      tokenFromFragment: renderChatPage({
        scriptUrl: '/openclaw-chat.js',
        title: 'Test chat',
        tokenFromFragment: true,
      }),
    };
    server = createServer((req, res) => {
      if (req.url === '/openclaw-chat.js') {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      } else if (req.url?.startsWith('/shot.png?')) {
        res.writeHead(200, { 'content-type': 'image/png' }).end(SHOT);
      } else if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pages[servedPage]);
      } else {
        res.writeHead(404).end();
      }
    });
    fake = new FakeChatServer();
    fake.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    fake.origin = baseUrl.slice(0, -1);
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    fake?.dropAll();
    await new Promise((resolve) => server?.close(resolve));
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    fake.accepting = true;
    fake.received.length = 0;
    servedPage = 'plain';
    page = await browser.newPage();
    await page.addInitScript(() => {
      const seen: { type: string; detail: unknown }[] = [];
      Object.assign(window, { seen });
      for (const type of [
        'openclaw-message-sent',
        'openclaw-reply-delta',
        'openclaw-reply-completed',
        'openclaw-error',
      ]) {
        document.addEventListener(type, (e) => seen.push({ type, detail: (e as CustomEvent).detail }));
      }
    });
    await page.goto(baseUrl);
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('open');
  });

  afterEach(async () => {
    await page?.close();
  });

  it('streams the reply to a message sent with Enter', async () => {
    // Prepare
    const input = page.getByRole('textbox', { name: 'Message' });

    // Act
    await input.fill('hello');
    await input.press('Shift+Enter');
    await input.pressSequentially('agent');
    await input.press('Enter');

    // Assess
    const reply = page.locator('li.assistant .markdown');
    await until(() => text(page.locator('li.user .text'))).toBe('hello\nagent');
    await until(() => text(reply)).toBe('You said: hello\nagent');
    await until(() => page.locator('li.assistant').getAttribute('aria-busy')).toBe('false');
    await until(async () => (await page.locator('[part="announcer"]').textContent())?.trim()).toBe(
      'Reply: You said: hello\nagent',
    );
    await until(() => input.inputValue()).toBe('');
    await sleep(100);
    expect(await text(reply)).toBe('You said: hello\nagent');
    const seen = (await page.evaluate(() => (window as unknown as { seen: unknown[] }).seen)) as {
      type: string;
      detail: { text: string };
    }[];
    expect(seen.map((e) => [e.type, e.detail.text])).toEqual([
      ['openclaw-message-sent', 'hello\nagent'],
      ['openclaw-reply-delta', 'You '],
      ['openclaw-reply-delta', 'You said:'],
      ['openclaw-reply-delta', 'You said: hello\nagent'],
      ['openclaw-reply-completed', 'You said: hello\nagent'],
    ]);
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]).toMatchObject({ action: 'sendMessage', text: 'hello\nagent' });
    expect(fake.received[0]!.conversationId).toMatch(/^web-[0-9a-f]{32}$/);
  });

  it('names the message acked before each message it sends, so the agent answers them in sending order', async () => {
    // Prepare
    const input = page.getByRole('textbox', { name: 'Message' });
    fake.acked.length = 0;

    // Act: two messages, the second once the first is acked
    await input.fill('first');
    await input.press('Enter');
    await until(async () => fake.acked.length).toBe(1);
    await input.fill('second');
    await input.press('Enter');

    // Assess
    await until(async () => fake.received.length).toBe(2);
    expect(fake.received[0]!.afterMessageId).toBeUndefined();
    expect(fake.received[1]).toMatchObject({ text: 'second', afterMessageId: fake.acked[0] });
  });

  it("shows a reply's image frames as <img> parts, loading only the http(s) URL the server made", async () => {
    // Act
    await page.getByRole('textbox', { name: 'Message' }).fill('screenshot please');
    await page.getByRole('button', { name: 'Send' }).click();

    // Assess: one image, decoded at its size, under the reply's text; the other schemes left out
    const images = page.locator('li.assistant [part="image"]');
    await until(() => images.count()).toBe(1);
    await until(() => images.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(6);
    expect(await images.getAttribute('alt')).toBe('Screenshot 1');
    expect(await images.getAttribute('src')).toBe(`${fake.origin}/shot.png?X-Amz-Signature=abc`);
    expect(await images.evaluate((img: HTMLImageElement) => img.naturalHeight)).toBe(4);
    expect(await text(page.locator('li.assistant .markdown'))).toBe('You said: screenshot please');
    await sleep(100);
    expect(await images.count()).toBe(1);
    expect(await page.locator('li.assistant img').count()).toBe(1);
  });

  it('shows the message of an error frame', async () => {
    // Act
    await page.getByRole('textbox', { name: 'Message' }).fill('fail please');
    await page.getByRole('button', { name: 'Send' }).click();

    // Assess
    await until(() => text(page.locator('[part="error"]'))).toBe('Slow down a little.');
    await until(() => text(page.locator('li.user [part="message-error"]'))).toBe('Slow down a little.');
  });

  it('refuses a message whose frame would exceed 128 KB, keeps it in the input and sends nothing', async () => {
    // Prepare: 25,000 characters fit the textarea's 32,000, but JSON escapes each control character to
    // six bytes (\u0001), so the frame is about 147 KB: API Gateway would close the socket (1009).
    const input = page.getByRole('textbox', { name: 'Message' });
    const big = '\u0001'.repeat(25_000);

    // Act
    await input.fill(big);
    await input.press('Enter');
    const viaApi = await page.evaluate((t) => document.querySelector('openclaw-chat')?.send(t) ?? null, big);

    // Assess
    const limitError = 'This message is 147 KB; the limit is 128 KB.';
    await until(() => text(page.locator('[part="error"]'))).toBe(limitError);
    expect(viaApi).toBeNull();
    expect(await input.inputValue()).toBe(big);
    expect(await page.locator('li.user').count()).toBe(0);
    const seen = (await page.evaluate(() => (window as unknown as { seen: unknown[] }).seen)) as {
      type: string;
      detail: unknown;
    }[];
    const refusal = { type: 'error', code: 'MESSAGE_TOO_LARGE', message: limitError };
    expect(seen).toEqual([
      { type: 'openclaw-error', detail: refusal },
      { type: 'openclaw-error', detail: refusal },
    ]);
    await sleep(300);
    expect(fake.received).toEqual([]);
    expect(await page.locator('[part="connection"]').getAttribute('data-state')).toBe('open');

    // Act: a message of normal size still goes out, and clears the error.
    await input.fill('short one');
    await input.press('Enter');

    // Assess
    await until(() => text(page.locator('li.assistant .markdown'))).toBe('You said: short one');
    expect(await text(page.locator('[part="error"]'))).toBe('');
    expect(fake.received.map((f) => f.text)).toEqual(['short one']);
  });

  it('queues a message typed while disconnected and sends it once after reconnecting', async () => {
    // Prepare
    const input = page.getByRole('textbox', { name: 'Message' });
    await input.fill('before the drop');
    await input.press('Enter');
    await until(() => text(page.locator('li.assistant .markdown'))).toBe('You said: before the drop');
    fake.accepting = false;
    fake.dropAll();
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('reconnecting');

    // Act
    await input.fill('sent while offline');
    await input.press('Enter');
    await until(() => text(page.locator('li.user [part="message-note"]'))).toBe('Waiting for connection…');
    await sleep(300);
    expect(fake.received).toHaveLength(1);
    fake.accepting = true;

    // Assess
    await until(() => text(page.locator('li.assistant .markdown').nth(1)), 10_000).toBe(
      'You said: sent while offline',
    );
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('open');
    await until(() => page.locator('li.user [part="message-note"]').count()).toBe(0);
    await sleep(200);
    expect(fake.received.map((f) => f.text)).toEqual(['before the drop', 'sent while offline']);
  });

  it('connects with the token from getToken and asks for a fresh one on every reconnect', async () => {
    // Prepare
    fake.upgrades.length = 0;
    const state = () => page.locator('[part="connection"]').getAttribute('data-state');

    // Act
    await page.evaluate(() => {
      const chat = document.querySelector('openclaw-chat')!;
      Object.assign(window, { tokenCalls: 0 });
      chat.getToken = () => {
        (window as unknown as { tokenCalls: number }).tokenCalls += 1;
        return 'abc.def.ghi';
      };
      chat.reconnect();
    });
    await until(async () => fake.upgrades.length).toBe(1);
    await until(state).toBe('open');
    fake.dropAll();
    await until(state).toBe('reconnecting');
    await until(state, 10_000).toBe('open');

    // Assess
    const tokenCalls = () => page.evaluate(() => (window as unknown as { tokenCalls: number }).tokenCalls);
    expect(fake.upgrades).toEqual(['/ws?token=abc.def.ghi', '/ws?token=abc.def.ghi']);
    expect(await tokenCalls()).toBe(2);
    await page.getByRole('textbox', { name: 'Message' }).fill('with a token');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await until(() => text(page.locator('li.assistant .markdown'))).toBe('You said: with a token');
  });

  it('shows an error while getToken fails and connects once it gives a token', async () => {
    // Prepare
    fake.upgrades.length = 0;
    const state = () => page.locator('[part="connection"]').getAttribute('data-state');

    // Act: the first call rejects, the second (the backoff retry) resolves.
    await page.evaluate(() => {
      const chat = document.querySelector('openclaw-chat')!;
      let calls = 0;
      chat.getToken = async () => {
        calls += 1;
        if (calls === 1) throw new Error('signed out');
        return 'x.y.z';
      };
      chat.reconnect();
    });

    // Assess
    await until(() => text(page.locator('[part="error"]'))).toBe('Could not get a sign-in token. Retrying…');
    await until(state, 10_000).toBe('open');
    expect(fake.upgrades).toEqual(['/ws?token=x.y.z']);
    await until(() => text(page.locator('[part="error"]'))).toBe('');
    const seen = (await page.evaluate(() => (window as unknown as { seen: unknown[] }).seen)) as {
      type: string;
      detail: { code: string };
    }[];
    expect(seen.map((e) => [e.type, e.detail.code])).toEqual([['openclaw-error', 'TOKEN_UNAVAILABLE']]);
  });

  it('takes #token= from the page URL, connects with it the first time and clears the fragment', async () => {
    // Prepare
    servedPage = 'tokenFromFragment';
    fake.upgrades.length = 0;
    const signedIn = await browser.newPage();

    try {
      // Act
      await signedIn.goto(`${baseUrl}#token=t1.t2.t3`);

      // Assess
      await until(() => signedIn.locator('[part="connection"]').getAttribute('data-state')).toBe('open');
      expect(fake.upgrades).toEqual(['/ws?token=t1.t2.t3']);
      expect(await signedIn.evaluate(() => location.hash)).toBe('');
      expect(signedIn.url()).toBe(baseUrl);
      const stored = await signedIn.evaluate(() =>
        JSON.stringify([{ ...localStorage }, { ...sessionStorage }]),
      );
      expect(stored).not.toContain('t1.t2.t3');
    } finally {
      await signedIn.close();
    }
  });
});
