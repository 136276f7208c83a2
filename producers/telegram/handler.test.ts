import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus } from '../../bus/index.ts';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, LlmSettings, MessageReceived } from '../../schemas/index.ts';
import { textUpdate, type WebhookEventOptions, webhookEvent } from '../../test/fixtures/fake-telegram-api.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createJobStore } from '../schedule/jobs.ts';
import { recordingScheduler } from '../schedule/test-fixtures.ts';
import { claimMessage } from '../shared/dedupe.ts';
import { createIdentity } from '../shared/identity.ts';
import { createTelegramProducer, type TelegramProducerDeps } from './handler.ts';

const SECRET = 'webhook-secret_0123456789';
const BOT = 'openclaw_test_bot';
const DEFAULT_LLM: LlmSettings = {
  provider: 'custom',
  api: 'openai-completions',
  model: 'llama3.2',
  baseUrl: 'http://127.0.0.1:11434/v1',
  apiKeyRef: 'OPENCLAW_LLM_API_KEY',
};

const bodyOf = (response: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(response.body || '{}') as Record<string, unknown>;

let nextUser = 7_000;
/** A Telegram user nobody has linked yet. */
const stranger = () => nextUser++;

describe('the Telegram webhook (dynalite, local bus)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let bus: LocalBus;
  let endpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  const received: BusEnvelope[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    // The real routing table: MessageReceived goes to the runtime selector, here a recorder.
    bus = new LocalBus({
      targets: { 'runtime-selector': async (envelope) => void received.push(envelope) },
      logger: { warn: () => undefined, error: () => undefined },
    });
    endpoint = await startEventBridgeEndpoint(bus);
  });
  afterAll(async () => {
    await bus.close();
    await endpoint.close();
    await aws.close();
  });

  function setup(overrides: Partial<TelegramProducerDeps> = {}) {
    const identity = createIdentity({ storage: aws.storage, allowedUsers: ['telegram:42'] });
    const handler = createTelegramProducer({
      storage: aws.storage,
      publisher: createPublisher({
        client: new EventBridgeClient(localClientConfig(endpoint.endpoint)),
        eventBusName: 'local',
        baseDelayMs: 1,
      }),
      identity,
      logger: new Logger({ logLevel: 'SILENT' }),
      webhookSecret: async () => SECRET,
      botUsername: BOT,
      defaultLlm: DEFAULT_LLM,
      ...overrides,
    });
    async function post(update: unknown, options: Partial<WebhookEventOptions> = {}) {
      const event = webhookEvent(update, { secret: SECRET, ...options }) as unknown as APIGatewayProxyEventV2;
      const response = await handler(event);
      await bus.idle();
      return response;
    }
    return { post, identity };
  }

  const publishedFor = (updateText: string) =>
    received
      .filter((envelope) => envelope['detail-type'] === 'MessageReceived.v1')
      .map((envelope) => envelope.detail as MessageReceived)
      .filter((detail) => detail.text === updateText);

  describe('verifying the secret token', () => {
    it('accepts the right token, publishes the message and answers with "typing"', async () => {
      // Prepare
      const { post } = setup();

      // Act
      const response = await post(textUpdate('hello agent', { fromId: 42, messageId: 11 }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toEqual({ method: 'sendChatAction', chat_id: 42, action: 'typing' });
      expect(publishedFor('hello agent')).toEqual([
        expect.objectContaining({
          userId: 'telegram:42',
          sender: { channelUserId: '42', displayName: 'Ada' },
          replyTo: { channel: 'telegram', address: { chatId: 42, replyToMessageId: 11 } },
        }),
      ]);
      expect(received.find((e) => (e.detail as MessageReceived).text === 'hello agent')?.source).toBe(
        'openclaw.telegram',
      );
    });

    it.each([
      ['a wrong token', { secret: 'webhook-secret_0123456788' }],
      ['a token that is a prefix of the secret', { secret: 'webhook-secret' }],
      ['an empty token', { secret: '' }],
      ['no token header', { secret: null }],
    ])('refuses %s with 401, publishing nothing and echoing nothing', async (_, options) => {
      // Prepare
      const { post } = setup();
      const text = `forged ${Math.random()}`;

      // Act
      const response = await post(textUpdate(text, { fromId: 42 }), options);

      // Assess
      expect(response.statusCode).toBe(401);
      expect(response.body).toBe('Unauthorized');
      expect(publishedFor(text)).toEqual([]);
    });

    it.each([
      'X-Telegram-Bot-Api-Secret-Token',
      'x-telegram-bot-api-secret-token',
      'X-TELEGRAM-BOT-API-SECRET-TOKEN',
    ])('reads the header whatever its case (%s)', async (headerName) => {
      // Prepare
      const { post } = setup();
      const text = `case ${headerName}`;

      // Act
      const response = await post(textUpdate(text, { fromId: 42 }), { headerName });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(publishedFor(text)).toHaveLength(1);
    });

    it('decodes a base64-encoded body before reading it', async () => {
      // Prepare
      const { post } = setup();

      // Act
      const response = await post(textUpdate('über base64 ✓', { fromId: 42 }), { base64: true });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(publishedFor('über base64 ✓')).toHaveLength(1);
    });

    it('refuses every update while the secret is not configured, as a retryable 503', async () => {
      // Prepare
      const { post } = setup({ webhookSecret: async () => undefined });

      // Act
      const response = await post(textUpdate('too early', { fromId: 42 }), { secret: 'anything' });

      // Assess
      expect(response.statusCode).toBe(503);
      expect(publishedFor('too early')).toEqual([]);
    });
  });

  describe('refusing bad input with a 4xx', () => {
    it.each([
      ['a body that is not JSON', { rawBody: '{"update_id": 1, ' }, 400],
      ['JSON that is not an update', { rawBody: '{"message": {"text": "hi"}}' }, 400],
      [
        'a body over the size cap',
        { rawBody: JSON.stringify({ update_id: 1, pad: 'x'.repeat(300_000) }) },
        413,
      ],
      ['another HTTP method', { method: 'GET' }, 405],
    ])('answers %s with %s', async (_, options, status) => {
      // Prepare
      const { post } = setup();

      // Act
      const response = await post({}, options as Partial<WebhookEventOptions>);

      // Assess
      expect(response.statusCode).toBe(status);
    });
  });

  describe('dedupe and retries', () => {
    it('publishes a redelivered update once and acknowledges the copy', async () => {
      // Prepare
      const { post } = setup();
      const update = textUpdate('only once please', { fromId: 42 });

      // Act
      const first = await post(update);
      const again = await post(update);

      // Assess
      expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
      expect(again.body).toBeUndefined();
      expect(publishedFor('only once please')).toHaveLength(1);
    });

    it('asks Telegram to retry (503, Retry-After) while an earlier delivery is still being published', async () => {
      // Prepare
      const { post } = setup();
      const update = textUpdate('in flight', { fromId: 42 });
      await claimMessage(aws.storage, `telegram#update:${update.update_id}`, 'earlier-delivery', Date.now());

      // Act
      const response = await post(update);

      // Assess
      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'retry-after': '5' });
      expect(publishedFor('in flight')).toEqual([]);
    });

    it('answers 503 when the bus refuses the event, and publishes on Telegram’s retry', async () => {
      // Prepare
      const { post } = setup();
      const update = textUpdate('bus hiccup', { fromId: 42 });
      bus.injectFailures(10);

      // Act
      const failed = await post(update);
      bus.injectFailures(0);
      const retried = await post(update);

      // Assess
      expect(failed.statusCode).toBe(503);
      expect(retried.statusCode).toBe(200);
      expect(publishedFor('bus hiccup')).toHaveLength(1);
    });
  });

  describe('strangers and linking', () => {
    it('tells a stranger how to pair and publishes nothing', async () => {
      // Prepare
      const { post } = setup({ webAppUrl: 'https://chat.example.com' });
      const userId = stranger();

      // Act
      const response = await post(textUpdate('let me in', { fromId: userId }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toMatchObject({ method: 'sendMessage', chat_id: userId });
      expect(bodyOf(response).text).toContain('/link');
      expect(bodyOf(response).text).toContain('https://chat.example.com');
      expect(publishedFor('let me in')).toEqual([]);
    });

    it('links with a valid code, after which the same account reaches its agent', async () => {
      // Prepare
      const { post, identity } = setup();
      const userId = stranger();
      const { code } = await identity.createLinkCode('web-user-1');

      // Act
      const linked = await post(textUpdate(`/link ${code}`, { fromId: userId }));
      await post(textUpdate('now I am known', { fromId: userId }));

      // Assess
      expect(bodyOf(linked).text).toMatch(/^Linked!/);
      expect(publishedFor('now I am known')).toEqual([expect.objectContaining({ userId: 'web-user-1' })]);
    });

    it('says clearly when a code is wrong, and when there were too many wrong codes', async () => {
      // Prepare
      const { post } = setup();
      const userId = stranger();

      // Act
      const answers: string[] = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const response = await post(textUpdate(`/link 0000000${attempt}`, { fromId: userId }));
        answers.push(String(bodyOf(response).text));
      }

      // Assess
      expect(answers[0]).toContain('not valid or has expired');
      expect(answers[5]).toContain('Too many wrong codes');
    });

    it('links through the /start deep link too, but never in a group', async () => {
      // Prepare
      const { post, identity } = setup();
      const inGroup = stranger();
      const { code } = await identity.createLinkCode('web-user-2');

      // Act
      const group = await post(
        textUpdate(`/link@${BOT} ${code}`, { fromId: inGroup, chatType: 'supergroup' }),
      );
      const deepLink = await post(textUpdate(`/start ${code}`, { fromId: stranger() }));

      // Assess
      expect(bodyOf(group).text).toContain('private chat');
      expect(bodyOf(deepLink).text).toMatch(/^Linked!/);
    });
  });

  describe('commands', () => {
    it('/start and /help explain the bot and the commands', async () => {
      // Prepare
      const { post } = setup();

      // Act
      const help = await post(textUpdate('/help', { fromId: 42 }));
      const start = await post(textUpdate('/start', { fromId: stranger() }));

      // Assess
      expect(bodyOf(help).text).toContain('/new');
      expect(bodyOf(help).text).toContain('linked');
      expect(bodyOf(start).text).toContain('/link');
    });

    it('/new starts a fresh conversation for the chat', async () => {
      // Prepare
      const { post } = setup();
      await post(textUpdate('before new', { fromId: 42 }));

      // Act
      const answer = await post(textUpdate('/new', { fromId: 42 }));
      await post(textUpdate('after new', { fromId: 42 }));

      // Assess
      expect(bodyOf(answer).text).toContain('new conversation');
      const [before] = publishedFor('before new');
      const [after] = publishedFor('after new');
      expect(after!.conversationId).not.toBe(before!.conversationId);
    });

    it('runs a redelivered command once', async () => {
      // Prepare
      const { post } = setup();
      const update = textUpdate('/new', { fromId: 42, chatId: 42 });
      await post(update);
      const { Item: afterFirst } = await aws.storage.ChannelConversationEntity.build(GetItemCommand)
        .key({ channel: 'telegram', chatKey: '42' })
        .send();

      // Act
      const again = await post(update);

      // Assess
      const { Item: afterAgain } = await aws.storage.ChannelConversationEntity.build(GetItemCommand)
        .key({ channel: 'telegram', chatKey: '42' })
        .send();
      expect(again).toEqual({ statusCode: 200 });
      expect(afterAgain?.conversationId).toBe(afterFirst?.conversationId);
    });

    it('/status shows the link, the conversation, the agent container and the model', async () => {
      // Prepare
      const { post } = setup();
      await aws.storage.TaskStateEntity.build(PutItemCommand)
        .item({ userId: 'telegram:42', status: 'running', changedAt: Date.now(), version: 3 })
        .send();

      // Act
      const linked = await post(textUpdate('/status', { fromId: 42 }));
      const unknown = await post(textUpdate('/status', { fromId: stranger() }));

      // Assess
      const text = String(bodyOf(linked).text);
      expect(text).toContain("Linked: yes (on the deployment's allow-list)");
      expect(text).toMatch(/Conversation: telegram-[0-9a-f]+/);
      expect(text).toContain('Agent container: running');
      expect(text).toContain('Model: deployment default (custom/llama3.2)');
      expect(bodyOf(unknown).text).toMatch(/^Linked: no/);
    });

    it('/model <id> sets the model on top of the default settings; /model reset removes it', async () => {
      // Prepare: a user of their own, so the settings start empty
      const userId = stranger();
      const { post: postAllowed } = setup({
        identity: createIdentity({ storage: aws.storage, allowedUsers: [`telegram:${userId}`] }),
      });

      // Act
      const set = await postAllowed(textUpdate('/model qwen2.5:7b', { fromId: userId }));
      const { Item } = await aws.storage.UserSettingsEntity.build(GetItemCommand)
        .key({ userId: `telegram:${userId}` })
        .send();
      const shown = await postAllowed(textUpdate('/status', { fromId: userId }));
      const bad = await postAllowed(textUpdate('/model not a model!', { fromId: userId }));
      const reset = await postAllowed(textUpdate('/model reset', { fromId: userId }));
      const { Item: afterReset } = await aws.storage.UserSettingsEntity.build(GetItemCommand)
        .key({ userId: `telegram:${userId}` })
        .send();

      // Assess
      expect(bodyOf(set).text).toBe('Model set to custom/qwen2.5:7b. Your next message uses it.');
      expect(JSON.parse(Item!.llm!)).toEqual({ ...DEFAULT_LLM, model: 'qwen2.5:7b' });
      expect(Item!.runtime).toBe('lambda');
      expect(bodyOf(shown).text).toContain('Model: custom/qwen2.5:7b (your setting)');
      expect(bodyOf(bad).text).toContain('does not look like a model id');
      expect(bodyOf(reset).text).toContain('deployment default (custom/llama3.2)');
      expect(afterReset?.llm).toBeUndefined();
      expect(afterReset?.runtime).toBe('lambda');
    });

    it('/model explains when there is no model to start from, and refuses strangers', async () => {
      // Prepare
      const userId = stranger();
      const { post } = setup({
        defaultLlm: undefined,
        identity: createIdentity({ storage: aws.storage, allowedUsers: [`telegram:${userId}`] }),
      });

      // Act
      const noBase = await post(textUpdate('/model gpt-4.1', { fromId: userId }));
      const fromStranger = await post(textUpdate('/model gpt-4.1', { fromId: stranger() }));

      // Assess
      expect(bodyOf(noBase).text).toContain('No language model is configured');
      expect(bodyOf(fromStranger).text).toContain('/link');
    });
  });

  describe('groups, topics and what is ignored', () => {
    it('answers in a group only when mentioned or replied to, without the mention, in the topic', async () => {
      // Prepare
      const { post } = setup();
      const mention = `@${BOT}`;
      const text = `${mention} summarise the thread`;

      // Act
      const unaddressed = await post(textUpdate('just chatting', { fromId: 42, chatType: 'supergroup' }));
      const mentioned = await post(
        textUpdate(text, {
          fromId: 42,
          chatType: 'supergroup',
          chatId: -100555,
          threadId: 9,
          messageId: 31,
          entities: [{ type: 'mention', offset: 0, length: mention.length }],
        }),
      );
      await post(textUpdate('and a follow-up', { fromId: 42, chatType: 'group', replyToBot: BOT }));

      // Assess
      expect(unaddressed).toEqual({ statusCode: 200 });
      expect(publishedFor('just chatting')).toEqual([]);
      expect(bodyOf(mentioned)).toEqual({
        method: 'sendChatAction',
        chat_id: -100555,
        message_thread_id: 9,
        action: 'typing',
      });
      expect(publishedFor('summarise the thread')).toEqual([
        expect.objectContaining({
          replyTo: {
            channel: 'telegram',
            address: { chatId: -100555, messageThreadId: 9, replyToMessageId: 31, quote: true },
          },
        }),
      ]);
      expect(publishedFor('and a follow-up')).toHaveLength(1);
    });

    it('gives each forum topic its own conversation', async () => {
      // Prepare
      const { post } = setup();
      const inTopic = (threadId: number, text: string) =>
        textUpdate(`@${BOT} ${text}`, {
          fromId: 42,
          chatType: 'supergroup',
          chatId: -100777,
          threadId,
          entities: [{ type: 'mention', offset: 0, length: BOT.length + 1 }],
        });

      // Act
      await post(inTopic(1, 'topic one'));
      await post(inTopic(2, 'topic two'));

      // Assess
      const [one] = publishedFor('topic one');
      const [two] = publishedFor('topic two');
      expect(one!.conversationId).not.toBe(two!.conversationId);
    });

    it.each([
      ['an edited message', { update_id: 910_001, edited_message: { message_id: 1, text: 'edit' } }],
      ['a callback query', { update_id: 910_002, callback_query: { id: '1', data: 'x' } }],
      ['a channel post', { update_id: 910_003, channel_post: { message_id: 1, text: 'news' } }],
      [
        'a message from a bot',
        { ...textUpdate('beep'), message: { ...textUpdate('beep').message, from: { id: 5, is_bot: true } } },
      ],
      [
        'a service message in a group',
        {
          update_id: 910_004,
          message: {
            message_id: 2,
            chat: { id: -1, type: 'group' },
            from: { id: 42, is_bot: false },
            new_chat_members: [],
          },
        },
      ],
    ])('acknowledges %s with 200 and ignores it', async (_, update) => {
      // Prepare
      const { post } = setup();
      const before = received.length;

      // Act
      const response = await post(update);

      // Assess
      expect(response).toEqual({ statusCode: 200 });
      expect(received.length).toBe(before);
    });

    it('tells a user in a private chat that only text is read, when they send a photo', async () => {
      // Prepare
      const { post } = setup();
      const photo = {
        update_id: 910_010,
        message: {
          message_id: 3,
          from: { id: 42, is_bot: false },
          chat: { id: 42, type: 'private' },
          photo: [],
        },
      };

      // Act
      const response = await post(photo);

      // Assess
      expect(bodyOf(response)).toMatchObject({ method: 'sendMessage', chat_id: 42 });
      expect(bodyOf(response).text).toContain('only read text');
    });
  });

  describe('scheduled jobs from the chat', () => {
    it('/schedule makes a job that answers in this chat and topic; /schedules lists it; /unschedule deletes it', async () => {
      // Prepare
      const { scheduler, calls } = recordingScheduler();
      const jobs = createJobStore({ storage: aws.storage, scheduler });
      const { post } = setup({ jobs });
      const userId = 'telegram:42';
      const before = (await jobs.list(userId)).length;

      // Act
      const created = await post(
        textUpdate('/schedule every day 08:00 tz=Europe/Berlin Morning brief', {
          fromId: 42,
          chatId: -100555,
          chatType: 'supergroup',
          threadId: 9,
        }),
      );
      const job = (await jobs.list(userId)).find((j) => j.prompt === 'Morning brief');
      const listed = await post(textUpdate('/schedules', { fromId: 42 }));
      const deleted = await post(textUpdate(`/unschedule ${job!.jobId.slice(0, 8)}`, { fromId: 42 }));

      // Assess
      expect(bodyOf(created)).toMatchObject({
        method: 'sendMessage',
        chat_id: -100555,
        message_thread_id: 9,
      });
      expect(bodyOf(created).text).toContain('Scheduled:');
      expect(job).toMatchObject({
        expression: 'cron(0 8 * * ? *)',
        timeZone: 'Europe/Berlin',
        replyTo: { channel: 'telegram', address: { chatId: -100555, messageThreadId: 9 } },
        conversationId: expect.stringMatching(/.+/),
      });
      expect(bodyOf(listed).text).toContain('Morning brief');
      expect(bodyOf(deleted).text).toContain('Deleted:');
      expect((await jobs.list(userId)).length).toBe(before);
      expect(calls.map((call) => call.action)).toEqual(['upsert', 'remove']);
      expect(publishedFor('/schedule every day 08:00 tz=Europe/Berlin Morning brief')).toEqual([]);
    });

    it('answers a job the store refuses with its reason, and a stranger with the how-to', async () => {
      // Prepare
      const jobs = createJobStore({ storage: aws.storage, scheduler: recordingScheduler().scheduler });
      const { post } = setup({ jobs });
      const strangerId = stranger();

      // Act
      const tooOften = await post(textUpdate('/schedule every 1m spam', { fromId: 42 }));
      const fromStranger = await post(textUpdate('/schedule in 2h hi', { fromId: strangerId }));
      const unconfigured = await setup().post(textUpdate('/schedules', { fromId: 42 }));

      // Assess
      expect(bodyOf(tooOften).text).toContain('at most every 5 minutes');
      expect(bodyOf(fromStranger).text).toContain('/link');
      expect(await jobs.list(`telegram:${strangerId}`)).toEqual([]);
      expect(bodyOf(unconfigured).text).toContain('not set up');
    });
  });
});
