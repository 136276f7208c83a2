import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { epochSeconds, type Storage } from './table.ts';

/** How long a stop request is kept: longer than any turn (the agent Lambda's 15 minutes) and its queue. */
export const STOP_REQUEST_TTL_SECONDS = 60 * 60;

/**
 * The stop button's server side: the web producer records that a user asked to stop one of their
 * messages, and the turn answering that message polls for it. Keyed by the asking user, so nobody can stop
 * another user's turn: a request for someone else's message id sits in the asker's own partition.
 */
export function createStopRequests(storage: Storage, now: () => number = Date.now) {
  return {
    async request(userId: string, messageId: string): Promise<void> {
      await storage.AbortRequestEntity.build(PutItemCommand)
        .item({
          userId,
          messageId,
          requestedAt: new Date(now()).toISOString(),
          expiresAt: epochSeconds(now()) + STOP_REQUEST_TTL_SECONDS,
        })
        .send();
    },
    /** True when the message's own user asked to stop it (read consistently: the turn polls it). */
    async isRequested(userId: string, messageId: string): Promise<boolean> {
      const { Item } = await storage.AbortRequestEntity.build(GetItemCommand)
        .key({ userId, messageId })
        .options({ consistent: true })
        .send();
      return Item !== undefined && Item.expiresAt > epochSeconds(now());
    },
  };
}

export type StopRequests = ReturnType<typeof createStopRequests>;
