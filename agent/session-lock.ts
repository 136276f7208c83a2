import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../schemas/table.ts';

/** Nobody got the lock before the caller's deadline. */
export class SessionLockTimeoutError extends Error {
  constructor(userId: string, options?: ErrorOptions) {
    super(`Timed out waiting for the session lock of user ${userId}`, options);
    this.name = 'SessionLockTimeoutError';
  }
}

export interface SessionLockOptions {
  storage: Storage;
  /** Who we are: a Lambda request id, a task ARN, a process id. Must be unique per holder. */
  owner: string;
  /** A lease not renewed for this long is free for the taking. @default 30000 (30 s) */
  leaseMs?: number;
  /** Wait between tries while another holder has the lock. @default 250 */
  pollMs?: number;
}

export interface SessionLease {
  readonly userId: string;
  /**
   * True once a renewal found someone else holding the lock: our lease ran out (a stall longer than
   * `leaseMs`) and another turn took over. The holder must then not write the user's state.
   */
  readonly lost: boolean;
  /** Stops renewing and deletes the lock if we still hold it. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * A per-user lock as a DynamoDB lease: a conditional write succeeds only if nobody holds the lock, the
 * holder's lease has run out (it died), or we hold it already. The holder renews the lease while it works,
 * so a long turn keeps it and a crashed one loses it within `leaseMs`.
 */
export function createSessionLock(options: SessionLockOptions) {
  const { storage, owner } = options;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 250;

  async function tryTake(userId: string): Promise<boolean> {
    const now = Date.now();
    try {
      await storage.SessionLockEntity.build(PutItemCommand)
        .item({
          userId,
          owner,
          leaseExpiresAt: now + leaseMs,
          expiresAt: epochSeconds(now + leaseMs) + 3600,
        })
        .options({
          condition: {
            or: [
              { attr: 'userId', exists: false },
              { attr: 'leaseExpiresAt', lt: now },
              { attr: 'owner', eq: owner },
            ],
          },
        })
        .send();
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  return {
    /**
     * Takes the user's lock, waiting while someone else holds it, until `deadlineAt` (epoch ms).
     * @throws SessionLockTimeoutError when the deadline passes first
     */
    async acquire(userId: string, deadlineAt: number): Promise<SessionLease> {
      while (!(await tryTake(userId))) {
        if (Date.now() + pollMs > deadlineAt) throw new SessionLockTimeoutError(userId);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      let released = false;
      let lost = false;
      let renewing: Promise<unknown> = Promise.resolve();
      // Renew at a third of the lease so one slow write does not lose the lock.
      const renewal = setInterval(() => {
        renewing = tryTake(userId)
          .then((held) => {
            if (!held) lost = true;
          })
          .catch(() => undefined);
      }, leaseMs / 3);
      renewal.unref();
      return {
        userId,
        get lost() {
          return lost;
        },
        async release() {
          if (released) return;
          released = true;
          clearInterval(renewal);
          // A renewal still in flight would otherwise land after the delete and re-create the lock.
          await renewing;
          try {
            await storage.SessionLockEntity.build(DeleteItemCommand)
              .key({ userId })
              .options({ condition: { attr: 'owner', eq: owner } })
              .send();
          } catch (error) {
            // Someone took over an expired lease: it is theirs now, nothing to release.
            if (!isConditionalCheckFailure(error)) throw error;
          }
        },
      };
    },
  };
}
