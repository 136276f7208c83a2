import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './fixtures/browser.ts';
import { type FakeLlm, startFakeLlm } from './fixtures/fake-llm.ts';
import { signIn, withToken } from './fixtures/local-auth.ts';
import { type LocalProcess, startLocalProcess } from './fixtures/local-process.ts';
import { connectTestSocket } from './fixtures/ws-client.ts';

const SCREENSHOTS = join(import.meta.dirname, '..', 'test-results', 'screenshots');

describe('the chat page that `npm start` serves, in headless Chromium', () => {
  let llm: FakeLlm;
  let dataDir: string;
  let stack: LocalProcess;
  let browser: Browser;

  beforeAll(async () => {
    llm = await startFakeLlm({ chunkDelayMs: 40 });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-page-'));
    [stack, browser] = await Promise.all([
      startLocalProcess({
        DATA_DIR: dataDir,
        OPENCLAW_LLM_BASE_URL: llm.baseUrl,
        OPENCLAW_LLM_MODEL: 'fake-model',
      }),
      launchChromium(),
    ]);
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await llm?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('connects, sends, and renders the streamed reply of a real agent turn', async () => {
    // Prepare
    // Until the sign-in element lands, the page takes an id token from `#token=`.
    const { idToken } = await signIn(stack.url, 'local');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${stack.url}/chat#token=${encodeURIComponent(idToken)}`);
    await expect
      .poll(() => page.locator('[part="connection"]').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('open');
    expect(new URL(page.url()).hash).not.toContain('token');

    // Act
    await page.getByRole('textbox', { name: 'Message' }).fill('Hello from the browser');
    await page.keyboard.press('Enter');

    // Assess: the fake LLM's reply, streamed through OpenClaw, the bus and the WebSocket
    const reply = page.locator('li.assistant .markdown');
    await expect.poll(() => reply.textContent(), { timeout: 90_000 }).toContain('Hello from the browser');
    // The completed frame follows the streamed text after the state is saved: allow for a loaded machine.
    await expect
      .poll(() => page.locator('li.assistant').getAttribute('aria-busy'), { timeout: 30_000 })
      .toBe('false');
    expect(llm.requests.at(-1)?.model).toBe('fake-model');
    await page.screenshot({ path: join(SCREENSHOTS, 'local-chat-desktop.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, 'local-chat-phone.png') });
    await page.close();
  }, 120_000);
});

describe('local mode without any LLM configured', () => {
  it('starts, prints how to set one and the generated password, and answers a message with that advice', async () => {
    // Prepare: clear every variable that would choose a model, and every local user: `local` gets a password
    const dataDir = await mkdtemp(join(tmpdir(), 'openclaw-nollm-'));
    const stack = await startLocalProcess({
      DATA_DIR: dataDir,
      OPENCLAW_LLM_BASE_URL: '',
      ANTHROPIC_API_KEY: '',
      OPENAI_API_KEY: '',
      LOCAL_USERS: '',
      LOCAL_PASSWORD: '',
    });
    try {
      expect(stack.output()).toContain('No LLM is configured');
      expect(stack.output()).toContain('ANTHROPIC_API_KEY');
      // Printed like Jupyter's token, so the person who ran `npm start` can sign in.
      const password = /sign in:\s+user "local", password (\S+)/.exec(stack.output())?.[1];
      expect(password).toBeDefined();
      const socket = await connectTestSocket(
        withToken(stack.wsUrl, (await signIn(stack.url, 'local', password)).idToken),
      );

      // Act
      socket.send({
        action: 'sendMessage',
        conversationId: 'conv-nollm',
        clientMessageId: 'no-llm-msg-1',
        text: 'hi',
      });

      // Assess
      const completed = await socket.waitFor((f) => f.type === 'completed');
      expect(completed).toMatchObject({ status: 'error', error: { code: 'LLM_NOT_CONFIGURED' } });
      expect((completed as { error: { message: string } }).error.message).toContain('OPENCLAW_LLM_BASE_URL');
      await socket.close();
    } finally {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
