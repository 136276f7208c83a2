import { Logger } from '@aws-lambda-powertools/logger';
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { z } from 'zod';
import { type BusEnvelope, isDetailType, parseDetail, type ServerFrame } from '../../schemas/index.ts';
import { createStorage, type Storage } from '../../schemas/table.ts';

/** The web channel's reply address: which WebSocket connection asked. */
export const WebAddressSchema = z.object({ connectionId: z.string().min(1).max(128) });

export interface WebConsumerDeps {
  storage: Storage;
  /** Posts to API Gateway's `@connections` endpoint (the local gateway serves the same API). */
  connections: ApiGatewayManagementApiClient;
  logger: Logger;
}

/** Maps a reply event to the frame the web chat understands, or undefined for events it does not show. */
export function toServerFrame(envelope: BusEnvelope): ServerFrame | undefined {
  const detailType = envelope['detail-type'];
  if (!isDetailType(detailType)) return undefined;
  switch (detailType) {
    case 'ReplyDelta.v1': {
      const d = parseDetail(detailType, envelope.detail);
      return {
        type: 'delta',
        conversationId: d.conversationId,
        inReplyTo: d.inReplyTo,
        seq: d.seq,
        text: d.text,
      };
    }
    case 'ReplyCompleted.v1': {
      const d = parseDetail(detailType, envelope.detail);
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
    case 'AgentStatusChanged.v1': {
      const d = parseDetail(detailType, envelope.detail);
      return {
        type: 'status',
        conversationId: d.conversationId,
        status: d.status,
        message: d.message,
        ...(d.inReplyTo ? { inReplyTo: d.inReplyTo } : {}),
      };
    }
    default:
      return undefined;
  }
}

/**
 * Delivers replies and status to the web chat with PostToConnection. A connection that is gone (410)
 * is deleted and the event dropped: nobody is there to read it, and the reply stays in the session
 * history. Any other failure is thrown so the bus retries the delivery.
 */
export function createWebConsumer(deps: WebConsumerDeps) {
  const { storage, connections, logger } = deps;
  return async function deliverToWeb(envelope: BusEnvelope): Promise<void> {
    const frame = toServerFrame(envelope);
    const detail = envelope.detail as { replyTo?: { address?: unknown } };
    const address = WebAddressSchema.safeParse(detail.replyTo?.address);
    if (!frame || !address.success) {
      logger.warn('event not deliverable to web; dropped', {
        detailType: envelope['detail-type'],
        eventId: envelope.id,
      });
      return;
    }
    const { connectionId } = address.data;
    try {
      await connections.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
      );
    } catch (error) {
      if (
        error instanceof GoneException ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410
      ) {
        logger.info('connection gone; removing it', { connectionId });
        await storage.ConnectionEntity.build(DeleteItemCommand).key({ connectionId }).send();
        return;
      }
      throw error;
    }
  };
}

let defaultConsumer: ReturnType<typeof createWebConsumer> | undefined;

/** Lambda entry: TABLE_NAME and WEB_SOCKET_CALLBACK_URL (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
export async function handler(envelope: BusEnvelope): Promise<void> {
  defaultConsumer ??= createWebConsumer({
    storage: createStorage(),
    connections: new ApiGatewayManagementApiClient({ endpoint: process.env.WEB_SOCKET_CALLBACK_URL }),
    logger: new Logger({ serviceName: 'web-consumer' }),
  });
  await defaultConsumer(envelope);
}
