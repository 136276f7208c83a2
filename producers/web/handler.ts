import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { storeReply } from '../../agent/turn-records.ts';
import { createPublisher, type Publisher } from '../../bus/index.ts';
import { observe } from '../../bus/observability.ts';
import {
  EventSources,
  IdSchema,
  type MessageReceived,
  type ReplyCompleted,
  type SendMessageFrame,
  type ServerFrame,
  type StopFrame,
} from '../../schemas/index.ts';
import { createStopRequests } from '../../schemas/stop-requests.ts';
import { createStorage, epochSeconds, type Storage } from '../../schemas/table.ts';
import { removeConnection, saveConnection } from '../../schemas/web-connections.ts';
import type { JobStore } from '../schedule/index.ts';
import { jobStoreFromEnv } from '../schedule/job-store-from-env.ts';
import { claimMessage, markPublished, releaseClaim } from '../shared/dedupe.ts';
import { createScheduleCommands, type ScheduleCommandName } from '../shared/schedule-commands.ts';
import { WebRequestError } from './errors.ts';
import { parseClientFrame } from './parse-frame.ts';

/** The `$connect` authorizer's output; the user id is ours, already verified. */
type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    authorizer?: { userId?: string; principalId?: string };
  };
};

export interface WebProducerDeps {
  storage: Storage;
  publisher: Publisher;
  logger: Logger;
  now?: () => number;
  /** The scheduled-jobs store behind `/schedule`, `/schedules`, `/unschedule` (the one `/v1/schedules` uses). */
  jobs?: JobStore;
}

/** `/schedule …`, `/schedules`, `/unschedule …` typed into the chat: the command and the rest of the text. */
function scheduleCommandOf(text: string): { name: ScheduleCommandName; argument: string } | undefined {
  const match = /^\/(schedules?|unschedule)(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase() as ScheduleCommandName, argument: (match[2] ?? '').trim() };
}

const reply = (statusCode: number, frame?: ServerFrame): APIGatewayProxyResultV2 => ({
  statusCode,
  ...(frame ? { body: JSON.stringify(frame) } : {}),
});

/**
 * The web channel's ingress for API Gateway WebSocket: `$connect` stores the connection and its user,
 * `$disconnect` removes it, and every other route parses the frame, dedupes by the client's message id,
 * and publishes `MessageReceived`. It answers with a route response frame (`ack` or `error`) and never
 * calls the agent or sends replies itself. A message that is a schedule command (`/schedule …`,
 * `/schedules`, `/unschedule <id>`) is not for the agent: its answer is published as a `ReplyCompleted`
 * (source openclaw.web) that the web consumer delivers like a reply.
 */
