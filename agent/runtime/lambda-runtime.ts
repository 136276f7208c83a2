import { randomUUID } from 'node:crypto';
import type { Publisher } from '../../bus/index.ts';
import type { Storage } from '../../schemas/table.ts';
import { createSessionLock } from '../session-lock.ts';
import { countDirectAttempt } from '../turn-records.ts';
import type { TurnRunner } from '../turn-runner.ts';
import { createCrashReply } from './crash-reply.ts';
import { createOrderedTurn } from './ordered-turn.ts';
import { createPendingDrain, type PendingDrainDeps } from './pending-drain.ts';
import { createPendingMessages } from './pending-messages.ts';
import { announcePendingWaiting } from './pending-waiting.ts';
import { createPredecessorGate } from './predecessor-gate.ts';
import { createTaskStateStore } from './task-state.ts';

export interface LambdaRuntimeOptions {
  storage: Storage;
  publisher: Publisher;
  runTurn: TurnRunner;
  /** Lock owner prefix, unique per runtime instance (a log stream, a process). */
  owner: string;
  logger: PendingDrainDeps['logger'];
}

/**
 * The agent's two Lambda entries wired on one table, for `createInvocationHandler`: `answerMessage` for a
 * `turn` invocation (oldest first per user) and `drainPending` for a `drain-pending` one. Shared by the
 * Lambda handler and local mode, so both answer in the same order.
 */
export function createLambdaRuntime(options: LambdaRuntimeOptions) {
  const { storage, publisher, runTurn, logger } = options;
  const pending = createPendingMessages(storage, {
    onUnreadable: (userId, seq) => logger.error('unreadable queued message removed', { userId, seq }),
  });
  // One owner per invocation: two invocations in one process (local mode, a warm Lambda) are two holders.
  const newLock = () => createSessionLock({ storage, owner: `${options.owner}:${randomUUID().slice(0, 8)}` });
  const mustWaitForPredecessor = createPredecessorGate({ storage });
  const answerWithError = createCrashReply({ storage, publisher });
  const drain = createPendingDrain({
    taskState: createTaskStateStore(storage),
    pending,
    newLock,
    runTurn,
    mustWaitForPredecessor,
    answerWithError,
    continueLater: (userId) => announcePendingWaiting(publisher, userId, 'lambda-drain-continues'),
    logger,
  });
  return {
    answerMessage: createOrderedTurn({
      pending,
      newLock,
      runTurn,
      mustWaitForPredecessor,
      countAttempt: (messageId) => countDirectAttempt(storage, messageId),
      answerWithError,
      drain,
      logger,
    }),
    drainPending: drain.drainPending,
  };
}
