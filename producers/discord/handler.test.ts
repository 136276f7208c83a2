import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus, ROUTES } from '../../bus/index.ts';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, MessageReceived } from '../../schemas/index.ts';
import { MAX_MESSAGE_TEXT_CHARS } from '../../schemas/index.ts';
import {
  messageCommand,
  pingInteraction,
  signInteraction,
  slashCommand,
  TEST_APPLICATION_ID,
  TEST_CHANNEL_ID,
} from '../../test/fixtures/fake-discord-api.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { claimMessage, releaseClaim } from '../shared/dedupe.ts';
import { createIdentity } from '../shared/identity.ts';
import { createDiscordProducer } from './handler.ts';

const ALLOWED_USER = '1200000000000000001';
const STRANGER = '1200000000000000666';

/** The application's key pair: Discord holds the private key, the endpoint knows the public one. */
function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey, publicKeyHex: raw.toString('hex') };
}

interface RequestOptions {
  key?: KeyObject;
  /** Seconds since the epoch. @default now */
  timestamp?: number;
  /** The body sent, when it differs from the body signed (tampering). */
  sentBody?: string;
  headerNames?: { signature: string; timestamp: string };
  base64?: boolean;
  omit?: 'signature' | 'timestamp';
}

describe('the Discord interactions endpoint (dynalite, local bus)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let bus: LocalBus;
  let endpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let client: EventBridgeClient;
  const received: BusEnvelope[] = [];
  const keys = keyPair();
  let handle: ReturnType<typeof createDiscordProducer>;

  beforeAll(async () => {
    aws = await startLocalAws();
    // The real routing table: MessageReceived goes to the runtime selector, recorded here.
    bus = new LocalBus({
      routes: ROUTES,
      targets: { 'runtime-selector': async (e) => void received.push(e) },
    });
    endpoint = await startEventBridgeEndpoint(bus);
    client = new EventBridgeClient(localClientConfig(endpoint.endpoint));
    handle = producer(20);
  });
  afterAll(async () => {
    await bus.close();
    client.destroy();
    await endpoint.close();
    await aws.close();
  });

  function producer(inFlightPollMs: number) {
    return createDiscordProducer({
      storage: aws.storage,
      publisher: createPublisher({ client, eventBusName: 'test', baseDelayMs: 1 }),
      publicKey: async () => keys.publicKeyHex,
      allowedUsers: [`discord:${ALLOWED_USER}`],
      logger: new Logger({ logLevel: 'SILENT' }),
      inFlightPollMs,
    });
  }

  /** An API Gateway v2 event of a request signed like Discord signs it. */
  function request(interaction: unknown, options: RequestOptions = {}): APIGatewayProxyEventV2 {
    const body = JSON.stringify(interaction);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = signInteraction(options.key ?? keys.privateKey, timestamp, body);
    const names = options.headerNames ?? {
      signature: 'x-signature-ed25519',
      timestamp: 'x-signature-timestamp',
    };
    const sent = options.sentBody ?? body;
    return {
      version: '2.0',
      routeKey: 'POST /webhooks/discord',
      rawPath: '/webhooks/discord',
      rawQueryString: '',
      headers: {
        'content-type': 'application/json',
        ...(options.omit === 'signature' ? {} : { [names.signature]: signature }),
        ...(options.omit === 'timestamp' ? {} : { [names.timestamp]: timestamp }),
      },
      body: options.base64 ? Buffer.from(sent, 'utf8').toString('base64') : sent,
      isBase64Encoded: options.base64 ?? false,
      requestContext: {} as APIGatewayProxyEventV2['requestContext'],
    } as APIGatewayProxyEventV2;
  }

  async function call(interaction: unknown, options: RequestOptions = {}) {
    const result = await handle(request(interaction, options));
    const body =
      result.body && result.headers?.['content-type'] === 'application/json'
        ? JSON.parse(result.body)
        : result.body;
    return { status: result.statusCode, body };
  }

  /** The MessageReceived events of one interaction (the bus delivers asynchronously). */
  async function published(interactionToken: string): Promise<MessageReceived[]> {
    await bus.idle();
    return received
      .map((envelope) => envelope.detail as MessageReceived)
      .filter((detail) => detail.replyTo.address.interactionToken === interactionToken);
  }

  describe('signature and freshness', () => {
    it('answers a correctly signed PING with a PONG', async () => {
      // Act
      const response = await call(pingInteraction());

      // Assess
      expect(response).toEqual({ status: 200, body: { type: 1 } });
    });

    it('refuses a body changed after signing, with 401', async () => {
      // Prepare
      const ping = pingInteraction();
      const tampered = JSON.stringify({ ...ping, type: 2 });

      // Act
      const response = await call(ping, { sentBody: tampered });

      // Assess
      expect(response.status).toBe(401);
    });

    it('refuses a request signed with another key, with 401', async () => {
      // Prepare
      const other = keyPair();

      // Act
      const response = await call(pingInteraction(), { key: other.privateKey });

      // Assess
      expect(response.status).toBe(401);
    });

    it('refuses stale and future timestamps (replays), even when correctly signed', async () => {
      // Prepare
      const nowSeconds = Math.floor(Date.now() / 1000);

      // Act
      const stale = await call(pingInteraction(), { timestamp: nowSeconds - 10 * 60 });
      const future = await call(pingInteraction(), { timestamp: nowSeconds + 10 * 60 });
      const slightlyOff = await call(pingInteraction(), { timestamp: nowSeconds - 30 });

      // Assess
      expect(stale.status).toBe(401);
      expect(future.status).toBe(401);
      expect(slightlyOff.status).toBe(200);
    });

    it('refuses requests without the signature or timestamp header, or with a malformed signature', async () => {
      // Act
      const noSignature = await call(pingInteraction(), { omit: 'signature' });
      const noTimestamp = await call(pingInteraction(), { omit: 'timestamp' });
      const garbage = await handle({
        ...request(pingInteraction()),
        headers: {
          'x-signature-ed25519': 'not-hex',
          'x-signature-timestamp': String(Math.floor(Date.now() / 1000)),
        },
      });

      // Assess
      expect(noSignature.status).toBe(401);
      expect(noTimestamp.status).toBe(401);
      expect(garbage.statusCode).toBe(401);
    });

    it('reads the signature headers whatever their case', async () => {
      // Act
      const canonical = await call(pingInteraction(), {
        headerNames: { signature: 'X-Signature-Ed25519', timestamp: 'X-Signature-Timestamp' },
      });
      const upper = await call(pingInteraction(), {
        headerNames: { signature: 'X-SIGNATURE-ED25519', timestamp: 'X-SIGNATURE-TIMESTAMP' },
      });

      // Assess
      expect(canonical).toEqual({ status: 200, body: { type: 1 } });
      expect(upper).toEqual({ status: 200, body: { type: 1 } });
    });

    it('verifies a base64-encoded body over the bytes Discord sent', async () => {
      // Prepare: non-ASCII text shows that the decoded bytes, not the base64 text, are verified
      const interaction = slashCommand('ask', { prompt: 'Grüße, ça va? 👋' }, { userId: ALLOWED_USER });

      // Act
      const response = await call(interaction, { base64: true });

      // Assess
      expect(response).toEqual({ status: 200, body: { type: 5 } });
      expect((await published(interaction.token)).map((message) => message.text)).toEqual([
        'Grüße, ça va? 👋',
      ]);
    });

    it('refuses an oversized body with 413 and a signed body that is not an interaction with 400', async () => {
      // Act
      const huge = await call({ ...pingInteraction(), padding: 'x'.repeat(300 * 1024) });
      const notAnInteraction = await call({ hello: 'world' });

      // Assess
      expect(huge.status).toBe(413);
      expect(notAnInteraction.status).toBe(400);
    });

    it('answers 503 (and accepts nothing) when no public key is configured', async () => {
      // Prepare
      const unconfigured = createDiscordProducer({
        storage: aws.storage,
        publisher: { publish: async () => undefined },
        publicKey: async () => undefined,
        logger: new Logger({ logLevel: 'SILENT' }),
      });

      // Act
      const result = await unconfigured(request(pingInteraction()));

      // Assess
      expect(result.statusCode).toBe(503);
    });
  });

  describe('commands', () => {
    it('publishes /ask as MessageReceived and answers with a deferred response', async () => {
      // Prepare
      const interaction = slashCommand(
        'ask',
        { prompt: '  What is the weather?  ' },
        { userId: ALLOWED_USER },
      );
      const before = Date.now();

      // Act
      const response = await call(interaction);

      // Assess
      expect(response).toEqual({ status: 200, body: { type: 5 } });
      const [message, ...more] = await published(interaction.token);
      expect(more).toEqual([]);
      expect(message).toMatchObject({
        userId: `discord:${ALLOWED_USER}`,
        text: 'What is the weather?',
        sender: { channelUserId: ALLOWED_USER, displayName: 'Ada' },
        replyTo: {
          channel: 'discord',
          address: {
            applicationId: TEST_APPLICATION_ID,
            interactionToken: interaction.token,
            channelId: TEST_CHANNEL_ID,
          },
        },
      });
      expect(message!.replyTo.address.interactionAt).toBeGreaterThanOrEqual(before);
      const envelope = received.find((e) => (e.detail as MessageReceived).messageId === message!.messageId);
      expect(envelope?.source).toBe('openclaw.discord');
    });

    it('sends the text of the message the "Ask OpenClaw" command was used on', async () => {
      // Prepare
      const interaction = messageCommand('Ask OpenClaw', 'Summarise this, please', { userId: ALLOWED_USER });

      // Act
      const response = await call(interaction);

      // Assess
      expect(response.body).toEqual({ type: 5 });
      expect((await published(interaction.token)).map((message) => message.text)).toEqual([
        'Summarise this, please',
      ]);
    });

    it('tells a stranger privately how to link, and publishes nothing', async () => {
      // Prepare
      const interaction = slashCommand('ask', { prompt: 'hello?' }, { userId: STRANGER });

      // Act
      const response = await call(interaction);

      // Assess
      expect(response.body).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(response.body.data.content).toContain('/link code:');
      expect(await published(interaction.token)).toEqual([]);
    });

    it('links an account with a code from the web, after which its messages reach that user', async () => {
      // Prepare
      const webUser = 'web-user-7';
      const newcomer = '1200000000000000777';
      const { code } = await createIdentity({ storage: aws.storage }).createLinkCode(webUser);
      const wrong = await call(slashCommand('link', { code: '00000000' }, { userId: newcomer }));

      // Act
      const linked = await call(slashCommand('link', { code }, { userId: newcomer }));
      const ask = slashCommand('ask', { prompt: 'hi, it is me' }, { userId: newcomer, guildId: null });
      const asked = await call(ask);

      // Assess
      expect(wrong.body.data.content).toContain('not valid');
      expect(linked.body).toMatchObject({
        type: 4,
        data: { flags: 64, content: expect.stringContaining('Linked') },
      });
      expect(asked.body).toEqual({ type: 5 });
      const [message] = await published(ask.token);
      expect(message?.userId).toBe(webUser);
    });

    it('answers a second delivery of the same interaction privately instead of publishing it again', async () => {
      // Prepare
      const interaction = slashCommand('ask', { prompt: 'once only' }, { userId: ALLOWED_USER });
      const first = await call(interaction);

      // Act
      const again = await call(interaction);

      // Assess
      expect(first.body).toEqual({ type: 5 });
      expect(again.body).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(await published(interaction.token)).toHaveLength(1);
    });

    it('acknowledges a delivery whose twin gave the message back mid-publish, and publishes it itself', async () => {
      // Prepare: another delivery of this interaction holds the claim, then fails and releases it
      const interaction = slashCommand('ask', { prompt: 'hand-over' }, { userId: ALLOWED_USER });
      const dedupeKey = `discord#interaction:${interaction.id}`;
      await claimMessage(aws.storage, dedupeKey, 'earlier-delivery');
      setTimeout(() => void releaseClaim(aws.storage, dedupeKey), 50);
      const patient = producer(500);

      // Act
      const response = await patient(request(interaction));

      // Assess
      expect(JSON.parse(response.body!)).toEqual({ type: 5 });
      expect((await published(interaction.token)).map((message) => message.text)).toEqual(['hand-over']);
    });

    it('tells the user to ask again while another delivery of the interaction is still publishing', async () => {
      // Prepare
      const interaction = slashCommand('ask', { prompt: 'stuck' }, { userId: ALLOWED_USER });
      await claimMessage(aws.storage, `discord#interaction:${interaction.id}`, 'earlier-delivery');

      // Act
      const response = await call(interaction);

      // Assess
      expect(response.body).toMatchObject({
        type: 4,
        data: { flags: 64, content: expect.stringContaining('ask again') },
      });
      expect(await published(interaction.token)).toEqual([]);
    });

    it('tells the user when the bus refuses the message, and a retry of it is then published', async () => {
      // Prepare: EventBridge rejects every attempt of the first publish
      const interaction = slashCommand('ask', { prompt: 'try hard' }, { userId: ALLOWED_USER });
      bus.injectFailures(4);

      // Act
      const failed = await call(interaction);
      const retried = await call(interaction);

      // Assess
      expect(failed.body).toMatchObject({
        type: 4,
        data: { flags: 64, content: expect.stringContaining('could not') },
      });
      expect(retried.body).toEqual({ type: 5 });
      expect(await published(interaction.token)).toHaveLength(1);
    });

    it('refuses an empty or over-long prompt with a private explanation', async () => {
      // Act
      const empty = await call(slashCommand('ask', { prompt: '   ' }, { userId: ALLOWED_USER }));
      const long = await call(
        slashCommand('ask', { prompt: 'x'.repeat(MAX_MESSAGE_TEXT_CHARS + 1) }, { userId: ALLOWED_USER }),
      );

      // Assess
      expect(empty.body).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(long.body.data.content).toContain(String(MAX_MESSAGE_TEXT_CHARS));
    });

    it('starts a new conversation for this member only, and reports it in /status', async () => {
      // Prepare
      const other = '1200000000000000002';
      const firstAsk = slashCommand('ask', { prompt: 'before' }, { userId: ALLOWED_USER });
      await call(firstAsk);
      const [before] = await published(firstAsk.token);

      // Act
      const fresh = await call(slashCommand('new', {}, { userId: ALLOWED_USER }));
      const status = await call(slashCommand('status', {}, { userId: ALLOWED_USER }));
      const strangerNew = await call(slashCommand('new', {}, { userId: other }));
      const secondAsk = slashCommand('ask', { prompt: 'after' }, { userId: ALLOWED_USER });
      await call(secondAsk);
      const [after] = await published(secondAsk.token);

      // Assess
      expect(fresh.body.data.content).toContain('new conversation');
      expect(after!.conversationId).not.toBe(before!.conversationId);
      expect(status.body.data.content).toContain(after!.conversationId);
      expect(strangerNew.body.data.content).toContain('/link code:');
    });

    it('answers /help privately and an unknown command with a pointer to /help', async () => {
      // Act
      const help = await call(slashCommand('help', {}, { userId: STRANGER }));
      const unknown = await call(slashCommand('dance', {}, { userId: ALLOWED_USER }));

      // Assess
      expect(help.body).toMatchObject({
        type: 4,
        data: { flags: 64, content: expect.stringContaining('/ask') },
      });
      expect(unknown.body.data.content).toContain('/help');
    });
  });
});