export function createWebProducer(deps: WebProducerDeps) {
  const { storage, publisher, logger } = deps;
  const now = deps.now ?? Date.now;
  const scheduleCommands = deps.jobs ? createScheduleCommands({ jobs: deps.jobs }) : undefined;

  /**
   * Answers a schedule command as a ReplyCompleted to the message, which the web consumer shows like an
   * agent's reply (the ack goes back first or after it; the chat places it under the message either way).
   */
  async function answerCommand(
    command: { name: ScheduleCommandName; argument: string },
    context: { userId: string; connectionId: string; conversationId: string; messageId: string },
  ): Promise<void> {
    const replyTo = { channel: 'web', address: { connectionId: context.connectionId } };
    const text = scheduleCommands
      ? await scheduleCommands.run(command.name, command.argument, {
          userId: context.userId,
          conversationId: context.conversationId,
          replyTo,
        })
      : 'Scheduled jobs are not set up on this deployment.';
    const reply: ReplyCompleted = {
      userId: context.userId,
      conversationId: context.conversationId,
      replyTo,
      inReplyTo: context.messageId,
      seq: 0,
      status: 'ok',
      text,
    };
    // Stored like a turn's reply, so a later message naming this one as its predecessor finds it answered.
    // Best effort: the command has run, and without the record that message only waits out the gate.
    await storeReply(storage, reply).catch((error) =>
      logger.warn('command reply not stored', { messageId: context.messageId, error: error as Error }),
    );
    await publisher.publish({ source: EventSources.web, detailType: 'ReplyCompleted.v1', detail: reply });
  }

  const stopRequests = createStopRequests(storage, now);

  async function connect(event: WebSocketEvent): Promise<APIGatewayProxyResultV2> {
    const { connectionId } = event.requestContext;
    const userId = event.requestContext.authorizer?.userId ?? event.requestContext.authorizer?.principalId;
    if (!userId || !IdSchema.safeParse(userId).success) {
      logger.warn('connect rejected: no verified user', { connectionId });
      return { statusCode: 401, body: 'Unauthorized' };
    }
    await saveConnection(storage, connectionId, userId, now());
    logger.info('connected', { connectionId, userId });
    return { statusCode: 200 };
  }

  async function disconnect(event: WebSocketEvent): Promise<APIGatewayProxyResultV2> {
    const { connectionId } = event.requestContext;
    const { Item } = await storage.ConnectionEntity.build(GetItemCommand).key({ connectionId }).send();
    if (Item) await removeConnection(storage, connectionId, Item.userId);
    return { statusCode: 200 };
  }

  /**
   * The connection's verified user, or a 401 frame. API Gateway passes the `$connect` authorizer's context
   * on every later route of the connection, so no read is needed then; without it (an event from elsewhere)
   * the connection's record answers.
   */
  async function connectedUser(event: WebSocketEvent, clientMessageId?: string): Promise<string> {
    const fromAuthorizer = event.requestContext.authorizer?.userId;
    if (fromAuthorizer && IdSchema.safeParse(fromAuthorizer).success) return fromAuthorizer;
    const { Item: connection } = await storage.ConnectionEntity.build(GetItemCommand)
      .key({ connectionId: event.requestContext.connectionId })
      .send();
    if (!connection || connection.expiresAt < epochSeconds(now())) {
      throw new WebRequestError(
        401,
        'NOT_CONNECTED',
        'This connection is not signed in; reconnect.',
        clientMessageId,
      );
    }
    return connection.userId;
  }

  /**
   * The stop button: records a stop request under the connection's own user, which the turn answering
   * that user's message polls. A message id of someone else's is recorded in the asker's partition, where
   * no turn looks, so it stops nothing (and the answer does not reveal whether the id exists).
   */
  async function stop(event: WebSocketEvent, frame: StopFrame): Promise<APIGatewayProxyResultV2> {
    const { connectionId } = event.requestContext;
    const userId = await connectedUser(event);
    await stopRequests.request(userId, frame.messageId);
    logger.info('stop requested', { connectionId, userId, messageId: frame.messageId });
    return reply(200, { type: 'stopping', conversationId: frame.conversationId, messageId: frame.messageId });
  }

  async function sendMessage(
    event: WebSocketEvent,
    frame: SendMessageFrame,
  ): Promise<APIGatewayProxyResultV2> {
    const { connectionId } = event.requestContext;
    const userId = await connectedUser(event, frame.clientMessageId);
    const messageId = randomUUID();
    const dedupeKey = `web#${userId}#${frame.clientMessageId}`;
    const claim = await claimMessage(storage, dedupeKey, messageId, now());
    if (!claim.claimed && claim.state === 'pending') {
      // The first copy is still being published (or just failed to be): only a later retry can know.
      throw new WebRequestError(
        409,
        'RETRY_LATER',
        'This message is still being sent; retry in a moment.',
        frame.clientMessageId,
      );
    }
    if (!claim.claimed) {
      logger.info('duplicate message ignored', { connectionId, messageId: claim.existingMessageId });
      return reply(200, {
        type: 'ack',
        clientMessageId: frame.clientMessageId,
        messageId: claim.existingMessageId,
        conversationId: frame.conversationId,
        duplicate: true,
      });
    }
    const command = scheduleCommandOf(frame.text);
    const detail: MessageReceived = {
      userId,
      conversationId: frame.conversationId,
      messageId,
      text: frame.text,
      receivedAt: new Date(now()).toISOString(),
      replyTo: { channel: 'web', address: { connectionId } },
      sender: { channelUserId: userId },
      ...(frame.afterMessageId ? { afterMessageId: frame.afterMessageId } : {}),
    };
    try {
      if (command) {
        await answerCommand(command, {
          userId,
          connectionId,
          conversationId: frame.conversationId,
          messageId,
        });
      } else {
        await publisher.publish({ source: EventSources.web, detailType: 'MessageReceived.v1', detail });
      }
    } catch (error) {
      // Give the claim back so the client's retry of the same message is not taken for a duplicate.
      await releaseClaim(storage, dedupeKey).catch(() => undefined);
      logger.error('publish failed', { connectionId, messageId, error: error as Error });
      throw new WebRequestError(
        503,
        'TEMPORARILY_UNAVAILABLE',
        'The message could not be queued; please retry.',
        frame.clientMessageId,
      );
    }
    await markPublished(storage, dedupeKey).catch((error) =>
      // The message is on the bus; a duplicate will be asked to retry until the claim expires. Harmless.
      logger.warn('dedupe claim not marked published', { connectionId, messageId, error: error as Error }),
    );
    logger.info('message published', {
      connectionId,
      userId,
      messageId,
      conversationId: frame.conversationId,
    });
    return reply(200, {
      type: 'ack',
      clientMessageId: frame.clientMessageId,
      messageId,
      conversationId: frame.conversationId,
      duplicate: false,
    });
  }

  return async function handleWebSocketEvent(event: WebSocketEvent): Promise<APIGatewayProxyResultV2> {
    const { routeKey, connectionId } = event.requestContext;
    if (routeKey === '$connect') return connect(event);
    if (routeKey === '$disconnect') return disconnect(event);
    let clientMessageId: string | undefined;
    try {
      const frame = parseClientFrame(event.body, event.isBase64Encoded);
      if (frame.action === 'ping') return reply(200, { type: 'pong' });
      if (frame.action === 'stop') return await stop(event, frame);
      clientMessageId = frame.clientMessageId;
      return await sendMessage(event, frame);
    } catch (error) {
      if (error instanceof WebRequestError) {
        logger.warn('bad web socket message', {
          connectionId,
          code: error.code,
          statusCode: error.statusCode,
        });
        return reply(error.statusCode, error.toFrame());
      }
      logger.error('web socket message failed', { connectionId, error: error as Error });
      // Storage or bus trouble: temporary, and the client can match the error to its message and retry.
      return reply(503, {
        type: 'error',
        code: 'TEMPORARILY_UNAVAILABLE',
        message: 'Something went wrong on our side; please retry.',
        ...(clientMessageId ? { clientMessageId } : {}),
      });
    }
  };
}

let defaultHandler: ReturnType<typeof createWebProducer> | undefined;

/** Lambda entry: dependencies come from the environment (TABLE_NAME, EVENT_BUS_NAME, the SCHEDULE_* of `jobStoreFromEnv`). */
const entry = middy<WebSocketEvent, APIGatewayProxyResultV2>().handler((event) => {
  defaultHandler ??= (() => {
    const storage = createStorage();
    return createWebProducer({
      storage,
      publisher: createPublisher(),
      logger: new Logger({ serviceName: 'web-producer' }),
      jobs: jobStoreFromEnv(storage),
    });
  })();
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
