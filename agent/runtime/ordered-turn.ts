import type { MessageReceived } from '../../schemas/index.ts';
import type { SessionLock } from '../session-lock.ts';
import type { TurnOptions, TurnOutcome } from '../turn-runner.ts';
import { runUnlessCrashedTooOften } from './crash-reply.ts';
import type { DrainResult, PendingDrain } from './pending-drain.ts';
import type { PendingMessages } from './pending-messages.ts';
import { persist } from './persist.ts';

export interface OrderedTurnDeps {
  pending: Pick<PendingMessages, 'enqueue'>;
  /** A session lock with an owner of its own, one per call (see `PendingDrainDeps.newLock`). */
  newLock: () => Pick<SessionLock, 'tryAcquire' | 'markWaitingAsWaiter'>;
  runTurn: (message: MessageReceived, turn: TurnOptions) => Promise<TurnOutcome>;
  drain: Pick<PendingDrain, 'answerQueueThenRelease'>;
  /** Whether the message's predecessor is still unanswered (`predecessor-gate.ts`). */
  mustWaitForPredecessor: (message: MessageReceived) => Promise<boolean>;
  /** Counts this invocation's attempt at a message it answers at once (`countDirectAttempt`). */
  countAttempt: (messageId: string) => Promise<number>;
  /** Answers a message the agent died on at every attempt, instead of running it again. */
  answerWithError: (message: MessageReceived) => Promise<void>;
  /** Same limit as the queue's: one past it means the earlier invocations died mid-turn. @default 2 */
  maxAttempts?: number;
  logger: { error(message: string, ...extra: Record<string, unknown>[]): void };
}

/**
 * How a Lambda `turn` invocation ended: its message answered at once (`answered`), queued behind the
 * user's turn in progress, whose holder answers it next in order (`queued`), or answered with the queue
 * it found waiting (a drain result). `lost`: the lock was not ours any more when we let go, or could not
 * be released (it then runs out by itself, keeping its mark).
 */
export type OrderedTurnResult = 'answered' | 'queued' | DrainResult;

/**
 * The agent's Lambda entry for one message, answering one user's messages oldest first (by `pendingSeq`:
 * `receivedAt`, then message id) though each comes in its own asynchronous invocation.
 *
 * The user idle (the common case): the session lock is taken in one call, which also says whether anything
 * is queued; nothing is, so the message is answered at once, and the release is conditional on nobody having
 * queued behind it — the same two lock calls as a plain lock, no queue read, plus one write that counts the
 * attempt, so that a message whose every invocation dies mid-turn still gets an error reply. The user busy: the message
 * joins the user's queue and marks the lock `waiting`; the holder's release is then refused, and the
 * holder answers the queue in order before it lets go (`pending-drain.ts`). A holder that dies leaves the
 * mark and a lease that runs out: whoever takes the lock next (Lambda's retry, the next message, or the
 * watchdog's drain) finds the mark and answers the queue first.
 *
 * We chose this over a fair (FIFO) lock: waiters of a fair lock must register and poll, which costs calls
 * on every message and keeps invocations waiting (billed); here a busy user's message costs two writes and
 * its invocation ends at once. Order among messages that reach the agent while the user is busy is exact.
 * A message that overtook its predecessor on the bus (it names it in `afterMessageId`, and that one has
 * no reply yet) is queued and answered by the drain, which waits a few seconds for the predecessor to
 * join the queue ahead of it: one extra read per message that names a predecessor.
 */
export function createOrderedTurn(deps: OrderedTurnDeps) {
  return async function answerMessage(
    message: MessageReceived,
    deadlineAt: number,
  ): Promise<OrderedTurnResult> {
    const lock = deps.newLock();
    const { userId } = message;
    const maxAttempts = deps.maxAttempts ?? 2;
    // Set before the first enqueue: a call that threw may still have queued the message.
    let queued = false;
    /** The predecessor check, made with the lock held; a failed read lets Lambda retry the message. */
    const waitsForPredecessor = async (lease: { handOn(): Promise<void> }) => {
      try {
        return await persist(() => deps.mustWaitForPredecessor(message));
      } catch (error) {
        await lease.handOn().catch(() => undefined);
        throw error;
      }
    };
    for (;;) {
      const taken = await persist(() => lock.tryAcquire(userId));
      if (taken && (taken.waiting || queued || (await waitsForPredecessor(taken.lease)))) {
        // Older messages wait (a holder died, or handed its queue on), ours may be queued already, or its
        // predecessor is still on its way: answer the queue with ours in its place, so it is answered once,
        // in order, and removed. Queueing is idempotent, so a copy that did land is not queued twice.
        try {
          await persist(() => deps.pending.enqueue(message));
          // Queued for its predecessor on an unmarked lock: mark it, so that if this invocation dies the
          // next taker (Lambda's retry included) answers the queue, not our message a second time beside it.
          if (!taken.waiting) await persist(() => taken.lease.markWaiting(true));
        } catch (error) {
          await taken.lease.handOn().catch(() => undefined);
          throw error;
        }
        return deps.drain.answerQueueThenRelease(taken.lease, deadlineAt);
      }
      if (taken) {
        const { lease } = taken;
        try {
          const attempts = await persist(() => deps.countAttempt(message.messageId));
          await runUnlessCrashedTooOften({ message, attempts, maxAttempts }, deps, () =>
            deps.runTurn(message, { deadlineAt, lease }),
          );
        } catch (error) {
          // No reply could be published: Lambda retries this invocation. Anyone queued behind us is found by
          // the next taker through the mark the hand-on keeps.
          await lease.handOn().catch(() => undefined);
          throw error;
        }
        try {
          if (await persist(() => lease.releaseIfNoneWaiting())) return 'answered';
          // Refused: messages were queued behind us (or the lock is no longer ours).
          if (!(await persist(() => lease.check()))) {
            await lease.release();
            return 'lost';
          }
        } catch (error) {
          // The reply is out, and a retried invocation would only publish it again: leave the lock to run
          // out with its mark instead, for the next taker (or the watchdog) to answer whoever queued.
          deps.logger.error('session lock not released; left to run out', { userId, error: error as Error });
          await lease.handOn().catch(() => undefined);
          return 'lost';
        }
        return deps.drain.answerQueueThenRelease(lease, deadlineAt, 1);
      }
      // Busy: queue the message first, then mark the lock, so the holder that sees the mark sees the message.
      queued = true;
      await persist(() => deps.pending.enqueue(message));
      if (await persist(() => lock.markWaitingAsWaiter(userId))) return 'queued';
      // The holder let go (or its lease ran out) in between: take the lock ourselves.
    }
  };
}

export type OrderedTurn = ReturnType<typeof createOrderedTurn>;
