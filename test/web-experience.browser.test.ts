import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './fixtures/browser.ts';
import { type FakeLlm, type RecordedLlmRequest, startFakeLlm, userTexts } from './fixtures/fake-llm.ts';
import { TEST_USERS } from './fixtures/local-auth.ts';
import { type LocalProcess, startLocalProcess } from './fixtures/local-process.ts';

/*
 * The whole web experience as a user meets it: `npm start`'s own process, its app page in Debian's
 * Chromium, real OpenClaw turns against the loopback fake LLM, and nothing faked in between (local
 * issuer, WebSocket gateway, bus, history consumer, settings and skills APIs).
 */

const SCREENSHOTS = join(import.meta.dirname, '..', 'test-results', 'screenshots');
const SKILL_NAME = 'tide-tables';
const SKILL_DESCRIPTION = "Tide times at a harbour, from the harbour office's tables.";
const SKILL_MD = `---\nname: ${SKILL_NAME}\ndescription: ${SKILL_DESCRIPTION}\n---\n# Tide tables\n\nLook the harbour up first.\n`;

const until = <T>(read: () => T | Promise<T>, timeout = 15_000) =>
  expect.poll(read, { timeout, interval: 100 });
// biome-ignore lint/performance/useDomNodeTextContent: rendered text, as a person reads it.
const text = async (locator: Locator) => (await locator.innerText({ timeout: 5_000 })).trim();

/** A free loopback port, so the stack can be restarted on the same address (the page keeps its URL). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return port;
}

/** This request's system prompt (OpenAI-compatible APIs send it as `system` or `developer`). */
const systemPrompt = (request: RecordedLlmRequest) =>
  JSON.stringify(request.messages.filter((m) => m.role === 'system' || m.role === 'developer'));

/** The skills OpenClaw listed in this request's system prompt. */
function listedSkills(request: RecordedLlmRequest): string[] {
  return [SKILL_NAME].filter((name) => systemPrompt(request).includes(name));
}

