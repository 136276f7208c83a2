import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../infra/local/stack.ts';
import type { ServerFrame } from '../schemas/index.ts';
import {
  type FakeDiscordApi,
  slashCommand,
  startFakeDiscordApi,
  TEST_CHANNEL_ID,
} from './fixtures/fake-discord-api.ts';
import { type FakeLlm, fakeLlmDefault, startFakeLlm } from './fixtures/fake-llm.ts';
import { type FakeSlackApi, slackSignature, startFakeSlackApi } from './fixtures/fake-slack-api.ts';
import { type FakeTelegramApi, startFakeTelegramApi, textUpdate } from './fixtures/fake-telegram-api.ts';
import { signIn, TEST_USER_LIST, withToken } from './fixtures/local-auth.ts';
import { waitFor } from './fixtures/wait-for.ts';
import { connectTestSocket, type TestSocket } from './fixtures/ws-client.ts';

const TELEGRAM_TOKEN = '123456:schedule-commands-token';
const TELEGRAM_SECRET = 'telegram-webhook-secret-schedules-01';
const SLACK_SECRET = 'slack-signing-secret-schedules-0123';
const SLACK_TOKEN = 'xoxb-slack-schedules-token';
const DISCORD_TOKEN = 'discord-bot-token-for-schedules';
const DISCORD_USER = '1200000000000000077';

/** The short id a `/schedule` confirmation names (`Scheduled: 1a2b3c4d · …`). */
const shortIdIn = (answer: string) => /Scheduled: ([0-9a-f]{8}) ·/.exec(answer)?.[1];

/**
 * `/schedule`, `/schedules` and `/unschedule` typed on each channel of local mode (the web chat, and the
 * Telegram, Discord and Slack webhooks with loopback fakes of their APIs), on a clock the test moves: the
 * job made on a channel is listed there, fires at its time, the real agent runs it, its reply arrives on
 * that same channel, and the job can be deleted from there.
 */
