import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { z } from 'zod';
import { observe } from '../../bus/observability.ts';
import { MAX_CONVERSATIONS_PAGE } from '../../schemas/api.ts';
import { ConversationIdSchema, IsoDateTimeSchema } from '../../schemas/common.ts';
import { createStorage } from '../../schemas/table.ts';
import { createHistoryStore, type HistoryStore } from '../history/store.ts';
import {
  type ApiEvent,
  type ApiLogger,
  ApiRequestError,
  type ApiResponse,
  handleApiRequest,
  idParam,
  json,
  noContent,
} from './http.ts';

/** The page size when the client names none. */
export const DEFAULT_CONVERSATIONS_PAGE = 20;

/** What a cursor holds: the last summary's sort position. Opaque to clients (base64url JSON). */
const CursorSchema = z.object({ u: IsoDateTimeSchema, c: ConversationIdSchema }).strict();

export function encodeCursor(next: { updatedAt: string; conversationId: string }): string {
  return Buffer.from(JSON.stringify({ u: next.updatedAt, c: next.conversationId })).toString('base64url');
}

function decodeCursor(cursor: string): { updatedAt: string; conversationId: string } {
  const refuse = () => new ApiRequestError(400, 'INVALID_CURSOR', 'The cursor is not one this API gave out.');
  if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  const result = CursorSchema.safeParse(parsed);
  if (!result.success) throw refuse();
  return { updatedAt: result.data.u, conversationId: result.data.c };
}

function limitOf(event: ApiEvent): number {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return DEFAULT_CONVERSATIONS_PAGE;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_CONVERSATIONS_PAGE)) {
    throw new ApiRequestError(
      400,
      'INVALID_LIMIT',
      `limit must be a whole number from 1 to ${MAX_CONVERSATIONS_PAGE}.`,
    );
  }
  return limit;
}

const NOT_FOUND = () => new ApiRequestError(404, 'NOT_FOUND', 'No conversation with this id.');

/**
 * The conversation history API (JWT-authorised), one handler routing on `routeKey`:
 *
 * | Route | Success |
 * | --- | --- |
 * | `GET /v1/conversations?limit=&cursor=` | 200 `ConversationList`, newest first |
 * | `GET /v1/conversations/{conversationId}` | 200 `Conversation` |
 * | `DELETE /v1/conversations/{conversationId}` | 204 |
 *
 * Every read is keyed by the JWT's user, so another user's conversation id answers 404 exactly like one
 * that never existed.
 */
export function createConversationsHandler(deps: { history: HistoryStore; logger: ApiLogger }) {
  const { history, logger } = deps;
  return function conversations(event: ApiEvent): Promise<ApiResponse> {
    return handleApiRequest(event, logger, async (userId) => {
      switch (event.routeKey) {
        case 'GET /v1/conversations': {
          const cursor = event.queryStringParameters?.cursor;
          const page = await history.list(userId, limitOf(event), cursor ? decodeCursor(cursor) : undefined);
          return json(200, {
            conversations: page.conversations,
            ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}),
          });
        }
        case 'GET /v1/conversations/{conversationId}': {
          const conversation = await history.get(userId, idParam(event, 'conversationId'));
          if (!conversation) throw NOT_FOUND();
          return json(200, conversation);
        }
        case 'DELETE /v1/conversations/{conversationId}': {
          const conversationId = idParam(event, 'conversationId');
          if (!(await history.delete(userId, conversationId))) throw NOT_FOUND();
          logger.info('conversation deleted', { userId, conversationId });
          return noContent();
        }
        default:
          throw new ApiRequestError(404, 'NO_SUCH_ROUTE', 'No such route.');
      }
    });
  };
}

let defaultHandler: ReturnType<typeof createConversationsHandler> | undefined;

/** Lambda entry (TABLE_NAME from the environment). */
const entry = middy<ApiEvent, ApiResponse>().handler((event) => {
  defaultHandler ??= createConversationsHandler({
    history: createHistoryStore(createStorage()),
    logger: new Logger({ serviceName: 'api-conversations' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
