import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { type BusEnvelope, MAX_WEB_SOCKET_FRAME_BYTES, ServerFrameSchema } from '../../schemas/index.ts';
import { liveConnectionsOf, saveConnection } from '../../schemas/web-connections.ts';
import { tinyPng } from '../../test/fixtures/images.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { createWebConsumer } from './handler.ts';

const envelope = (detailType: string, detail: Record<string, unknown>): BusEnvelope =>
  ({
    version: '0',
    id: 'evt-1',
    'detail-type': detailType,
    source: 'openclaw.agent',
    account: '000000000000',
    time: '2026-11-24T10:00:00Z',
    region: 'local',
    resources: [],
    detail,
  }) as unknown as BusEnvelope;

const base = (connectionId: string) => ({
  userId: 'user-1',
  conversationId: 'conv-1',
  replyTo: { channel: 'web', address: { connectionId } },
  inReplyTo: 'msg-1',
});

describe('the web consumer against an @connections endpoint', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  const posted: { connectionId: string; body: unknown }[] = [];
  let statusFor: (connectionId: string) => number;
  let server: ReturnType<typeof createServer>;
  let deliver: ReturnType<typeof createWebConsumer>;
  let endpoint: string;

  beforeAll(async () => {
    aws = await startLocalAws();
    // A loopback @connections API: 410 GoneException for closed sockets, as API Gateway answers.
    server = createServer(async (req, res) => {
      const connectionId = decodeURIComponent(req.url!.split('/@connections/')[1]!);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const status = statusFor(connectionId);
      if (status === 200) posted.push({ connectionId, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(status, status === 410 ? { 'x-amzn-errortype': 'GoneException' } : {});
      res.end(status === 200 ? '' : '{"message":"nope"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
    deliver = createWebConsumer({
      storage: aws.storage,
      connections: new ApiGatewayManagementApiClient({ ...localClientConfig(endpoint), maxAttempts: 1 }),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
  });
  afterAll(async () => {
    server.close();
    await aws.close();
  });

  it('sends an image frame after the completed frame: a presigned URL that serves the bytes, under 128 KB', async () => {
    // Prepare
    statusFor = () => 200;
    posted.length = 0;
    const png = tinyPng(8, 8);
    const key = 'media/user-1/msg-1/0.png';
    await aws.s3Client.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: png }));
    const withImages = createWebConsumer({
      storage: aws.storage,
      connections: new ApiGatewayManagementApiClient({ ...localClientConfig(endpoint), maxAttempts: 1 }),
      logger: new Logger({ logLevel: 'SILENT' }),
      images: createReplyImageStore({ client: aws.s3Client, bucket: aws.bucket }),
    });
    const attachments = [
      { kind: 'image', key, contentType: 'image/png', bytes: png.length, width: 8, height: 8 },
      // Another user's key: never presigned, whatever the event says.
      { kind: 'image', key: 'media/user-2/msg-9/0.png', contentType: 'image/png', bytes: 10 },
    ];

    // Act
    await withImages(
      envelope('ReplyCompleted.v1', {
        ...base('conn-img='),
        seq: 2,
        status: 'ok',
        text: 'Look',
        attachments,
      }),
    );

    // Assess
    const frames = posted.map((p) => p.body as Record<string, unknown>);
    expect(frames.map((f) => f.type)).toEqual(['completed', 'image']);
    expect(frames[1]).toMatchObject({
      conversationId: 'conv-1',
      inReplyTo: 'msg-1',
      contentType: 'image/png',
      alt: 'Image 1 of the reply',
      width: 8,
      height: 8,
    });
    expect(ServerFrameSchema.safeParse(frames[1]).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(frames[1]))).toBeLessThan(MAX_WEB_SOCKET_FRAME_BYTES);
    const image = await fetch(String(frames[1]!.url));
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer()).equals(png)).toBe(true);
    posted.length = 0;
  });

  it('posts delta, completed and status frames to the connection', async () => {
    statusFor = () => 200;
    await deliver(envelope('ReplyDelta.v1', { ...base('conn-a='), seq: 1, text: 'Hel' }));
    await deliver(envelope('ReplyCompleted.v1', { ...base('conn-a='), seq: 2, status: 'ok', text: 'Hello' }));
    await deliver(
      envelope('AgentStatusChanged.v1', { ...base('conn-a='), status: 'thinking', message: 'Thinking…' }),
    );
    expect(posted.map((p) => p.body)).toEqual([
      { type: 'delta', conversationId: 'conv-1', inReplyTo: 'msg-1', seq: 1, text: 'Hel' },
      {
        type: 'completed',
        conversationId: 'conv-1',
        inReplyTo: 'msg-1',
        seq: 2,
        status: 'ok',
        text: 'Hello',
      },
      {
        type: 'status',
        conversationId: 'conv-1',
        inReplyTo: 'msg-1',
        status: 'thinking',
        message: 'Thinking…',
      },
    ]);
    expect(posted.every((p) => p.connectionId === 'conn-a=')).toBe(true);
  });

  it('deletes the connection record on 410 Gone and does not ask for a retry', async () => {
    statusFor = () => 410;
    await saveConnection(aws.storage, 'gone=', 'user-gone', Date.now() - 60_000);
    await expect(
      deliver(
        envelope('ReplyCompleted.v1', {
          ...base('gone='),
          userId: 'user-gone',
          seq: 1,
          status: 'ok',
          text: 'late',
        }),
      ),
    ).resolves.toBeUndefined();
    const { Item } = await aws.storage.ConnectionEntity.build(GetItemCommand)
      .key({ connectionId: 'gone=' })
      .send();
    expect(Item).toBeUndefined();
    expect(await liveConnectionsOf(aws.storage, 'user-gone')).toEqual([]);
  });

  it('keeps a connection that answers 410 while its handshake finishes, and delivers once it is open', async () => {
    // Prepare: a connection recorded this instant, which API Gateway does not accept posts to yet
    let refusals = 2;
    statusFor = (connectionId) => (connectionId === 'opening=' && refusals-- > 0 ? 410 : 200);
    await saveConnection(aws.storage, 'opening=', 'user-opening');

    // Act
    await deliver(
      envelope('AgentStatusChanged.v1', {
        ...base('opening='),
        userId: 'user-opening',
        status: 'thinking',
        message: 'Thinking…',
      }),
    );

    // Assess
    expect(posted.some((p) => p.connectionId === 'opening=')).toBe(true);
    expect(await liveConnectionsOf(aws.storage, 'user-opening')).toEqual(['opening=']);
  });

  it("reaches the user's new connection when the one that asked has gone (a reconnect mid-turn)", async () => {
    // Prepare: the message came on 'old=', which is gone; the user reconnected as 'new='
    statusFor = (connectionId) => (connectionId === 'old=' ? 410 : 200);
    await saveConnection(aws.storage, 'old=', 'user-moved');
    await saveConnection(aws.storage, 'new=', 'user-moved');
    const before = posted.length;

    // Act
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('old='),
        userId: 'user-moved',
        seq: 1,
        status: 'ok',
        text: 'hi',
      }),
    );

    // Assess
    expect(posted.slice(before).map((p) => p.connectionId)).toEqual(['new=']);
    expect(await liveConnectionsOf(aws.storage, 'user-moved')).toEqual(['new=']);
  });

  it("streams deltas to the user's remembered connections, and reads them afresh for the completed frame", async () => {
    // Prepare: one tab open; a delta reads and remembers the user's connections
    statusFor = () => 200;
    const delta = (seq: number) =>
      envelope('ReplyDelta.v1', { ...base('tab-1='), userId: 'user-tabs', seq, text: `d${seq}` });
    await saveConnection(aws.storage, 'tab-1=', 'user-tabs');
    await deliver(delta(1));

    // Act: a second tab opens mid-reply; another delta, then the completed reply
    await saveConnection(aws.storage, 'tab-2=', 'user-tabs');
    const before = posted.length;
    await deliver(delta(2));
    const afterDelta = posted.length;
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('tab-1='),
        userId: 'user-tabs',
        seq: 3,
        status: 'ok',
        text: 'done',
      }),
    );

    // Assess: the delta went by the remembered list (within its 2 s); the reply reached both tabs
    expect(posted.slice(before, afterDelta).map((p) => p.connectionId)).toEqual(['tab-1=']);
    expect(
      posted
        .slice(afterDelta)
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['tab-1=', 'tab-2=']);
  });

  it('finds the new connection of a user who reconnected while deltas used a remembered list', async () => {
    // Prepare: deltas went to 'before=' and remembered it; then it closed and 'after=' opened
    let open = 'before=';
    statusFor = (connectionId) => (connectionId === open ? 200 : 410);
    const delta = (connectionId: string, seq: number) =>
      envelope('ReplyDelta.v1', { ...base(connectionId), userId: 'user-reconnect', seq, text: `d${seq}` });
    await saveConnection(aws.storage, 'before=', 'user-reconnect', Date.now() - 60_000);
    await deliver(delta('before=', 1));
    await saveConnection(aws.storage, 'after=', 'user-reconnect');
    open = 'after=';
    const before = posted.length;

    // Act
    await deliver(delta('before=', 2));

    // Assess
    expect(posted.slice(before).map((p) => p.connectionId)).toEqual(['after=']);
    expect(await liveConnectionsOf(aws.storage, 'user-reconnect')).toEqual(['after=']);
  });

  it('skips a frame API Gateway refuses as too large instead of retrying it forever', async () => {
    statusFor = () => 413;
    await expect(
      deliver(envelope('ReplyCompleted.v1', { ...base('big='), seq: 1, status: 'ok', text: 'x' })),
    ).resolves.toBeUndefined();
  });

  it('throws on other failures so the bus retries the delivery', async () => {
    statusFor = () => 500;
    await expect(
      deliver(envelope('ReplyCompleted.v1', { ...base('flaky='), seq: 1, status: 'ok', text: 'x' })),
    ).rejects.toThrow();
  });

  it('drops (with a log line) an event whose address is not a web address', async () => {
    statusFor = () => 200;
    const before = posted.length;
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('x'),
        replyTo: { channel: 'web', address: { chatId: 1 } },
        seq: 1,
        status: 'ok',
        text: 'x',
      }),
    );
    expect(posted.length).toBe(before);
  });
});