describe('schedule chat commands on every channel, end to end in local mode', () => {
  let llm: FakeLlm;
  let telegram: FakeTelegramApi;
  let slack: FakeSlackApi;
  let discord: FakeDiscordApi;
  let dataDir: string;
  let stack: LocalStack;
  let web: TestSocket;
  const discordKeys = generateKeyPairSync('ed25519');
  // Wednesday 25 November 2026, 07:00 UTC: every job below is due at 08:00 UTC.
  const clock = { now: Date.UTC(2026, 10, 25, 7, 0) };

  beforeAll(async () => {
    llm = await startFakeLlm();
    telegram = await startFakeTelegramApi({ token: TELEGRAM_TOKEN });
    slack = await startFakeSlackApi({ botToken: SLACK_TOKEN, botUserId: 'UBOT' });
    discord = await startFakeDiscordApi({ botToken: DISCORD_TOKEN });
    discord.addChannel(TEST_CHANNEL_ID); // the bot may post there: a job's replies come with its token
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-schedule-commands-'));
    const rawPublicKey = discordKeys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    stack = await startLocalStack({
      dataDir,
      port: 0,
      logLevel: 'WARN',
      defaultLlm: fakeLlmDefault(llm.baseUrl),
      env: {
        TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        SLACK_SIGNING_SECRET: SLACK_SECRET,
        SLACK_BOT_TOKEN: SLACK_TOKEN,
        SLACK_API_URL: slack.apiUrl,
        SLACK_BOT_USER_ID: 'UBOT',
        DISCORD_PUBLIC_KEY: rawPublicKey.toString('hex'),
        DISCORD_BOT_TOKEN: DISCORD_TOKEN,
        DISCORD_API_BASE: discord.base,
      },
      users: TEST_USER_LIST,
      allowedUsers: ['telegram:42', 'slack:U123', `discord:${DISCORD_USER}`],
      schedulerNow: () => clock.now,
      schedulerTickMs: 0,
    });
    web = await connectTestSocket(withToken(stack.wsUrl, (await signIn(stack.url, 'alice')).idToken));
  }, 120_000);

  afterAll(async () => {
    await web?.close();
    await stack?.close();
    await Promise.all([llm?.close(), telegram?.close(), slack?.close(), discord?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  let webMessages = 0;
  /** Types a line into the web chat and returns the answer (a schedule command's ReplyCompleted). */
  async function onWeb(text: string): Promise<string> {
    const clientMessageId = `web-command-${++webMessages}`;
    web.send({ action: 'sendMessage', conversationId: 'web-jobs', clientMessageId, text });
    const ack = await web.waitFor(
      (frame): frame is Extract<ServerFrame, { type: 'ack' }> =>
        frame.type === 'ack' && frame.clientMessageId === clientMessageId,
      15_000,
    );
    const answer = await web.waitFor(
      (frame): frame is Extract<ServerFrame, { type: 'completed' }> =>
        frame.type === 'completed' && frame.inReplyTo === ack.messageId,
      15_000,
    );
    return answer.text;
  }

  /** A Telegram message to the webhook; commands are answered in the webhook's response (sendMessage). */
  async function onTelegram(text: string): Promise<string> {
    const response = await fetch(`${stack.url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      body: JSON.stringify(textUpdate(text, { fromId: 42 })),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { method: string; text: string }).text;
  }

  /** A signed Slack slash command (`/openclaw <text>`) in channel C1; answered ephemerally. */
  async function onSlack(text: string): Promise<string> {
    const body = new URLSearchParams({
      command: '/openclaw',
      text,
      user_id: 'U123',
      channel_id: 'C1',
      team_id: 'T1',
      trigger_id: `13345224609.738474920.${Math.random().toString(16).slice(2)}`,
      response_url: 'https://hooks.slack.invalid/commands/1',
    }).toString();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(`${stack.url}/webhooks/slack`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body),
      },
      body,
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { text: string }).text;
  }

  /** A signed Discord slash command interaction; schedule commands are answered ephemerally at once. */
  async function onDiscord(name: string, options: Record<string, string> = {}): Promise<string> {
    const answer = await discord.deliverInteraction(
      `${stack.url}/webhooks/discord`,
      slashCommand(name, options, { userId: DISCORD_USER }),
      discordKeys.privateKey,
    );
    expect(answer).toMatchObject({ status: 200, body: { type: 4 } });
    return answer.body?.data?.content ?? '';
  }

  /** Each channel's way to type the three commands, its job's schedule, and where its job's reply lands. */
  const channels = {
    web: {
      when: 'every day 08:00',
      schedule: (when: string, prompt: string) => onWeb(`/schedule ${when} ${prompt}`),
      list: () => onWeb('/schedules'),
      unschedule: (id: string) => onWeb(`/unschedule ${id}`),
      reply: (prompt: string) =>
        web.frames.find((frame) => frame.type === 'completed' && frame.text.includes(prompt)),
    },
    telegram: {
      when: 'cron(0 8 * * ? *)',
      schedule: (when: string, prompt: string) => onTelegram(`/schedule ${when} ${prompt}`),
      list: () => onTelegram('/schedules'),
      unschedule: (id: string) => onTelegram(`/unschedule ${id}`),
      reply: (prompt: string) => telegram.messagesIn(42).find((m) => m.visibleText.includes(prompt)),
    },
    discord: {
      when: 'every weekday 08:00',
      schedule: (when: string, prompt: string) => onDiscord('schedule', { when, prompt }),
      list: () => onDiscord('schedules'),
      unschedule: (id: string) => onDiscord('unschedule', { id }),
      reply: (prompt: string) =>
        discord.channelMessages(TEST_CHANNEL_ID).find((message) => message.content.includes(prompt)),
    },
    slack: {
      // London keeps UTC in November.
      when: 'every day 08:00 tz=Europe/London',
      schedule: (when: string, prompt: string) => onSlack(`schedule ${when} ${prompt}`),
      list: () => onSlack('schedules'),
      unschedule: (id: string) => onSlack(`unschedule ${id}`),
      reply: (prompt: string) => slack.messagesIn('C1').find((message) => message.text.includes(prompt)),
    },
  };
  type Channel = keyof typeof channels;
  const each = Object.entries(channels) as [Channel, (typeof channels)[Channel]][];
  const promptOf = (channel: Channel) => `Scheduled ${channel} job: check the tides`;
  const ids: Partial<Record<Channel, string>> = {};

  it('creates a job from each channel and lists it there', async () => {
    // Act
    const created: Partial<Record<Channel, string>> = {};
    for (const [channel, { when, schedule }] of each)
      created[channel] = await schedule(when, promptOf(channel));

    // Assess: each confirmation names its job and its next fire, 08:00 UTC on the test's clock
    for (const [channel, { list }] of each) {
      const answer = created[channel] ?? '';
      ids[channel] = shortIdIn(answer);
      expect(ids[channel], `${channel}: ${answer}`).toBeDefined();
      expect(answer, channel).toMatch(/2026-11-25 08:00 (UTC|Europe\/London)/);
      const listed = await list();
      expect(listed, channel).toMatch(/Your scheduled jobs \(1\)/);
      expect(listed, channel).toContain(ids[channel]);
    }
  }, 60_000);

  it('counts `in 2h` from the scheduler’s clock on every channel, not the machine’s', async () => {
    for (const [channel, { schedule, unschedule }] of each) {
      // Act
      const answer = await schedule('in 2h', 'A one-time job');
      const id = shortIdIn(answer) ?? '';

      // Assess: 07:00 on the test's clock, plus two hours
      expect(answer, channel).toContain('at(2026-11-25T09:00:00) · next 2026-11-25 09:00 UTC');
      expect(await unschedule(id), channel).toMatch(new RegExp(`^Deleted: ${id}`));
    }
  }, 60_000);

  it('fires every job at its time and answers each on the channel it was made on', async () => {
    // Act: nothing is due at 07:59; at 08:00 all four are
    clock.now = Date.UTC(2026, 10, 25, 7, 59);
    const early = await stack.tickScheduler();
    clock.now = Date.UTC(2026, 10, 25, 8, 0);
    const fired = await stack.tickScheduler();

    // Assess: the real agent ran each prompt (the fake LLM echoes it) and each reply came home
    expect(early).toBe(0);
    expect(fired).toBe(4);
    const replies = await Promise.allSettled(
      each.map(([channel, { reply }]) =>
        waitFor(() => reply(promptOf(channel)), 150_000, `the scheduled reply on ${channel}`),
      ),
    );
    const arrived = Object.fromEntries(
      each.map(([channel], i) => [channel, replies[i]?.status === 'fulfilled']),
    );
    expect(arrived).toEqual({ web: true, telegram: true, discord: true, slack: true });
  }, 300_000);

  it('deletes each job from its channel, after which it is no longer listed', async () => {
    for (const [channel, { unschedule, list }] of each) {
      // Act
      const answer = await unschedule(ids[channel] ?? '');

      // Assess
      expect(answer, channel).toMatch(new RegExp(`^Deleted: ${ids[channel]}`));
      expect(await list(), channel).toMatch(/You have no scheduled jobs/);
    }
  }, 60_000);
});
