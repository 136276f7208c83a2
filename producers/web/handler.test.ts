import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus } from '../../bus/index.ts';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, MessageReceived } from '../../schemas/index.ts';
import { saveConnection } from '../../schemas/web-connections.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { waitFor } from '../../test/fixtures/wait-for.ts';
import { createWebProducer } from './handler.ts';

/** A sendMessage route event as API Gateway builds it; `authorizer` is what `$connect`'s authorizer returned. */
const sendMessage = (connectionId: string, clientMessageId: string, authorizer?: { userId: string }) =>
  ({
    requestContext: { routeKey: 'sendMessage', connectionId, ...(authorizer ? { authorizer } : {}) },
    body: JSON.stringify({ action: 'sendMessage', conversationId: 'conv-1', clientMessageId, text: 'hi' }),
    isBase64Encoded: false,
  }) as unknown as Parameters<ReturnType<typeof createWebProducer>>[0];

describe('the web producer: who is asking', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let endpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let eventBridge: EventBridgeClient;
  let handle: ReturnType<typeof createWebProducer>;
  const received: MessageReceived[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    const bus = new LocalBus({
      targets: {
        'runtime-selector': async (envelope: BusEnvelope) => {
          received.push(envelope.detail as MessageReceived);
        },
      },
      logger: { warn: () => undefined, error: console.error },
    });
    endpoint = await startEventBridgeEndpoint(bus);
    eventBridge = new EventBridgeClient(localClientConfig(endpoint.endpoint));
    handle = createWebProducer({
      storage: aws.storage,
      publisher: createPublisher({ client: eventBridge, eventBusName: 'test' }),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
  });
  afterAll(async () => {
    eventBridge.destroy();
    await endpoint.close();
    await aws.close();
  });

  it("takes the user from the $connect authorizer's context, which API Gateway passes on every route", async () => {
    // Act: no connection record at all; the context alone says who this is
    const result = await handle(sendMessage('ctx=', 'client-msg-1', { userId: 'user-from-context' }));

    // Assess
    expect(result).toMatchObject({ statusCode: 200 });
    const message = await waitFor(
      () => received.find((m) => m.replyTo.address.connectionId === 'ctx='),
      5_000,
      'the published message',
    );
    expect(message.userId).toBe('user-from-context');
  });

  it("without that context, reads the connection's record, and refuses an unknown connection", async () => {
    // Prepare
    await saveConnection(aws.storage, 'record=', 'user-from-record');

    // Act
    const known = await handle(sendMessage('record=', 'client-msg-2'));
    const unknown = await handle(sendMessage('nobody=', 'client-msg-3'));

    // Assess
    expect(known).toMatchObject({ statusCode: 200 });
    const message = await waitFor(
      () => received.find((m) => m.replyTo.address.connectionId === 'record='),
      5_000,
      'the published message',
    );
    expect(message.userId).toBe('user-from-record');
    expect(unknown).toMatchObject({ statusCode: 401 });
    expect(JSON.parse((unknown as { body: string }).body)).toMatchObject({ code: 'NOT_CONNECTED' });
  });
});
