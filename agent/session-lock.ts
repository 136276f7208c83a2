import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { $remove, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
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
  /** Stops renewing and deletes the lock if we still hold it, queued messages or not. Safe to call twice. */
  release(): Promise<void>;
  /**
   * Lets go only if nobody queued a message meanwhile (one conditional delete, the same call `release`
   * makes). @returns false when refused: someone is waiting, or the lock is no longer ours — ask `check`
   */
  releaseIfNoneWaiting(): Promise<boolean>;
  /** Renews now. @returns whether messages wait, or undefined when the lock is no longer ours */
  check(): Promise<{ waiting: boolean } | undefined>;
  /** Sets (true) or clears (false) the waiting mark as the holder. @returns false when the lock is not ours */
  markWaiting(waiting: boolean): Promise<boolean>;
  /**
   * Leaves the lock with its waiting mark and an expired lease, so the next taker — the invocation we hand
   * the queue to, or a newer message — answers the queue first instead of overtaking it.
   */
  handOn(): Promise<void>;
}

/** What `tryAcquire` got: the lease, and whether messages were queued when we took it. */
export interface TakenLock {
  lease: SessionLease;
  /** Messages wait in the user's queue (a holder died, or handed the queue on): answer them first. */
  waiting: boolean;
}

/**
 * A per-user lock as a DynamoDB lease: a conditional write succeeds only if nobody holds the lock, the
 * holder's lease has run out (it died), or we hold it already. The holder renews the lease while it works,
 * so a long turn keeps it and a crashed one loses it within `leaseMs`.
 *
 * For in-order turns on Lambda the lock also carries a `waiting` mark: a turn that finds the lock held
 * queues its message and sets the mark (`markWaitingAsWaiter`); the holder's release is conditional on no
 * mark, so it learns about the queue without reading it. Takes and renewals are updates, which keep the
 * mark; `tryAcquire` reads it back in the same call.
 */
export function createSessionLock(options: SessionLockOptions) {
  const { storage, owner } = options;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 250;
  const entity = storage.SessionLockEntity;

  /** Takes (or renews) the lock. @returns its waiting mark, or undefined when someone else holds it */
  async function take(userId: string, renewal: boolean): Promise<{ waiting: boolean } | undefined> {
    const now = Date.now();
    try {
      const { Attributes } = await entity
        .build(UpdateItemCommand)
        .item({ userId, owner, leaseExpiresAt: now + leaseMs, expiresAt: epochSeconds(now + leaseMs) + 3600 })
        .options({
          // A renewal only keeps a lock that is still ours; it must not re-create one we released.
          condition: renewal
            ? { attr: 'owner', eq: owner }
            : {
                or: [
                  { attr: 'userId', exists: false },
                  { attr: 'leaseExpiresAt', lt: now },
                  { attr: 'owner', eq: owner },
                ],
              },
          returnValues: 'ALL_NEW',
        })
        .send();
      return { waiting: Attributes?.waiting === true };
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }

  /** Runs a write that is conditional on our ownership; a refused one means the lock is not ours. */
  async function ours(write: Promise<unknown>): Promise<boolean> {
    try {
      await write;
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  function leaseOf(userId: string): SessionLease {
    let stopped = false;
    let lost = false;
    let renewing: Promise<unknown> = Promise.resolve();
    // Renew at a third of the lease so one slow write does not lose the lock.
    const renewal = setInterval(() => {
      renewing = take(userId, true)
        .then((held) => {
          if (!held) lost = true;
        })
        .catch(() => undefined);
    }, leaseMs / 3);
    renewal.unref();
    /** Stops renewing; a renewal still in flight would otherwise land after our last write. */
    async function stop(): Promise<boolean> {
      if (stopped) return false;
      stopped = true;
      clearInterval(renewal);
      await renewing;
      return true;
    }
    const deleteLock = (noneWaiting: boolean) =>
      ours(
        entity
          .build(DeleteItemCommand)
          .key({ userId })
          .options({
            condition: noneWaiting
              ? {
                  and: [
                    { attr: 'owner', eq: owner },
                    { attr: 'waiting', exists: false },
                  ],
                }
              : { attr: 'owner', eq: owner },
          })
          .send(),
      );
    return {
      userId,
      get lost() {
        return lost;
      },
      async release() {
        // Someone took over an expired lease: it is theirs now, nothing to release.
        if (await stop()) await deleteLock(false);
      },
      async releaseIfNoneWaiting() {
        if (stopped) return true;
        // Wait for a renewal in flight, but keep renewing if the release is refused: we still hold it.
        await renewing;
        if (!(await deleteLock(true))) return false;
        await stop();
        return true;
      },
      async check() {
        await renewing;
        const held = await take(userId, true);
        if (!held) lost = true;
        return held;
      },
      async markWaiting(waiting) {
        return ours(
          entity
            .build(UpdateItemCommand)
            .item({ userId, waiting: waiting ? true : $remove() })
            .options({ condition: { attr: 'owner', eq: owner } })
            .send(),
        );
      },
      async handOn() {
        if (!(await stop())) return;
        await ours(
          entity
            .build(UpdateItemCommand)
            .item({ userId, waiting: true, leaseExpiresAt: 0 })
            .options({ condition: { attr: 'owner', eq: owner } })
            .send(),
        );
      },
    };
  }

  return {
    /**
     * Takes the user's lock, waiting while someone else holds it, until `deadlineAt` (epoch ms).
     * @throws SessionLockTimeoutError when the deadline passes first
     */
    async acquire(userId: string, deadlineAt: number): Promise<SessionLease> {
      while (!(await take(userId, false))) {
        if (Date.now() + pollMs > deadlineAt) throw new SessionLockTimeoutError(userId);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      return leaseOf(userId);
    },

    /** Takes the lock if it is free, in one call, without waiting. @returns undefined when it is held */
    async tryAcquire(userId: string): Promise<TakenLock | undefined> {
      const taken = await take(userId, false);
      return taken && { lease: leaseOf(userId), waiting: taken.waiting };
    },

    /**
     * Tells the live holder that a message was queued behind it (after queueing it). @returns false when
     * nobody holds the lock any more, or the holder's lease ran out: take the lock instead
     */
    async markWaitingAsWaiter(userId: string): Promise<boolean> {
      return ours(
        entity
          .build(UpdateItemCommand)
          .item({ userId, waiting: true })
          .options({
            condition: {
              and: [
                { attr: 'owner', exists: true },
                { attr: 'leaseExpiresAt', gte: Date.now() },
              ],
            },
          })
          .send(),
      );
    },
  };
}

/** The lock `createSessionLock` returns. */
export type SessionLock = ReturnType<typeof createSessionLock>;

/**
 * Whether someone holds the user's lock with a live lease (the watchdog leaves such queues alone), read
 * consistently.
 */
export async function isSessionLockLive(
  storage: Storage,
  userId: string,
  now = Date.now(),
): Promise<boolean> {
  const { Item } = await storage.SessionLockEntity.build(GetItemCommand)
    .key({ userId })
    .options({ consistent: true })
    .send();
  return !!Item && Item.leaseExpiresAt >= now;
}
