import { Logger } from '@aws-lambda-powertools/logger';
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import middy from '@middy/core';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { z } from 'zod';
import { observe, traced } from '../../bus/observability.ts';
import {
  AgentStatusChangedSchema,
  type BusEnvelope,
  ReplyCompletedSchema,
  ReplyDeltaSchema,
  type ServerFrame,
} from '../../schemas/index.ts';
import { createStorage, type Storage } from '../../schemas/table.ts';
import { removeConnection } from '../../schemas/web-connections.ts';
import { createReplyImageStore, type ReplyImageStore } from '../shared/reply-images.ts';
import { createLiveConnections } from './live-connections.ts';

/** The web channel's reply address: which WebSocket connection asked. */
export const WebAddressSchema = z.object({ connectionId: z.string().min(1).max(128) });

export interface WebConsumerDeps {
  storage: Storage;
  /** Posts to API Gateway's `@connections` endpoint (the local gateway serves the same API). */
  connections: ApiGatewayManagementApiClient;
  logger: Logger;
  /**
   * A connection this young that answers 410 is taken to be still finishing its handshake (its record is
   * written during `$connect`, before API Gateway accepts posts to it), and is tried again. @default 5000
   */
  handshakeGraceMs?: number;
  /** @default Date.now */
  now?: () => number;
  /**
   * Where reply images are read from, to send the chat a presigned URL per image.
   * @default none: a reply's images are not shown (logged)
   */
  images?: ReplyImageStore;
  /** How long an image URL works. @default 900 (15 minutes) */
  imageUrlSeconds?: number;
  /**
   * How long deltas and status frames reuse a user's connection list; a completed frame always reads it
   * afresh, so a tab opened mid-reply may miss deltas for this long but never the reply. @default 2000
   */
  connectionCacheMs?: number;
}

/**
 * The image frames of a completed reply, one per attachment, each with a presigned URL the server made. An
 * image that cannot be presigned is logged and left out; the text has already been shown.
 */
async function imageFrames(
  envelope: BusEnvelope,
  images: ReplyImageStore | undefined,
  expiresInSeconds: number,
  logger: Logger,
): Promise<ServerFrame[]> {
  if (envelope['detail-type'] !== 'ReplyCompleted.v1') return [];
  const parsed = ReplyCompletedSchema.safeParse(envelope.detail);
  const attachments = parsed.success ? (parsed.data.attachments ?? []) : [];
  if (!parsed.success || attachments.length === 0) return [];
  if (!images) {
    logger.warn('reply images not shown: no image store configured', { images: attachments.length });
    return [];
  }
  const d = parsed.data;
  const frames: ServerFrame[] = [];
  for (const [index, attachment] of attachments.entries()) {
    try {
      const url = await images.presignedUrl(d.userId, attachment, expiresInSeconds);
      frames.push({
        type: 'image',
        conversationId: d.conversationId,
        inReplyTo: d.inReplyTo,
        url,
        contentType: attachment.contentType,
        alt: `Image ${index + 1} of the reply`,
        ...(attachment.width ? { width: attachment.width } : {}),
        ...(attachment.height ? { height: attachment.height } : {}),
      });
    } catch (error) {
      logger.warn('reply image not shown', { index, error: (error as Error).message });
    }
  }
  return frames;
}

/** Maps a reply event to the frame the web chat understands; undefined for events it does not show. */
export function toServerFrame(envelope: BusEnvelope): ServerFrame | undefined {
  const detailType = envelope['detail-type'];
  if (detailType === 'ReplyDelta.v1') {
    const parsed = ReplyDeltaSchema.safeParse(envelope.detail);
    if (!parsed.success) return undefined;
    const d = parsed.data;
    return {
      type: 'delta',
      conversationId: d.conversationId,
      inReplyTo: d.inReplyTo,
      seq: d.seq,
      text: d.text,
    };
  }
  if (detailType === 'ReplyCompleted.v1') {
    const parsed = ReplyCompletedSchema.safeParse(envelope.detail);
    if (!parsed.success) return undefined;
    const d = parsed.data;
    return {
      type: 'completed',
      conversationId: d.conversationId,
      inReplyTo: d.inReplyTo,
      seq: d.seq,
      status: d.status,
      text: d.text,
      ...(d.error ? { error: d.error } : {}),
    };
  }
  if (detailType === 'AgentStatusChanged.v1') {
    const parsed = AgentStatusChangedSchema.safeParse(envelope.detail);
    if (!parsed.success) return undefined;
    const d = parsed.data;
    return {
      type: 'status',
      conversationId: d.conversationId,
      status: d.status,
      message: d.message,
      ...(d.inReplyTo ? { inReplyTo: d.inReplyTo } : {}),
      ...(d.runtime ? { runtime: d.runtime } : {}),
    };
  }
  return undefined;
}

const httpStatusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * Delivers replies and status to the web chat with PostToConnection, on every open connection of the
 * user: the one that asked may have been replaced by a reconnect (mobile networks, the 2-hour limit), and
 * the chat ignores frames of conversations it is not showing. Deltas and status reuse the user's connection
 * list for `connectionCacheMs`; the completed frame reads it afresh. A connection that is gone (410) is removed;
 * a frame API Gateway refuses outright (400/403/413) is logged and skipped, since retrying cannot help.
 * Any other failure is thrown so the bus retries the delivery.
 */
export function createWebConsumer(deps: WebConsumerDeps) {
  const { storage, connections, logger } = deps;
  const handshakeGraceMs = deps.handshakeGraceMs ?? 5_000;
  const imageUrlSeconds = deps.imageUrlSeconds ?? 900;
  const now = deps.now ?? Date.now;
  const liveConnections = createLiveConnections(storage, { ttlMs: deps.connectionCacheMs ?? 2_000, now });

  /** Whether the connection's record was written so recently that a 410 may mean "not open yet". */
  async function stillConnecting(connectionId: string): Promise<boolean> {
    const { Item } = await storage.ConnectionEntity.build(GetItemCommand).key({ connectionId }).send();
    return Item !== undefined && now() - Date.parse(Item.connectedAt) < handshakeGraceMs;
  }

  /** Posts one frame; resolves to 'gone' when the connection no longer exists (and was removed). */
  async function post(connectionId: string, userId: string, data: Buffer): Promise<'sent' | 'gone'> {
    try {
      await connections.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'sent';
    } catch (error) {
      const status = httpStatusOf(error);
      if (error instanceof GoneException || status === 410) {
        // A reply that races a brand-new connection's handshake must not delete that connection.
        if (await stillConnecting(connectionId)) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          return post(connectionId, userId, data);
        }
        logger.info('connection gone; removing it', { connectionId });
        liveConnections.forget(userId, connectionId);
        await removeConnection(storage, connectionId, userId);
        return 'gone';
      }
      if (status === 400 || status === 403 || status === 413) {
        logger.error('frame refused by API Gateway; skipped', { connectionId, status, bytes: data.length });
        return 'sent';
      }
      throw error;
    }
  }

  /** Posts the frames in order to every target; true when one of the targets was gone. */
  async function postAll(targets: Set<string>, userId: string, frames: Buffer[]): Promise<boolean> {
    let gone = false;
    for (const data of frames) {
      const results = await Promise.allSettled([...targets].map((id) => post(id, userId, data)));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      gone ||= results.some((result) => result.status === 'fulfilled' && result.value === 'gone');
    }
    return gone;
  }

  return async function deliverToWeb(envelope: BusEnvelope): Promise<void> {
    const frame = toServerFrame(envelope);
    const detail = envelope.detail as { userId?: unknown; replyTo?: { address?: unknown } };
    const address = WebAddressSchema.safeParse(detail.replyTo?.address);
    if (!frame || !address.success || typeof detail.userId !== 'string') {
      // Malformed events cannot become deliverable by retrying: log (without content) and drop.
      logger.warn('event not deliverable to web; dropped', {
        detailType: envelope['detail-type'],
        eventId: envelope.id,
      });
      return;
    }
    const userId = detail.userId;
    // The completed frame first, then its images: the chat shows them under the reply's text.
    const frames = [frame, ...(await imageFrames(envelope, deps.images, imageUrlSeconds, logger))].map(
      (next) => Buffer.from(JSON.stringify(next)),
    );
    const live = await liveConnections.of(userId, envelope['detail-type'] === 'ReplyCompleted.v1');
    const targets = new Set([address.data.connectionId, ...live.connectionIds]);
    const gone = await postAll(targets, userId, frames);
    if (gone && live.cached) {
      // A connection went away (a reconnect?) while we used a remembered list: look for its successor.
      const { connectionIds } = await liveConnections.of(userId, true);
      await postAll(new Set(connectionIds.filter((id) => !targets.has(id))), userId, frames);
    }
  };
}

let defaultConsumer: ReturnType<typeof createWebConsumer> | undefined;

/**
 * Lambda entry: TABLE_NAME and WEB_SOCKET_CALLBACK_URL (https://{api}.execute-api.{region}.amazonaws.com/{stage});
 * STATE_BUCKET for reply images (without it, images are not shown).
 */
async function entry(envelope: BusEnvelope): Promise<void> {
  defaultConsumer ??= createWebConsumer({
    storage: createStorage(),
    connections: traced(
      new ApiGatewayManagementApiClient({
        endpoint: process.env.WEB_SOCKET_CALLBACK_URL,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
      }),
    ),
    logger: new Logger({ serviceName: 'web-consumer' }),
    ...(process.env.STATE_BUCKET ? { images: createReplyImageStore() } : {}),
  });
  await defaultConsumer(envelope);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
