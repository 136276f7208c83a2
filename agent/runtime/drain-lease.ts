import { randomUUID } from 'node:crypto';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';

/**
 * One Lambda drain per user queue at a time (see `pending-drain.ts`). The lease runs until its holder's
 * deadline, so a holder that dies frees it by itself; Lambda's retry of that invocation then takes over.
 */
export function createDrainLease(storage: Storage, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const entity = storage.DrainLeaseEntity;

  return {
    /** @returns the lease's owner token, or undefined when another drain holds the user's queue */
    async acquire(userId: string, until: number): Promise<string | undefined> {
      // One token per acquisition: two drains in one process (local mode) are two holders.
      const owner = randomUUID();
      try {
        await entity
          .build(PutItemCommand)
          .item({ userId, owner, leaseUntil: until, expiresAt: epochSeconds(until) + 3600 })
          .options({
            condition: {
              or: [
                { attr: 'owner', exists: false },
                { attr: 'leaseUntil', lt: now() },
              ],
            },
          })
          .send();
        return owner;
      } catch (error) {
        if (isConditionalCheckFailure(error)) return undefined;
        throw error;
      }
    },

    /** Gives the queue back; a lease another drain has since taken is left alone. */
    async release(userId: string, owner: string): Promise<void> {
      try {
        await entity
          .build(DeleteItemCommand)
          .key({ userId })
          .options({ condition: { attr: 'owner', eq: owner } })
          .send();
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
      }
    },
  };
}

export type DrainLease = ReturnType<typeof createDrainLease>;
