import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Api } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPublisher,
  LocalBus,
  type Publisher,
  ROUTES,
  type TargetHandler,
  type TargetId,
} from '../bus/index.ts';
import { createTelegramConsumer } from '../consumers/telegram/handler.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import { createIdentity } from '../producers/shared/identity.ts';
import { createTelegramProducer } from '../producers/telegram/handler.ts';
import { type BusEnvelope, EventSources, type MessageReceived } from '../schemas/index.ts';
import {
  type FakeTelegramApi,
  startFakeTelegramApi,
  textUpdate,
  webhookEvent,
} from './fixtures/fake-telegram-api.ts';
import { startLocalAws } from './fixtures/local-aws.ts';

const TOKEN = '654321:round-trip-token';
const SECRET = 'round-trip-secret';
const TELEGRAM_CONSUMER: TargetId = 'telegram-consumer';

const silent = new Logger({ logLevel: 'SILENT' });

async function waitFor<T>(read: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > giveUpAt) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a Telegram conversation: webhook -> bus -> agent stand-in -> consumer -> Bot API', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let fake: FakeTelegramApi;
  let bus: LocalBus;
  let endpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let publisher: Publisher;
  let webhook: ReturnType<typeof createTelegramProducer>;
  const turns: MessageReceived[] = [];

  /**
   * Stands in for the runtime selector and the agent: answers each message with a status, one delta and,
   * once the delta is on screen, the completed reply, published through the real publisher like the agent.
   */
  const agentStandIn: TargetHandler = async (envelope: BusEnvelope) => {
    const message = envelope.detail as MessageReceived;
    turns.push(message);
    const about = {
      userId: message.userId,
      conversationId: message.conversationId,
      replyTo: message.replyTo,
      inReplyTo: message.messageId,
    };
    const chatId = message.replyTo.address.chatId as number;
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'AgentStatusChanged.v1',
      detail: { ...about, status: 'thinking', message: 'Thinking…' },
    });
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'ReplyDelta.v1',
      detail: { ...about, seq: 1, text: 'Hello' },
    });
    await waitFor(() => (fake.messagesIn(chatId).length > 0 ? true : undefined));
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'ReplyCompleted.v1',
      detail: {
        ...about,
        seq: 2,
        status: 'ok',
        text: `Hello **world** & <friends>, you said: ${message.text}`,
      },
    });
  };

  beforeAll(async () => {
    aws = await startLocalAws();
    fake = await startFakeTelegramApi({ token: TOKEN });
    // The routing table's own routes: the selector's (here a stand-in agent) and Telegram's replies.
    const routes = ROUTES.filter((route) => ['runtime-selector', TELEGRAM_CONSUMER].includes(route.target));
    const consumer = createTelegramConsumer({
      storage: aws.storage,
      api: new Api(TOKEN, { apiRoot: fake.apiRoot }),
      logger: silent,
      editIntervalMs: 200,
    });
    bus = new LocalBus({
      routes,
      targets: { 'runtime-selector': agentStandIn, [TELEGRAM_CONSUMER]: consumer },
      logger: { warn: () => undefined, error: () => undefined },
    });
    endpoint = await startEventBridgeEndpoint(bus);
    publisher = createPublisher({
      client: new EventBridgeClient(localClientConfig(endpoint.endpoint)),
      eventBusName: 'local',
    });
    webhook = createTelegramProducer({
      storage: aws.storage,
      publisher,
      identity: createIdentity({ storage: aws.storage, allowedUsers: ['telegram:42', 'telegram:43'] }),
      logger: silent,
      webhookSecret: async () => SECRET,
    });
  });
  afterAll(async () => {
    await bus.close();
    await endpoint.close();
    await fake.close();
    await aws.close();
  });

  const deliver = (update: unknown) =>
    webhook(webhookEvent(update, { secret: SECRET }) as unknown as APIGatewayProxyEventV2);

  it('streams the reply into one message: typing, sendMessage, then editMessageText with HTML', async () => {
    // Act
    const response = await deliver(textUpdate('hi bot', { fromId: 42 }));
    await waitFor(() => (fake.messagesIn(42)[0]?.visibleText.startsWith('Hello world') ? true : undefined));
    await bus.idle();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(fake.calls.map((call) => call.method)).toEqual([
      'sendChatAction',
      'sendMessage',
      'editMessageText',
    ]);
    expect(fake.messagesIn(42)).toEqual([
      expect.objectContaining({
        text: 'Hello <b>world</b> &amp; &lt;friends&gt;, you said: hi bot',
        parseMode: 'HTML',
        edits: 1,
      }),
    ]);
    expect(bus.deadLetters).toEqual([]);
  });

  it('answers a redelivered update exactly once, even when the copies arrive together', async () => {
    // Prepare
    const update = textUpdate('are you there?', { fromId: 43 });

    // Act
    const responses = await Promise.all([deliver(update), deliver(update)]);
    await deliver(update);
    await waitFor(() => (fake.messagesIn(43)[0]?.text.includes('are you there?') ? true : undefined));
    await bus.idle();

    // Assess: copies that raced the first are answered 200 or asked to retry (503), never published twice
    expect(responses.map((response) => response.statusCode).sort()).toEqual(
      responses.some((response) => response.statusCode === 503) ? [200, 503] : [200, 200],
    );
    expect(turns.filter((turn) => turn.text === 'are you there?')).toHaveLength(1);
    expect(fake.messagesIn(43)).toHaveLength(1);
  });
});
