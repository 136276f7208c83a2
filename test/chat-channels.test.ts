import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDiscordApi, slashCommand, startFakeDiscordApi } from './fixtures/fake-discord-api.ts';
import { type FakeLlm, startFakeLlm } from './fixtures/fake-llm.ts';
import { type FakeSlackApi, slackSignature, startFakeSlackApi } from './fixtures/fake-slack-api.ts';
import { type FakeTelegramApi, startFakeTelegramApi, textUpdate } from './fixtures/fake-telegram-api.ts';
import { bearer, signIn } from './fixtures/local-auth.ts';
import { type LocalProcess, startLocalProcess } from './fixtures/local-process.ts';
import { waitFor } from './fixtures/wait-for.ts';

const TELEGRAM_TOKEN = '123456:telegram-test-token';
const TELEGRAM_SECRET = 'telegram-webhook-secret-0123456789';
const SLACK_SECRET = 'slack-signing-secret-0123456789';
const SLACK_TOKEN = 'xoxb-slack-test-token';
const DISCORD_TOKEN = 'discord-bot-token-for-tests';

/**
 * The three chat channels through `npm start`, as a person would point real bots at it: signed webhook
 * requests in, the real runtime selector and OpenClaw agent (on a fake LLM) in the middle, and the replies
 * out through each platform's API (loopback fakes of Telegram, Slack and Discord).
 */
describe('chat channels end to end in local mode, with a real OpenClaw turn', () => {
  let llm: FakeLlm;
  let telegram: FakeTelegramApi;
  let slack: FakeSlackApi;
  let discord: FakeDiscordApi;
  let dataDir: string;
  let stack: LocalProcess | undefined;
  const discordKeys = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    llm = await startFakeLlm();
    telegram = await startFakeTelegramApi({ token: TELEGRAM_TOKEN });
    slack = await startFakeSlackApi({ botToken: SLACK_TOKEN, botUserId: 'UBOT' });
    discord = await startFakeDiscordApi({ botToken: DISCORD_TOKEN });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-channels-'));
    const rawPublicKey = discordKeys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    stack = await startLocalProcess({
      DATA_DIR: dataDir,
      OPENCLAW_LLM_BASE_URL: llm.baseUrl,
      OPENCLAW_LLM_MODEL: 'fake-model',
      ALLOWED_USERS: 'telegram:42',
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
    });
  });

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.log(stack?.output().slice(-8000));
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([llm?.close(), telegram?.close(), slack?.close(), discord?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A signed Slack request to the local webhook. */
  function postToSlack(body: string, contentType: string) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return fetch(`${stack!.url}/webhooks/slack`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body),
      },
      body,
    });
  }

  it('answers an allow-listed Telegram user through the Bot API, and refuses a forged webhook', async () => {
    // Act
    const forged = await fetch(`${stack!.url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
      body: JSON.stringify(textUpdate('Forged message', { fromId: 42 })),
    });
    const accepted = await fetch(`${stack!.url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': TELEGRAM_SECRET },
      body: JSON.stringify(textUpdate('Hello from Telegram', { fromId: 42 })),
    });

    // Assess: the echo of the real turn arrives as the chat's message
    expect(forged.status).toBe(401);
    expect(accepted.status).toBe(200);
    const reply = await waitFor(
      () =>
        telegram
          .messagesIn(42)
          .find(
            (message) =>
              message.visibleText.startsWith('Echo:') && message.visibleText.includes('Hello from Telegram'),
          ),
      90_000,
      'the Telegram reply',
    );
    expect(reply).toBeDefined();
    expect(llm.requests.some((request) => JSON.stringify(request.messages).includes('Forged message'))).toBe(
      false,
    );
  }, 120_000);

  it('links a Slack account with a code from the web user, then answers its mention in the thread', async () => {
    // Prepare: a stranger first, then a link code for the local web user
    const mention = (text: string, eventId: string) =>
      JSON.stringify({
        type: 'event_callback',
        team_id: 'T1',
        event_id: eventId,
        event_time: Math.floor(Date.now() / 1000),
        event: {
          type: 'app_mention',
          user: 'U123',
          text: `<@${slack.botUserId}> ${text}`,
          ts: '1760000000.000100',
          channel: 'C1',
          event_ts: '1760000000.000100',
        },
      });
    const stranger = await postToSlack(mention('Am I allowed?', 'EvStranger01'), 'application/json');
    const codeResponse = await fetch(`${stack!.url}/v1/link-codes`, {
      method: 'POST',
      headers: bearer((await signIn(stack!.url, 'alice')).idToken),
    });
    const { code } = (await codeResponse.json()) as { code: string };

    // Act: link with the slash command, then mention the bot
    const link = await postToSlack(
      new URLSearchParams({
        command: '/openclaw',
        text: `link ${code}`,
        user_id: 'U123',
        channel_id: 'C1',
        team_id: 'T1',
        trigger_id: '13345224609.738474920.8088930838d88f008e0',
        response_url: 'https://hooks.slack.invalid/commands/1',
      }).toString(),
      'application/x-www-form-urlencoded',
    );
    const linkAnswer = (await link.json()) as { text?: string };
    const accepted = await postToSlack(mention('Hello from Slack', 'EvLinked01'), 'application/json');

    // Assess: the stranger got a notice and no agent; the linked user gets the reply in the thread
    expect(stranger.status).toBe(200);
    expect(codeResponse.status).toBe(201);
    expect(link.status).toBe(200);
    expect(linkAnswer.text).toMatch(/linked/i);
    expect(accepted.status).toBe(200);
    const reply = await waitFor(
      () =>
        slack
          .messagesIn('C1', '1760000000.000100')
          .find((message) => message.text.startsWith('Echo:') && message.text.includes('Hello from Slack')),
      90_000,
      'the Slack reply in the thread',
    );
    expect(reply).toBeDefined();
    expect(llm.requests.some((request) => JSON.stringify(request.messages).includes('Am I allowed?'))).toBe(
      false,
    );
    expect(slack.ephemerals.length).toBeGreaterThan(0);
  }, 120_000);

  it('defers a Discord /ask within the interaction and edits in the answer', async () => {
    // Prepare: a linked Discord user
    const codeResponse = await fetch(`${stack!.url}/v1/link-codes`, {
      method: 'POST',
      headers: bearer((await signIn(stack!.url, 'bob')).idToken),
    });
    const { code } = (await codeResponse.json()) as { code: string };
    const endpoint = `${stack!.url}/webhooks/discord`;
    const linked = await discord.deliverInteraction(
      endpoint,
      slashCommand('link', { code }, { userId: '1200000000000000099' }),
      discordKeys.privateKey,
    );

    // Act
    const ask = slashCommand('ask', { prompt: 'Hello from Discord' }, { userId: '1200000000000000099' });
    const answer = await discord.deliverInteraction(endpoint, ask, discordKeys.privateKey);

    // Assess: deferred at once, then the original response carries the agent's answer
    expect(linked.status).toBe(200);
    expect(answer).toMatchObject({ status: 200, body: { type: 5 } });
    const reply = await waitFor(
      () =>
        discord
          .interactionMessages(ask.token)
          .find(
            (message) =>
              message.content.startsWith('Echo:') && message.content.includes('Hello from Discord'),
          ),
      90_000,
      'the Discord answer',
    );
    expect(reply.original).toBe(true);
  }, 120_000);
});
