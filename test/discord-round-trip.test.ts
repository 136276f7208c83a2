import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus, type Publisher, ROUTES, type TargetId } from '../bus/index.ts';
import { createDiscordClient, createDiscordRest } from '../consumers/discord/discord-client.ts';
import { createDiscordConsumer } from '../consumers/discord/handler.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import { createLocalHttpApi } from '../infra/local/http-api.ts';
import { createDiscordProducer } from '../producers/discord/handler.ts';
import { type BusEnvelope, EventSources, type MessageReceived } from '../schemas/index.ts';
import { type FakeDiscordApi, slashCommand, startFakeDiscordApi } from './fixtures/fake-discord-api.ts';
import { startLocalAws } from './fixtures/local-aws.ts';

const USER = '1200000000000000001';
const BOT_TOKEN = 'bot-token-for-tests';

const DISCORD_CONSUMER: TargetId = 'discord-consumer';

/** A reply of three ~900-character paragraphs about `prompt`: two Discord messages. */
const replyTo = (prompt: string) =>
  [1, 2, 3].map((n) => `Part ${n} about "${prompt}": ${'words '.repeat(150)}`.trim()).join('\n\n');

describe('Discord end to end: signed interaction → bus → stand-in agent → consumer → Discord', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let discord: FakeDiscordApi;
  let bus: LocalBus;
  let eventBridge: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let client: EventBridgeClient;
  let server: Server;
  let webhookUrl: string;
  const turns: MessageReceived[] = [];
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

  /** The agent's part, as the turn runner plays it: a delta, then the completed reply (delivered twice). */
  function standInAgent(publisher: Publisher) {
    return async (envelope: BusEnvelope) => {
      const message = envelope.detail as MessageReceived;
      turns.push(message);
      const base = {
        userId: message.userId,
        conversationId: message.conversationId,
        replyTo: message.replyTo,
        inReplyTo: message.messageId,
      };
      const text = replyTo(message.text);
      await publisher.publish({
        source: EventSources.agent,
        detailType: 'ReplyDelta.v1',
        detail: { ...base, seq: 1, text: text.slice(0, 300) },
      });
      // Sequence the test, not the code: the preview has reached Discord before the reply completes.
      const token = String(message.replyTo.address.interactionToken);
      for (
        let waited = 0;
        waited < 10_000 && !discord.requests.some((r) => r.path.includes(token));
        waited += 20
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const completed = { ...base, seq: 2, status: 'ok' as const, text };
      // EventBridge delivers at least once: the same reply twice must show once.
      await publisher.publish([
        { source: EventSources.agent, detailType: 'ReplyCompleted.v1', detail: completed },
        { source: EventSources.agent, detailType: 'ReplyCompleted.v1', detail: completed },
      ]);
    };
  }

  beforeAll(async () => {
    aws = await startLocalAws();
    discord = await startFakeDiscordApi({ botToken: BOT_TOKEN });
    const targets: Partial<Record<TargetId, (envelope: BusEnvelope) => Promise<unknown>>> = {};
    bus = new LocalBus({
      routes: ROUTES,
      targets,
    });
    eventBridge = await startEventBridgeEndpoint(bus);
    client = new EventBridgeClient(localClientConfig(eventBridge.endpoint));
    const publisher = createPublisher({ client, eventBusName: 'test', baseDelayMs: 1 });
    const logger = new Logger({ logLevel: 'SILENT' });
    targets['runtime-selector'] = standInAgent(publisher);
    targets[DISCORD_CONSUMER] = createDiscordConsumer({
      storage: aws.storage,
      client: createDiscordClient({
        rest: createDiscordRest({ api: discord.base }),
        botToken: async () => BOT_TOKEN,
      }),
      logger,
    });
    const producer = createDiscordProducer({
      storage: aws.storage,
      publisher,
      publicKey: async () => publicKeyHex,
      allowedUsers: [`discord:${USER}`],
      logger,
    });
    // Local mode's HTTP API in front of the producer, as `npm start` serves it.
    const api = createLocalHttpApi({
      routes: [{ method: 'POST', path: '/webhooks/discord', handler: producer }],
      authorize: () => undefined,
    });
    server = createServer((req, res) => {
      void api(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/discord`;
  });
  afterAll(async () => {
    await bus.close();
    client.destroy();
    await eventBridge.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await discord.close();
    await aws.close();
  });

  it('answers /ask with "thinking…", then streams and posts the long reply once, in 2000-character messages', async () => {
    // Prepare
    const ask = slashCommand('ask', { prompt: 'tides' }, { userId: USER });

    // Act
    const answer = await discord.deliverInteraction(webhookUrl, ask, privateKey);
    await bus.idle();

    // Assess: Discord got the deferred answer at once
    expect(answer).toEqual({ status: 200, body: { type: 5 } });
    expect(turns.filter((turn) => turn.replyTo.address.interactionToken === ask.token)).toHaveLength(1);
    // The preview edited "thinking…", the reply replaced it and went on in one follow-up
    const calls = discord.requests.filter((request) => request.path.includes(ask.token));
    expect(
      calls.map((call) => `${call.method} ${call.path.endsWith('@original') ? '@original' : 'webhook'}`),
    ).toEqual(['PATCH @original', 'PATCH @original', 'POST webhook']);
    expect(calls.every((call) => call.status === 200 && call.authorization === undefined)).toBe(true);
    const messages = discord.interactionMessages(ask.token);
    expect(messages.map((message) => message.content.slice(0, 6))).toEqual(['Part 1', 'Part 3']);
    for (const message of messages) {
      expect(message.content.length).toBeLessThanOrEqual(2000);
      expect(message.allowedMentions).toEqual({ parse: [] });
    }
    expect(bus.deadLetters).toEqual([]);
  });

  it('tells a stranger how to link, privately, and never wakes the agent', async () => {
    // Prepare
    const ask = slashCommand('ask', { prompt: 'let me in' }, { userId: '1200000000000000999' });

    // Act
    const answer = await discord.deliverInteraction(webhookUrl, ask, privateKey);
    await bus.idle();

    // Assess
    expect(answer.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: expect.stringContaining('/link') },
    });
    expect(turns.some((turn) => turn.replyTo.address.interactionToken === ask.token)).toBe(false);
  });
});
