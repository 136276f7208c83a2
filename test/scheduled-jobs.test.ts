import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../infra/local/stack.ts';
import type { ServerFrame } from '../schemas/index.ts';
import { type FakeLlm, fakeLlmDefault, startFakeLlm } from './fixtures/fake-llm.ts';
import { type FakeTelegramApi, startFakeTelegramApi } from './fixtures/fake-telegram-api.ts';
import { bearer, signIn, TEST_USER_LIST, withToken } from './fixtures/local-auth.ts';
import { waitFor } from './fixtures/wait-for.ts';
import { connectTestSocket } from './fixtures/ws-client.ts';

const TELEGRAM_TOKEN = '123456:scheduled-jobs-token';

/**
 * Scheduled jobs in local mode, on a clock the test moves: a job created through the REST API fires at
 * its time, the real agent runs its prompt, and the reply arrives on the job's channel.
 */
describe('scheduled jobs in local mode (controllable clock, real OpenClaw turns)', () => {
  let llm: FakeLlm;
  let telegram: FakeTelegramApi;
  let dataDir: string;
  let stack: LocalStack;
  const clock = { now: Date.UTC(2026, 10, 25, 7, 0) };

  beforeAll(async () => {
    llm = await startFakeLlm();
    telegram = await startFakeTelegramApi({ token: TELEGRAM_TOKEN });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-schedules-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      logLevel: 'SILENT',
      defaultLlm: fakeLlmDefault(llm.baseUrl),
      env: { TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot },
      users: TEST_USER_LIST,
      schedulerNow: () => clock.now,
      schedulerTickMs: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await Promise.all([llm?.close(), telegram?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A call to the schedules API as a signed-in local user. */
  async function api(method: string, path: string, user: string, body?: unknown) {
    const { idToken } = await signIn(stack.url, user);
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...bearer(idToken) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  }

  it('fires a one-time job at its time and answers on the web chat', async () => {
    // Prepare: a signed-in web user with the chat open, and a job ten minutes from now
    const socket = await connectTestSocket(
      withToken(stack.wsUrl, (await signIn(stack.url, 'alice')).idToken),
    );
    const created = await api('POST', '/v1/schedules', 'alice', {
      prompt: 'Remind me to stretch',
      expression: 'at(2026-11-25T07:10:00)',
      timeZone: 'UTC',
      replyTo: { channel: 'web', address: { connectionId: 'scheduled' } },
      conversationId: 'reminders',
    });

    // Act: nothing is due yet; then the clock reaches the job
    const early = await stack.tickScheduler();
    clock.now = Date.UTC(2026, 10, 25, 7, 10);
    const fired = await stack.tickScheduler();

    // Assess
    expect(created.status).toBe(201);
    expect(early).toBe(0);
    expect(fired).toBe(1);
    const reply = await socket.waitFor(
      (frame): frame is Extract<ServerFrame, { type: 'completed' }> =>
        frame.type === 'completed' && frame.text.includes('Remind me to stretch'),
      90_000,
    );
    expect(reply).toMatchObject({ status: 'ok', conversationId: 'reminders' });
    // A one-time job is gone once it has run.
    const listed = await api('GET', '/v1/schedules', 'alice');
    expect(JSON.stringify(listed.body)).not.toContain('Remind me to stretch');
    await socket.close();
  }, 120_000);

  it('sends a recurring job’s reply to Telegram, and a paused job does not fire', async () => {
    // Prepare: two jobs of a signed-in web user that reply on Telegram chat 42, one paused
    const user = 'bob';
    const replyTo = { channel: 'telegram', address: { chatId: 42 } };
    const active = await api('POST', '/v1/schedules', user, {
      prompt: 'Morning summary please',
      expression: 'cron(0 8 * * ? *)',
      timeZone: 'Europe/Berlin',
      replyTo,
      conversationId: 'morning',
    });
    const paused = await api('POST', '/v1/schedules', user, {
      prompt: 'This one is paused',
      expression: 'cron(0 8 * * ? *)',
      timeZone: 'Europe/Berlin',
      replyTo,
      conversationId: 'paused',
    });
    const pausedId = (paused.body as { jobId: string }).jobId;
    const pause = await api('POST', `/v1/schedules/${pausedId}/pause`, user);

    // Act: 08:00 in Berlin is 07:00 UTC in winter; the clock is at 07:10 UTC, so the next is tomorrow
    clock.now = Date.UTC(2026, 10, 26, 7, 0);
    const fired = await stack.tickScheduler();

    // Assess
    expect(active.status).toBe(201);
    expect(pause.status).toBe(200);
    expect(fired).toBe(1);
    const message = await waitFor(
      () => telegram.messagesIn(42).find((m) => m.visibleText.includes('Morning summary please')),
      90_000,
      'the scheduled reply on Telegram',
    );
    expect(message).toBeDefined();
    expect(telegram.messagesIn(42).some((m) => m.visibleText.includes('This one is paused'))).toBe(false);
  }, 120_000);
});
