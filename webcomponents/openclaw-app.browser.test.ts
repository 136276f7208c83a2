import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../test/fixtures/browser.ts';
import { buildWebComponents } from './build.ts';
import { FakeWebBackend } from './fake-backend.ts';

const SCREENSHOTS = join(import.meta.dirname, '..', 'test-results', 'screenshots');

function until<T>(read: () => T | Promise<T>, timeout = 5_000) {
  return expect.poll(read, { timeout, interval: 25 });
}

// biome-ignore lint/performance/useDomNodeTextContent: rendered text (Markdown line breaks, hidden parts).
const text = async (locator: Locator) => (await locator.innerText({ timeout: 5_000 })).trim();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the web app in Chromium', { timeout: 30_000 }, () => {
  let outdir: string;
  let backend: FakeWebBackend;
  let browser: Browser;
  let baseUrl: string;
  const pages: Page[] = [];

  async function newPage(width = 1280, height = 800): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    page.setDefaultTimeout(5_000);
    pages.push(page);
    return page;
  }

  /** Opens the app and signs in as ana; resolves once the chat is connected. */
  async function signedIn(page: Page): Promise<void> {
    await page.goto(baseUrl);
    await page.getByLabel('User name or email').fill('ana');
    await page.getByLabel('Password').fill('right');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('open');
  }

  async function say(page: Page, message: string): Promise<void> {
    const input = page.getByRole('textbox', { name: 'Message' });
    await input.fill(message);
    await input.press('Enter');
  }

  const sentTexts = () => backend.received.flatMap((f) => ('text' in f ? [f.text] : []));

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), 'openclaw-app-'));
    const { file } = await buildWebComponents({ outdir });
    backend = new FakeWebBackend(await readFile(file));
    baseUrl = await backend.start();
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await backend?.close();
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
  });

  it('refuses a wrong password with the issuer message, then signs in and keeps only the refresh token', async () => {
    // Prepare
    const page = await newPage();
    await page.goto(baseUrl);

    // Act
    await page.getByLabel('User name or email').fill('ana');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();

    // Assess
    await until(() => text(page.getByRole('alert'))).toBe('Incorrect username or password.');
    await page.getByLabel('Password').fill('right');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('open');
    expect(backend.upgrades.at(-1)).toMatch(/^\/ws\?token=id\.token\.\d+$/);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).toMatch(/refresh-\d+/);
    expect(stored).not.toContain('id.token');
    expect(backend.authCalls.at(-1)).toMatchObject({
      target: 'InitiateAuth',
      body: { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'test-client', AuthParameters: { USERNAME: 'ana' } },
    });
  });

  it('completes the new-password challenge of a first sign-in, and signs out', async () => {
    const page = await newPage();
    await page.goto(baseUrl);
    await page.getByLabel('User name or email').fill('newbie');
    await page.getByLabel('Password').fill('temporary');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('New password', { exact: true }).fill('Br4nd-new-pass');
    await page.getByLabel('Repeat the new password').fill('Br4nd-new-pass');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('open');
    expect(backend.authCalls.at(-1)).toMatchObject({
      target: 'RespondToAuthChallenge',
      body: { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'session-newbie' },
    });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await until(() => page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    expect(
      await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('openclaw-auth'))),
    ).toEqual([]);
  });

  it('streams a Markdown reply, and after a reload finds the conversation in the history', async () => {
    // Prepare
    const page = await newPage();
    await signedIn(page);

    // Act
    await say(page, 'hello there');

    // Assess: bold Markdown is rendered, the live region announces the reply.
    await until(() => page.locator('li.assistant strong').count()).toBe(1);
    await until(() => text(page.locator('li.assistant .markdown'))).toBe('You said: hello there');
    await until(() => page.locator('li.assistant').getAttribute('aria-busy')).toBe('false');
    await until(async () => (await page.locator('[part="announcer"]').textContent())?.trim()).toBe(
      'Reply: You said: **hello there**',
    );
    const conversationId = backend.received.at(-1)!.conversationId;

    // Act: reload: still signed in (refresh token), the conversation is shown again.
    await page.reload();
    await until(() => text(page.locator('li.assistant .markdown'))).toBe('You said: hello there');
    await page.getByRole('button', { name: 'History' }).click();

    // Assess
    const item = page.locator('[part="conversation"]', { hasText: 'hello there' });
    await until(() => item.count()).toBe(1);
    expect(await item.getAttribute('aria-current')).toBe('true');
    expect(backend.routes()).toContain('GET /v1/conversations?limit=20');
    expect(backend.requests.at(-1)!.headers.authorization).toMatch(/^Bearer id\.token\.\d+$/);

    // Act: a new conversation, then open the old one again and continue it.
    await page.getByRole('button', { name: 'New conversation' }).click();
    await until(() => page.locator('li.assistant').count()).toBe(0);
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator('[part="open-conversation"]', { hasText: 'hello there' }).click();
    await until(() => text(page.locator('li.user .text'))).toBe('hello there');
    await say(page, 'second');
    await until(() => page.locator('li.assistant').count()).toBe(2);
    expect(backend.received.at(-1)!.conversationId).toBe(conversationId);

    // Act: delete it, with a confirmation step.
    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('button', { name: 'Delete conversation: hello there' }).click();
    expect(backend.conversations.has(conversationId)).toBe(true);
    await page.locator('[part="confirm-delete"]').click();

    // Assess
    await until(async () => backend.conversations.has(conversationId)).toBe(false);
    expect(backend.routes()).toContain(`DELETE /v1/conversations/${conversationId}`);
    await until(() => page.locator('li.assistant').count()).toBe(0);
  });

  it('renders hostile Markdown without running or loading anything', async () => {
    // Prepare
    const page = await newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await signedIn(page);

    // Act
    await say(page, 'xss please');

    // Assess
    const reply = page.locator('li.assistant .markdown');
    await until(() => page.locator('li.assistant').getAttribute('aria-busy')).toBe('false');
    // Raw HTML shows as text; what matters is that no element, handler or unsafe URL came out of it.
    const dom = await reply.evaluate((root) => ({
      tags: [...root.querySelectorAll('*')].map((e) => e.localName),
      handlers: [...root.querySelectorAll('*')].flatMap((e) =>
        e.getAttributeNames().filter((n) => n.startsWith('on')),
      ),
      hrefs: [...root.querySelectorAll('[href], [src]')].map(
        (e) => e.getAttribute('href') ?? e.getAttribute('src'),
      ),
    }));
    expect(dom.tags.filter((t) => ['script', 'img', 'iframe', 'svg', 'style'].includes(t))).toEqual([]);
    expect(dom.handlers).toEqual([]);
    expect(dom.hrefs).toEqual(['https://example.com/docs']);
    expect(await text(reply)).toContain('<img src=x onerror="window.pwned = 2">');
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
    expect(await text(reply.locator('h1'))).toBe('Title <script>window.pwned = 1</script>');
    expect(await reply.locator('a').count()).toBe(1);
    const link = reply.locator('a');
    expect(await link.getAttribute('href')).toBe('https://example.com/docs');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await text(reply.locator('pre code'))).toBe('<script>window.pwned = 6</script>');
    expect(await text(reply.locator('p code'))).toBe('<b>code</b>');
    expect(await reply.locator('button[data-copy]').count()).toBe(1);
    expect(requests.filter((u) => u.includes('tracker.example') || u.includes('evil.example'))).toEqual([]);
  });

  it('stops a reply in progress with the messageId of its ack, keeping the partial text', async () => {
    // Prepare
    const page = await newPage();
    await signedIn(page);
    await say(page, 'slow please');
    await until(() => text(page.locator('li.assistant .markdown'))).toContain('Counting: 1');

    // Act
    await page.getByRole('button', { name: 'Stop' }).click();

    // Assess
    await until(() => text(page.locator('li.assistant [part="message-note"]'))).toBe('Stopped.');
    const userMessage = [...backend.conversations.values()]
      .flatMap((c) => c.messages)
      .find((m) => m.text === 'slow please');
    expect(backend.received.at(-1)).toEqual({
      action: 'stop',
      conversationId: backend.received.at(-2)!.conversationId,
      messageId: userMessage!.messageId,
    });
    // The partial text the server kept is what stays on screen, short of the full reply.
    const stored = [...backend.conversations.values()]
      .flatMap((c) => c.messages)
      .find((m) => m.role === 'assistant' && m.messageId === userMessage!.messageId);
    expect(stored).toMatchObject({ status: 'aborted' });
    expect(stored!.text).not.toBe('Counting: 1 2 3 4 5 6');
    expect(await text(page.locator('li.assistant .markdown'))).toBe(stored!.text);
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
  });

  it('retries a refused send with the same clientMessageId, and a failed reply as a new message', async () => {
    // Prepare
    const page = await newPage();
    await signedIn(page);
    backend.received.length = 0;

    // Act: the first send is refused with an error frame naming it.
    await say(page, 'fail send');
    await until(() => text(page.locator('li.user [part="message-error"]'))).toBe('Slow down a little.');
    await page.locator('li.user [part="retry"]').click();

    // Assess
    await until(() => text(page.locator('li.assistant .markdown'))).toBe('You said: fail send');
    const [first, second] = backend.received as { clientMessageId: string }[];
    expect(second!.clientMessageId).toBe(first!.clientMessageId);
    expect(await page.locator('li.user [part="message-error"]').count()).toBe(0);

    // Act: a reply that fails is asked again as a new message.
    await say(page, 'fail reply');
    await until(() => text(page.locator('li.assistant [part="message-error"]'))).toBe(
      'The model did not answer.',
    );
    await page.locator('li.assistant [part="retry"]').click();

    // Assess
    await until(() => page.locator('li.user', { hasText: 'fail reply' }).count()).toBe(2);
    const retries = (backend.received as { clientMessageId: string; text: string }[]).filter(
      (f) => f.text === 'fail reply',
    );
    expect(retries).toHaveLength(2);
    expect(retries[1]!.clientMessageId).not.toBe(retries[0]!.clientMessageId);
  });

  it('resends a message typed while the server was down exactly once after reconnecting', async () => {
    // Prepare
    const page = await newPage();
    await signedIn(page);
    backend.accepting = false;
    backend.dropAll();
    await until(() => page.locator('[part="connection"]').getAttribute('data-state')).toBe('reconnecting');

    // Act
    await say(page, 'while you were away');
    await until(() => text(page.locator('li.user [part="message-note"]'))).toBe('Waiting for connection…');
    await sleep(500);
    expect(sentTexts()).not.toContain('while you were away');
    backend.accepting = true;

    // Assess
    await until(() => text(page.locator('li.assistant .markdown')), 15_000).toBe(
      'You said: while you were away',
    );
    await sleep(300);
    expect(sentTexts().filter((t) => t === 'while you were away')).toHaveLength(1);
    expect(backend.upgrades.at(-1)).toMatch(/token=id\.token\.\d+/);
  });

  it('saves the model and a write-only key, uploads skills, links channels and pauses a job', async () => {
    // Prepare
    const page = await newPage();
    await signedIn(page);
    await page.getByRole('link', { name: 'Settings' }).click();
    const provider = page.getByLabel('Provider', { exact: true });
    await until(() => provider.count()).toBe(1);

    // Act: model
    await provider.selectOption('openai');
    await page.getByLabel('Model', { exact: true }).fill('gpt-4.1');
    await page.getByLabel('API key').fill('sk-secret-123');
    await page.getByLabel('Runtime', { exact: true }).selectOption('fargate');
    await page.getByLabel('Idle timeout (minutes)').fill('20');
    await page.getByRole('button', { name: 'Save' }).click();

    // Assess: the PUT body, then "set" and never the key.
    await until(() => text(page.locator('[part="key-state"]'))).toBe('set');
    const put = backend.requests.find((r) => r.method === 'PUT');
    expect(JSON.parse(put!.body.toString())).toEqual({
      llm: { provider: 'openai', model: 'gpt-4.1', apiKey: 'sk-secret-123' },
      runtime: 'fargate',
      idleTimeoutMinutes: 20,
    });
    expect(put!.headers['content-type']).toBe('application/json');
    const everything = await page.evaluate(() => {
      const settings = document
        .querySelector('openclaw-app')!
        .shadowRoot!.querySelector('openclaw-settings')!;
      const values = [...settings.shadowRoot!.querySelectorAll('input')].map((i) => i.value);
      return settings.shadowRoot!.innerHTML + values.join('|');
    });
    expect(everything).not.toContain('sk-secret');

    // Act: change only the model: the stored key is kept (no apiKey in the body).
    await page.getByLabel('Model', { exact: true }).fill('gpt-4.1-mini');
    await page.getByRole('button', { name: 'Save' }).click();
    await until(() => backend.requests.filter((r) => r.method === 'PUT').length).toBe(2);
    expect(JSON.parse(backend.requests.filter((r) => r.method === 'PUT')[1]!.body.toString()).llm).toEqual({
      provider: 'openai',
      model: 'gpt-4.1-mini',
    });

    // Act: skills, a SKILL.md and a zip.
    const md = Buffer.from('---\nname: weather\ndescription: Weather\n---\n# Weather\n');
    await page.getByLabel('Upload a SKILL.md, or a skill folder as .zip').setInputFiles({
      name: 'SKILL.md',
      mimeType: 'text/markdown',
      buffer: md,
    });
    await until(() => page.locator('[part="skill"]').count()).toBe(1);
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
    await page.getByLabel('Upload a SKILL.md, or a skill folder as .zip').setInputFiles({
      name: 'skill.zip',
      mimeType: 'application/zip',
      buffer: zip,
    });
    await until(() => page.locator('[part="skill"]').count()).toBe(2);

    // Assess
    const uploads = backend.requests.filter((r) => r.method === 'POST' && r.path === '/v1/skills');
    expect(uploads.map((u) => u.headers['content-type'])).toEqual(['text/markdown', 'application/zip']);
    expect(uploads[0]!.body.equals(md)).toBe(true);
    expect(uploads[1]!.body.equals(zip)).toBe(true);

    // Act: disable one, delete the other.
    await page.getByRole('checkbox', { name: 'Enabled: weather' }).uncheck();
    await until(() => backend.skills.find((s) => s.name === 'weather')?.enabled ?? null).toBe(false);
    await page.getByRole('button', { name: 'Delete skill zipped-skill' }).click();
    await until(() => page.locator('[part="skill"]').count()).toBe(1);
    expect(backend.routes()).toEqual(
      expect.arrayContaining(['PATCH /v1/skills/weather', 'DELETE /v1/skills/zipped-skill']),
    );

    // Act: channels: a pairing code, then unlink.
    await page.getByRole('button', { name: 'Get a pairing code' }).click();
    await until(() => text(page.locator('[part="link-code"] .code'))).toBe('12345678');
    await page.getByRole('button', { name: 'Unlink telegram 424242' }).click();
    await until(() => page.locator('[part="channel"]').count()).toBe(0);
    expect(backend.routes()).toContain('DELETE /v1/channels/telegram/424242');

    // Act: a job: pause sends If-Match with the job's version.
    await page.getByRole('button', { name: 'Pause' }).click();
    await until(() => page.getByRole('button', { name: 'Resume' }).count()).toBe(1);
    const pause = backend.requests.find((r) => r.path === '/v1/schedules/job-1/pause');
    expect(pause!.headers['if-match']).toBe('"1"');
  });

  it('shows the server message of a refused upload and refuses a wrong file type before sending', async () => {
    const page = await newPage();
    await signedIn(page);
    await page.goto(`${baseUrl}#settings`);
    const before = backend.requests.length;
    await page.getByLabel('Upload a SKILL.md, or a skill folder as .zip').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('x'),
    });
    const skillsError = page.locator('[part~="skills"] [part="error"]');
    await until(() => text(skillsError)).toBe('Choose a SKILL.md file or a .zip of a skill folder.');
    await page.getByLabel('Upload a SKILL.md, or a skill folder as .zip').setInputFiles({
      name: 'SKILL.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# no front matter'),
    });
    await until(() => text(skillsError)).toBe('SKILL.md needs a name: in its front matter.');
    expect(backend.requests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('collapses to a launcher bubble without the open attribute, in the dark theme', async () => {
    const page = await newPage(390, 844);
    await page.goto(`${baseUrl}embed`);
    const launcher = page.getByRole('button', { name: 'Open chat: Embedded' });
    await launcher.click();
    await until(() => page.getByRole('textbox', { name: 'Message' }).count()).toBe(1);
    const bg = await page
      .locator('openclaw-chat')
      .evaluate((el) => getComputedStyle(el.shadowRoot!.querySelector('.panel')!).backgroundColor);
    expect(bg).toBe('rgb(13, 17, 23)');
    await page.screenshot({ path: join(SCREENSHOTS, 'launcher-dark-390x844.png') });
    await page.getByRole('button', { name: 'Minimize chat' }).click();
    await until(() => launcher.count()).toBe(1);
  });

  it('saves screenshots of the chat and the settings at desktop and phone widths', async () => {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      const page = await newPage(width, height);
      await signedIn(page);
      await say(page, 'show me `code`');
      await until(() => page.locator('li.assistant').getAttribute('aria-busy')).toBe('false');
      await page.screenshot({ path: join(SCREENSHOTS, `chat-${width}x${height}.png`) });
      await page.getByRole('link', { name: 'Settings' }).click();
      await until(() => page.getByLabel('Provider', { exact: true }).count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, `settings-${width}x${height}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      expect(overflow).toBe(false);
    }
  });
});
