import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { observe } from '../../bus/observability.ts';
import { LinkedChannelSchema } from '../../schemas/api.ts';
import { ChannelSchema } from '../../schemas/index.ts';
import { createStorage, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';
import {
  type ApiEvent,
  type ApiLogger,
  ApiRequestError,
  type ApiResponse,
  handleApiRequest,
  json,
  noContent,
} from './http.ts';

const NOT_FOUND = () => new ApiRequestError(404, 'NOT_FOUND', 'No linked account with this id.');

/**
 * Linked chat accounts (JWT-authorised): `GET /v1/channels` lists the Telegram, Discord and Slack accounts
 * linked to the signed-in user; `DELETE /v1/channels/{channel}/{channelUserId}` unlinks one (204), after
 * which that account is a stranger to the bot again. Only the caller's own links are listed or removed:
 * the identity item is deleted on condition that it still names this user.
 */
export function createChannelsHandler(deps: { storage: Storage; logger: ApiLogger }) {
  const { storage, logger } = deps;

  async function list(userId: string) {
    const { Items = [] } = await storage.table
      .build(QueryCommand)
      .entities(storage.UserChannelLinkEntity)
      .query({ partition: `USER#${userId}`, range: { beginsWith: 'LINK#' } })
      .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY })
      .send();
    return Items.map(({ channel, channelUserId, linkedAt }) => ({ channel, channelUserId, linkedAt }))
      .filter((link) => LinkedChannelSchema.safeParse(link).success)
      .sort((a, b) => b.linkedAt.localeCompare(a.linkedAt));
  }

  async function unlink(userId: string, event: ApiEvent): Promise<ApiResponse> {
    const channel = event.pathParameters?.channel;
    const channelUserId = event.pathParameters?.channelUserId;
    if (
      !ChannelSchema.safeParse(channel).success ||
      !LinkedChannelSchema.shape.channelUserId.safeParse(channelUserId).success
    ) {
      throw new ApiRequestError(400, 'INVALID_PATH', 'The channel or account id in the path is not valid.');
    }
    const key = { channel: channel as string, channelUserId: channelUserId as string };
    const { Attributes } = await storage.UserChannelLinkEntity.build(DeleteItemCommand)
      .key({ userId, ...key })
      .options({ returnValues: 'ALL_OLD' })
      .send();
    let unlinked = Attributes !== undefined;
    try {
      await storage.ChannelIdentityEntity.build(DeleteItemCommand)
        .key(key)
        .options({ condition: { attr: 'userId', eq: userId } })
        .send();
      unlinked = true;
    } catch (error) {
      // Linked to someone else (or not at all): theirs stays untouched.
      if (!isConditionalCheckFailure(error)) throw error;
    }
    if (!unlinked) throw NOT_FOUND();
    logger.info('chat account unlinked', { userId, channel: key.channel });
    return noContent();
  }

  return function channels(event: ApiEvent): Promise<ApiResponse> {
    return handleApiRequest(event, logger, async (userId) => {
      if (event.routeKey === 'GET /v1/channels') return json(200, { links: await list(userId) });
      if (event.routeKey === 'DELETE /v1/channels/{channel}/{channelUserId}') return unlink(userId, event);
      throw new ApiRequestError(404, 'NO_SUCH_ROUTE', 'No such route.');
    });
  };
}

let defaultHandler: ReturnType<typeof createChannelsHandler> | undefined;

/** Lambda entry (TABLE_NAME from the environment). */
const entry = middy<ApiEvent, ApiResponse>().handler((event) => {
  defaultHandler ??= createChannelsHandler({
    storage: createStorage(),
    logger: new Logger({ serviceName: 'api-channels' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
