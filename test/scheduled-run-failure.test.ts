import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../infra/local/stack.ts';
import { MAX_RUN_ATTEMPTS } from '../producers/schedule/run-outcome.ts';
import { fakeLlmDefault, startFakeLlm } from './fixtures/fake-llm.ts';
import { type FakeTelegramApi, startFakeTelegramApi } from './fixtures/fake-telegram-api.ts';
import { bearer, signIn, TEST_USER_LIST } from './fixtures/local-auth.ts';
import { waitFor } from './fixtures/wait-for.ts';

const TELEGRAM_TOKEN = '123456:scheduled-failure-token';
/** A turn's whole budget: short, because with the LLM down OpenClaw retries until the deadline. */
const TURN_TIMEOUT_MS = 10_000;

/**
 * A scheduled run whose turn fails, with the real OpenClaw agent and the LLM endpoint down: the run is
 * fired again after each failure (on the scheduler's clock, which the test moves), and after the last
 * attempt the user is told on the job's channel, and the job's record says what happened.
 */
describe('a failed scheduled run, with real OpenClaw and the LLM down', () => {
  let telegram: FakeTelegramApi;
  let dataDir: string;
  let stack: LocalStack;
  const clock = { now: Date.UTC(2026, 10, 25, 7, 0) };

  beforeAll(async () => {
    // A port that refuses connections: the LLM is down.
    const dead = await startFakeLlm();
    await dead.close();
    telegram = await startFakeTelegramApi({ token: TELEGRAM_TOKEN });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-schedule-failure-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      logLevel: 'SILENT',
      defaultLlm: fakeLlmDefault(dead.baseUrl),
      env: { TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: telegram.apiRoot },
      users: TEST_USER_LIST,
      turnTimeoutMs: TURN_TIMEOUT_MS,
      reserveMs: 1_000,
      schedulerNow: () => clock.now,
      schedulerTickMs: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await telegram?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function api(method: string, path: string, body?: unknown) {
    const { idToken } = await signIn(stack.url, 'alice');
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...bearer(idToken) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Moves the clock on (past any backoff) and ticks until the scheduler publishes the retry. */
  async function tickUntilRetried(timeoutMs: number): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      clock.now += 6 * 60_000;
      if ((await stack.tickScheduler()) > 0) return;
      if (Date.now() > giveUpAt) throw new Error('the failed run was not fired again');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  it('retries the run, then tells the user on the job’s channel and records the failure on the job', async () => {
    // Prepare: a daily job of a web user that answers on Telegram chat 42
    const created = await api('POST', '/v1/schedules', {
      prompt: 'Summarise the harbour news',
      expression: 'cron(0 8 * * ? *)',
      timeZone: 'UTC',
      replyTo: { channel: 'telegram', address: { chatId: 42 } },
      conversationId: 'harbour-news',
    });
    const jobId = created.body.jobId as string;
    const startedAt = Date.now();

    // Act: 08:00 fires it; each failed attempt is fired again once the clock passes its backoff
    clock.now = Date.UTC(2026, 10, 25, 8, 0);
    const fired = await stack.tickScheduler();
    for (let retry = 1; retry < MAX_RUN_ATTEMPTS; retry += 1) await tickUntilRetried(90_000);

    // Assess: the report names the job, the attempts and the next run; it came after the last attempt
    expect(created.status).toBe(201);
    expect(fired).toBe(1);
    const report = await waitFor(
      () => telegram.messagesIn(42).find((m) => m.visibleText.includes(`failed ${MAX_RUN_ATTEMPTS} times`)),
      90_000,
      'the failure report on Telegram',
    );
    expect(report.visibleText).toContain(jobId.slice(0, 8));
    expect(report.visibleText).toContain('Summarise the harbour news');
    expect(report.visibleText).toContain('It runs again at 2026-11-26T08:00:00.000Z');
    // Each attempt's own error reached the chat too: the user was never left in silence
    const errors = telegram
      .messagesIn(42)
      .filter((m) => m !== report && /language model|did not finish/.test(m.visibleText));
    expect(errors.length).toBe(MAX_RUN_ATTEMPTS);
    // Bounded: three short turns, not three of OpenClaw's 93-second retry loops
    expect(Date.now() - startedAt).toBeLessThan(MAX_RUN_ATTEMPTS * (TURN_TIMEOUT_MS + 20_000));
    // The job stays (a recurring job runs again) and its record shows the failure
    const job = await api('GET', `/v1/schedules/${jobId}`);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({
      enabled: true,
      lastFailure: {
        firedAt: '2026-11-25T08:00:00.000Z',
        attempts: MAX_RUN_ATTEMPTS,
        final: true,
        code: expect.any(String),
        message: expect.stringMatching(/\S/),
      },
    });
  }, 300_000);
});
