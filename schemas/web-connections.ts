import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { epochSeconds, type Storage } from './table.ts';

/** API Gateway closes a WebSocket after 2 hours; the connection records live as long. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

/**
 * The registry of open web connections: one item by connection id (who is this socket?) and one
 * under the user (where are this user's sockets?). Written on `$connect`, removed on `$disconnect` or
 * when API Gateway answers 410 Gone.
 */
export async function saveConnection(
  storage: Storage,
  connectionId: string,
  userId: string,
  now = Date.now(),
) {
  const expiresAt = epochSeconds(now) + CONNECTION_TTL_SECONDS;
  // The user's list first: a socket that can be found by id is then always findable by user too.
  await storage.UserConnectionEntity.build(PutItemCommand).item({ userId, connectionId, expiresAt }).send();
  await storage.ConnectionEntity.build(PutItemCommand)
    .item({ connectionId, userId, connectedAt: new Date(now).toISOString(), expiresAt })
    .send();
}

export async function removeConnection(
  storage: Storage,
  connectionId: string,
  userId: string,
): Promise<void> {
  await storage.ConnectionEntity.build(DeleteItemCommand).key({ connectionId }).send();
  await storage.UserConnectionEntity.build(DeleteItemCommand).key({ userId, connectionId }).send();
}

/** The user's connections that have not expired (dynalite never deletes by TTL, DynamoDB only lazily). */
export async function liveConnectionsOf(
  storage: Storage,
  userId: string,
  now = Date.now(),
): Promise<string[]> {
  const { Items = [] } = await storage.table
    .build(QueryCommand)
    .query({ partition: `USER#${userId}`, range: { beginsWith: 'CONN#' } })
    .entities(storage.UserConnectionEntity)
    .options({ consistent: true })
    .send();
  return Items.filter((item) => item.expiresAt >= epochSeconds(now)).map((item) => item.connectionId);
}
