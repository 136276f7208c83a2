import type { MessageReceived } from '../../schemas/index.ts';
import type { TurnOptions, TurnOutcome } from '../turn-runner.ts';
import type { DrainLease } from './drain-lease.ts';
import type { PendingMessages } from './pending-messages.ts';
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
  /** One drain per queue at a time. */
  lease: Pick<DrainLease, 'acquire' | 'release'>;
  runTurn: (message: MessageReceived, turn: TurnOptions) => Promise<TurnOutcome>;
  answerWithError: (message: MessageReceived) => Promise<void>;
  /** Hands the rest of the queue to a fresh invocation when this one runs short of time. */
  continueLater: (userId: string) => Promise<void>;
  logger: DrainLogger;
  /** A turn is only started with at least this much time left (except the first). @default 60000 */
  minTurnMs?: number;
  /** Same limit as the container worker's: one past it means earlier attempts crashed. @default 2 */
  maxAttempts?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Why a drain stopped: the queue is empty, a task took it, the rest was handed on, or another drain has it. */
export type DrainResult = 'empty' | 'task-active' | 'continued' | 'busy';

/**
 * Answers a user's queued messages on Lambda when their Fargate task could not start: oldest first, one
 * turn at a time, so the order the user sent them in is the order they are answered — which separate
 * asynchronous invocations could not promise. A message leaves the queue only after its reply; if the
 * invocation dies mid-turn, Lambda's retry comes back to the same message (its attempts count up, as in
 * the container). When the time left is too short for another turn, the rest is handed on.
 */
export function createPendingDrain(deps: PendingDrainDeps) {
  const { taskState, pending, logger } = deps;
  const now = deps.now ?? Date.now;
  const minTurnMs = deps.minTurnMs ?? 60_000;
  const maxAttempts = deps.maxAttempts ?? 2;

  async function drainHeld(userId: string, deadlineAt: number): Promise<DrainResult> {
    let answered = 0;
    for (;;) {
      // A task that started meanwhile takes the queue itself; two runtimes must not race on it.
      const state = await taskState.get(userId);
      if (state.status !== 'idle') {
        logger.info('a task is active; leaving the queue to it', { userId, status: state.status });
        return 'task-active';
      }
      const [oldest] = await pending.list(userId);
      if (!oldest) return 'empty';
      if (answered > 0 && deadlineAt - now() < minTurnMs) {
        logger.info('drain continues in a new invocation', { userId, answered });
        await deps.continueLater(userId);
        return 'continued';
      }
      const { message, seq } = oldest;
      const attempts = await pending.markAttempt(userId, seq);
      if (attempts === undefined) continue; // answered and removed by someone else meanwhile
      if (attempts > maxAttempts) {
        logger.error('message failed every attempt; answering with an error', {
          userId,
          messageId: message.messageId,
          attempts,
        });
        await deps.answerWithError(message);
      } else {
        await deps.runTurn(message, { deadlineAt });
      }
      await pending.remove(userId, seq);
      answered++;
    }
  }

  return async function drainPending(userId: string, deadlineAt: number): Promise<DrainResult> {
    for (;;) {
      const owner = await deps.lease.acquire(userId, deadlineAt);
      if (!owner) {
        logger.info('another drain is answering this queue', { userId });
        return 'busy';
      }
      let result: DrainResult;
      try {
        result = await drainHeld(userId, deadlineAt);
      } finally {
        await deps.lease.release(userId, owner);
      }
      // A message queued between our last look and the release was refused by nobody but us: look again.
      if (result !== 'empty' || (await pending.list(userId)).length === 0) return result;
    }
  };
}

export type PendingDrain = ReturnType<typeof createPendingDrain>;
