import type { MessageReceived } from '../../schemas/index.ts';
import type { SessionLease, SessionLock } from '../session-lock.ts';
import type { TurnOptions, TurnOutcome } from '../turn-runner.ts';
import { runUnlessCrashedTooOften } from './crash-reply.ts';
import type { PendingMessages } from './pending-messages.ts';
import { persist } from './persist.ts';
import { createPredecessorBackoff, nextInSendingOrder } from './predecessor-gate.ts';
import type { TaskStateStore } from './task-state.ts';

/** The few logger methods the drain uses; the Powertools logger fits. */
interface DrainLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface PendingDrainDeps {
  taskState: Pick<TaskStateStore, 'get'>;
  pending: Pick<PendingMessages, 'list' | 'markAttempt' | 'remove'>;
  /**
   * A session lock with an owner of its own (`createSessionLock`), one per call: one holder answers a
   * user's queue at a time, and the same lock serialises every turn of the user.
   */
  newLock: () => Pick<SessionLock, 'tryAcquire' | 'markWaitingAsWaiter'>;
  runTurn: (message: MessageReceived, turn: TurnOptions) => Promise<TurnOutcome>;
  /** Whether a message's predecessor is still unanswered (`predecessor-gate.ts`): it is then not answered yet. */
  mustWaitForPredecessor: (message: MessageReceived) => Promise<boolean>;
  answerWithError: (message: MessageReceived) => Promise<void>;
  /** Hands the rest of the queue to a fresh invocation when this one runs short of time. */
  continueLater: (userId: string) => Promise<void>;
  logger: DrainLogger;
  /** A turn is only started with at least this much time left (except the first). @default 60000 */
  minTurnMs?: number;
  /** Same limit as the container worker's: one past it means earlier attempts crashed. @default 2 */
  maxAttempts?: number;
  /** First delay before the queue is looked at again while its next message waits for its predecessor (then doubling, to 1 s). @default 50 */
  predecessorPollMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Why a drain stopped: the queue is empty, a task took it, the rest was handed on, another holder has it
 * (and will answer it), or our lease ran out under us (whoever took the lock answers it).
 */
export type DrainResult = 'empty' | 'task-active' | 'continued' | 'busy' | 'lost';

/**
 * Answers a user's queued messages on Lambda, oldest first, one turn at a time, under the user's session
 * lock: the queue of a Fargate task that could not start, and the messages that found the user busy on
 * Lambda (`ordered-turn.ts`). A message leaves the queue only after its reply; if the invocation dies
 * mid-turn, the lock keeps its waiting mark and its lease runs out, and Lambda's retry (or the next
 * message, or the watchdog) takes the lock and answers the queue first (attempts count up, as in the
 * container). When the time left is too short for another turn, the rest is handed on.
 */
export function createPendingDrain(deps: PendingDrainDeps) {
  const { taskState, pending, logger } = deps;
  const now = deps.now ?? Date.now;
  const minTurnMs = deps.minTurnMs ?? 60_000;
  const maxAttempts = deps.maxAttempts ?? 2;
  const predecessorPollMs = deps.predecessorPollMs ?? 50;

  async function drainHeld(
    lease: SessionLease,
    deadlineAt: number,
    progress: { answered: number },
  ): Promise<DrainResult> {
    const { userId } = lease;
    const predecessorDelayMs = createPredecessorBackoff(predecessorPollMs);
    for (;;) {
      if (lease.lost) return 'lost';
      // A task that started meanwhile takes the queue itself; two runtimes must not race on it.
      const state = await persist(() => taskState.get(userId));
      if (state.status !== 'idle') {
        logger.info('a task is active; leaving the queue to it', { userId, status: state.status });
        return 'task-active';
      }
      const next = nextInSendingOrder(await persist(() => pending.list(userId)));
      if (!next) return 'empty';
      if (progress.answered > 0 && deadlineAt - now() < minTurnMs) return 'continued';
      const { message, seq } = next;
      // Its predecessor overtaken on the bus: once that one is queued, it sorts first (the gate gives up
      // after a few seconds, so a predecessor that never comes delays this one only so long).
      if (await persist(() => deps.mustWaitForPredecessor(message))) {
        const delayMs = predecessorDelayMs(message.messageId);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        continue;
      }
      const attempts = await persist(() => pending.markAttempt(userId, seq));
      if (attempts === undefined) continue; // answered and removed by someone else meanwhile
      await runUnlessCrashedTooOften({ message, attempts, maxAttempts }, deps, () =>
        deps.runTurn(message, { deadlineAt, lease }),
      );
      await persist(() => pending.remove(userId, seq));
      progress.answered++;
    }
  }

  /**
   * Answers the queue with the lock held, then lets go of it: released once the queue is seen empty with
   * no waiting mark, handed on (mark kept) when time runs short or a turn throws, released to a task that
   * took over. `answered` counts turns this invocation already ran (the first one always runs).
   */
  async function answerQueueThenRelease(
    lease: SessionLease,
    deadlineAt: number,
    answered = 0,
  ): Promise<DrainResult> {
    const { userId } = lease;
    const progress = { answered };
    try {
      for (;;) {
        const result = await drainHeld(lease, deadlineAt, progress);
        if (result === 'continued') {
          logger.info('drain continues in a new invocation', { userId, answered: progress.answered });
          // Hand on first: the next invocation must find the lock takeable, and its mark says why.
          await lease.handOn();
          await deps.continueLater(userId);
          return result;
        }
        if (result !== 'empty') {
          await lease.release();
          return result;
        }
        // Seen empty: clear the mark, then look once more, since a message queued just before the clear
        // had its mark cleared by us. A crash after this look strands nothing: the queue was empty.
        if (!(await persist(() => lease.markWaiting(false)))) {
          await lease.release();
          return 'lost';
        }
        if ((await persist(() => pending.list(userId))).length > 0) {
          if (await persist(() => lease.markWaiting(true))) continue;
          await lease.release();
          return 'lost';
        }
        // Refused: someone queued a message (and marked it) since the clear.
        if (await persist(() => lease.releaseIfNoneWaiting())) return 'empty';
      }
    } catch (error) {
      // The message stays queued with its attempt counted; the lock keeps its mark and runs out, so
      // Lambda's retry of this invocation takes it and answers the queue first.
      await lease.handOn().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The `drain-pending` invocation: answers the user's queue if nobody holds their lock; if someone does,
   * tells them the queue is not empty (they answer it before letting go) and returns `busy`.
   */
  async function drainPending(userId: string, deadlineAt: number): Promise<DrainResult> {
    const lock = deps.newLock();
    for (;;) {
      const taken = await persist(() => lock.tryAcquire(userId));
      if (taken) return answerQueueThenRelease(taken.lease, deadlineAt);
      if (await persist(() => lock.markWaitingAsWaiter(userId))) {
        logger.info('another holder is answering this queue', { userId });
        return 'busy';
      }
      // The holder let go (or died) between the two calls: take the lock ourselves.
    }
  }

  return { drainPending, answerQueueThenRelease };
}

export type PendingDrain = ReturnType<typeof createPendingDrain>;
