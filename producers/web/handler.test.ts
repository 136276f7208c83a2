import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStoredReply } from '../../agent/turn-records.ts';
import { createPublisher, LocalBus } from '../../bus/index.ts';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, MessageReceived } from '../../schemas/index.ts';
import { saveConnection } from '../../schemas/web-connections.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { waitFor } from '../../test/fixtures/wait-for.ts';
import { createWebProducer } from './handler.ts';

/** A sendMessage route event as API Gateway builds it; `authorizer` is what `$connect`'s authorizer returned. */
const sendMessage = (
  connectionId: string,
  clientMessageId: string,
  authorizer?: { userId: string },
  fields: Record<string, unknown> = {},
) =>
  ({
    requestContext: { routeKey: 'sendMessage', connectionId, ...(authorizer ? { authorizer } : {}) },
    body: JSON.stringify({
      action: 'sendMessage',
      conversationId: 'conv-1',
      clientMessageId,
      text: 'hi',
      ...fields,
    }),
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

  it('passes on the message a message comes after, refuses a malformed one, and stores a command’s answer', async () => {
    // Prepare
    const user = { userId: 'user-ordering' };
    const afterMessageId = '3f2b8c1e-8d1a-4a57-9c39-2f7f0a6d1b10';

    // Act
    const after = await handle(sendMessage('after=', 'client-msg-after', user, { afterMessageId }));
    const malformed = await handle(
      sendMessage('after=', 'client-msg-bad', user, { afterMessageId: 'not an id; drop table' }),
    );
    const command = await handle(sendMessage('after=', 'client-msg-cmd', user, { text: '/schedules' }));

    // Assess
    expect(after).toMatchObject({ statusCode: 200 });
    const message = await waitFor(
      () => received.find((m) => m.replyTo.address.connectionId === 'after='),
      5_000,
      'the published message',
    );
    expect(message.afterMessageId).toBe(afterMessageId);
    expect(malformed).toMatchObject({ statusCode: 400 });
    // A command is answered here, not by a turn; its stored reply lets a message sent after it go on at once.
    const ack = JSON.parse(String((command as { body: string }).body)) as { messageId: string };
    expect(await findStoredReply(aws.storage, ack.messageId)).toMatchObject({
      userId: 'user-ordering',
      inReplyTo: ack.messageId,
      status: 'ok',
    });
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