describe('the web app that `npm start` serves, in headless Chromium, with real agent turns', () => {
  let llm: FakeLlm;
  let dataDir: string;
  let port: number;
  let stack: LocalProcess;
  let browser: Browser;
  let page: Page;
  const env = () => ({
    DATA_DIR: dataDir,
    PORT: String(port),
    OPENCLAW_LLM_BASE_URL: llm.baseUrl,
    OPENCLAW_LLM_MODEL: 'fake-model',
  });

  beforeAll(async () => {
    // The fake answers "which skills" from what OpenClaw told it, so the reply shows the agent's view.
    llm = await startFakeLlm({
      chunkDelayMs: 30,
      reply: (request) => {
        const last = userTexts(request).at(-1) ?? '';
        if (/which skills/i.test(last)) return `My skills: ${listedSkills(request).join(', ') || 'none'}`;
        return `Echo: ${last}`; // OpenClaw adds a time stamp (and a Runtime line) around the text
      },
    });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-webapp-'));
    port = await freePort();
    [stack, browser] = await Promise.all([startLocalProcess(env()), launchChromium()]);
    await mkdir(SCREENSHOTS, { recursive: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 120_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.log(stack?.output().slice(-6000));
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await llm?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const say = async (message: string) => {
    const input = page.getByRole('textbox', { name: 'Message' });
    await input.fill(message);
    await input.press('Enter');
  };
  const lastReply = () => page.locator('li.assistant .markdown').last();
  const connection = () => page.locator('[part="connection"]').getAttribute('data-state');

  it('refuses a wrong password, then signs in and streams a reply', async () => {
    // Prepare
    await page.goto(stack.url);
    await page.getByLabel('User name or email').fill('alice');
    await page.getByLabel('Password').fill('not-her-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until(() => text(page.getByRole('alert'))).toMatch(/incorrect/i);

    // Act
    await page.getByLabel('Password').fill(TEST_USERS.alice ?? '');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until(connection).toBe('open');
    await say('Hello from the web app');

    // Assess: the reply streams (busy while it grows), then completes
    await until(() => page.locator('li.assistant').getAttribute('aria-busy'), 90_000).toBe('true');
    await until(() => text(lastReply()), 90_000).toContain('Hello from the web app');
    await until(() => page.locator('li.assistant').last().getAttribute('aria-busy'), 30_000).toBe('false');
    await page.screenshot({ path: join(SCREENSHOTS, 'app-chat-desktop.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, 'app-chat-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 150_000);

  it('finds the conversation in the history after a reload, and reads it back', async () => {
    // Act: a reload signs in again from the stored refresh token; a new conversation empties the view
    await page.reload();
    await until(connection).toBe('open');
    await page.getByRole('button', { name: 'History' }).click();
    await until(() =>
      page.locator('[part="conversation"]', { hasText: 'Hello from the web app' }).count(),
    ).toBe(1);
    await page.getByRole('button', { name: 'New conversation' }).click();
    await until(() => page.locator('li.assistant').count()).toBe(0);
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator('[part="open-conversation"]', { hasText: 'Hello from the web app' }).click();

    // Assess: read back from the history API
    await until(() => text(page.locator('li.user .text').first())).toBe('Hello from the web app');
    await until(() => text(lastReply())).toContain('Hello from the web app');
  }, 60_000);

  it('uses the model chosen in settings on the next turn', async () => {
    // Act
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Provider', { exact: true }).selectOption('openai-compatible');
    await page.getByLabel('Model', { exact: true }).fill('settings-model');
    await page.getByLabel(/Base URL/).fill(llm.baseUrl);
    await page.getByRole('button', { name: 'Save' }).click();
    await until(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'app-settings-desktop.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, 'app-settings-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('link', { name: 'Chat' }).click();
    await say('Which model now?');

    // Assess: the fake LLM saw the new model
    await until(() => text(lastReply()), 90_000).toContain('Which model now?');
    expect(llm.requests.at(-1)?.model).toBe('settings-model');
  }, 120_000);

  it('lists a skill uploaded in settings to the agent, in the conversation already open', async () => {
    // Prepare: the conversation has had turns, so OpenClaw holds a skills snapshot from before the upload
    await page.getByRole('link', { name: 'Settings' }).click();

    // Act: upload a SKILL.md through the settings page, then ask in the chat
    await page
      .getByLabel('Upload a SKILL.md, or a skill folder as .zip')
      .setInputFiles({ name: 'SKILL.md', mimeType: 'text/markdown', buffer: Buffer.from(SKILL_MD) });
    await until(() =>
      page
        .getByRole('status')
        .filter({ hasText: `Uploaded ${SKILL_NAME}.` })
        .count(),
    ).toBe(1);
    await until(() => page.locator('[part="skill"]', { hasText: SKILL_NAME }).count()).toBe(1);
    await page.getByRole('link', { name: 'Chat' }).click();
    await say('Which skills do you have?');

    // Assess: the reply names the skill because OpenClaw's system prompt listed it, with its description
    await until(() => text(lastReply()), 90_000).toBe(`My skills: ${SKILL_NAME}`);
    const asked = llm.requests.findLast((request) => /which skills/i.test(userTexts(request).at(-1) ?? ''));
    expect(systemPrompt(asked as RecordedLlmRequest)).toContain(SKILL_NAME);
    // Up to the apostrophe, which the prompt may write as an XML entity.
    expect(systemPrompt(asked as RecordedLlmRequest)).toContain(SKILL_DESCRIPTION.split("'")[0]);
  }, 120_000);

  it('reconnects after the server is killed and delivers the message typed meanwhile exactly once', async () => {
    // Act: kill the whole local stack, type while it is down, start it again on the same address
    await stack.stop();
    await until(connection).toBe('reconnecting');
    await say('Sent while the server was down');
    await until(() => text(page.locator('li.user [part="message-note"]').last())).toBe(
      'Waiting for connection…',
    );
    const requestsBefore = llm.requests.length;
    stack = await startLocalProcess(env());

    // Assess: answered once, shown once
    await until(connection, 60_000).toBe('open');
    await until(() => text(lastReply()), 90_000).toContain('Sent while the server was down');
    await new Promise((settle) => setTimeout(settle, 2_000));
    const asked = llm.requests
      .slice(requestsBefore)
      .filter((request) => userTexts(request).at(-1)?.includes('Sent while the server was down'));
    expect(asked).toHaveLength(1);
    expect(await page.locator('li.user', { hasText: 'Sent while the server was down' }).count()).toBe(1);
  }, 180_000);
});
