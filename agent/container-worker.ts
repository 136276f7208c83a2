import type { MessageReceived } from '../schemas/index.ts';
import type { PendingMessage, PendingMessages } from './runtime/pending-messages.ts';
import { TaskStateConflictError, type TaskStateStore } from './runtime/task-state.ts';
import type { TurnOptions } from './turn-runner.ts';

/** The few logger methods the worker uses; the Powertools logger fits. */
export interface ContainerWorkerLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What the Fargate worker needs; the container entry builds these from the environment. */
export interface ContainerWorkerDeps {
  /** The one user this task serves. */
  userId: string;
  /** This task's id as the lifecycle record knows it (ECS task ARN, or `local:<pid>`). */
  taskId: string;
  taskState: Pick<TaskStateStore, 'touch' | 'beginStop' | 'markStopped'>;
  pending: Pick<PendingMessages, 'list' | 'markAttempt' | 'remove'>;
  /** Runs one agent turn and publishes its reply (the shared turn runner). */
  runTurn: (message: MessageReceived, turn: TurnOptions) => Promise<void>;
  /** Answers a message the agent crashed on too often, instead of running it again. */
  answerWithError: (message: MessageReceived) => Promise<void>;
  logger: ContainerWorkerLogger;
  /** How long one turn may take, reply included. */
  turnTimeoutMs: number;
  /** Stops itself after this long without a message. @default 900000 (15 minutes) */
  idleTimeoutMs?: number;
  /** How often the pending queue is read while idle. @default 500 */
  pollIntervalMs?: number;
  /**
   * How long `stop()` waits for the turn in flight. Below ECS's 30 s stopTimeout, so the turn's
   * state is saved before SIGKILL. @default 20000
   */
  shutdownGraceMs?: number;
  /**
   * Attempts a message may take; one past this means earlier tasks crashed mid-turn on it each time.
   * @default 2
   */
  maxAttempts?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Why `run()` ended: the task went idle and retired itself, or it was told to stop. */
export type ContainerWorkerExit = 'idle' | 'signal';

/** The long-running loop of a user's Fargate task. */
export interface ContainerWorker {
  /** Answers the user's queued messages one at a time until idle or stopped. Call once. */
  run(): Promise<ContainerWorkerExit>;
  /** Asks `run()` to finish: no new messages, the turn in flight gets the shutdown grace. Idempotent. */
  stop(): void;
}

/** A timer that can be cut short, so a stop never waits out a poll interval or a grace period. */
function cancellableDelay(ms: number) {
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
    timer = setTimeout(resolve, ms);
  });
  return {
    done,
    cancel() {
      clearTimeout(timer);
      finish();
    },
  };
}

/**
 * The worker of a user's Fargate task: takes the user's pending messages oldest first, runs each
 * turn to the end before the next, and removes a message only once its turn is over — so a task
 * that dies mid-turn leaves the message queued for the next runtime. Every message refreshes the
 * task's idle clock; after `idleTimeoutMs` without one, the worker retires the task itself.
 */
export function createContainerWorker(deps: ContainerWorkerDeps): ContainerWorker {
  const { userId, taskId, taskState, pending, logger } = deps;
  const now = deps.now ?? Date.now;
  const idleTimeoutMs = deps.idleTimeoutMs ?? 15 * 60_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 500;
  const shutdownGraceMs = deps.shutdownGraceMs ?? 20_000;
  const maxAttempts = deps.maxAttempts ?? 2;

  let stopRequested = false;
  let signalStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    signalStop = resolve;
  });
  /** Wakes the idle poll as soon as `stop()` is called. */
  let currentDelay: ReturnType<typeof cancellableDelay> | undefined;

  async function pause(ms: number): Promise<void> {
    if (stopRequested) return;
    currentDelay = cancellableDelay(ms);
    await currentDelay.done;
    currentDelay = undefined;
  }

  /** Settles once `stop()` was called and the grace has run out; the in-flight turn races it. */
  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = stopped.then(
    () =>
      new Promise<'grace'>((resolve) => {
        graceTimer = setTimeout(() => resolve('grace'), shutdownGraceMs);
      }),
  );

  /**
   * Answers one queued message.
   * @returns 'handed-back' when the grace ran out mid-turn, 'lost-task' when the record says this task
   * no longer runs, 'answered' otherwise (the message may also have been left for a retry)
   */
  async function handle(item: PendingMessage): Promise<'answered' | 'handed-back' | 'lost-task'> {
    const { message, seq } = item;
    const log = { messageId: message.messageId, seq };
    // Before the attempt is counted: a task that was stopped meanwhile must not use one up.
    if (!(await taskState.touch(userId, taskId))) return 'lost-task';
    const attempts = await pending.markAttempt(userId, seq);
    if (attempts === undefined) return 'answered'; // someone else answered and removed it

    if (attempts > maxAttempts) {
      logger.error('message failed every attempt; answering with an error', { ...log, attempts });
      await deps.answerWithError(message);
    } else {
      logger.info('turn started', { ...log, attempts });
      const outcome = await Promise.race([
        deps.runTurn(message, { deadlineAt: now() + deps.turnTimeoutMs }).then(
          () => 'done' as const,
          (error: unknown) => {
            logger.error('turn failed without a reply; message left queued for a retry', {
              ...log,
              error: error instanceof Error ? error.message : String(error),
            });
            return 'failed' as const;
          },
        ),
        graceOver,
      ]);
      // Not removed: the next task, or the Lambda fallback, takes it from the queue.
      if (outcome === 'grace') return 'handed-back';
      if (outcome === 'failed') {
        await pause(pollIntervalMs);
        return 'answered';
      }
    }
    await pending.remove(userId, seq);
    return (await taskState.touch(userId, taskId)) ? 'answered' : 'lost-task';
  }

  /** Moves the record to idle after a stop; someone else (the watchdog) may have done it already. */
  async function markStopped(): Promise<void> {
    try {
      await taskState.markStopped(userId, taskId);
    } catch (error) {
      if (!(error instanceof TaskStateConflictError)) throw error;
      logger.info('task record already moved on', { status: error.current.status });
    }
  }

  /**
   * Retires the task after the idle timeout.
   * @returns 'idle' when retired, 'signal' when the record is no longer this task's, 'busy' when a
   * message arrived meanwhile
   */
  async function retire(lastActivityAt: number): Promise<'idle' | 'signal' | 'busy'> {
    try {
      // The cut-off is one past our last activity: any touch after it (the selector queuing a message
      // between our poll and this write) refuses the stop.
      await taskState.beginStop(userId, taskId, { inactiveSince: lastActivityAt + 1 });
    } catch (error) {
      if (!(error instanceof TaskStateConflictError)) throw error;
      const { current } = error;
      if (current.status === 'running' && current.taskId === taskId) return 'busy';
      return 'signal';
    }
    await markStopped();
    return 'idle';
  }

  async function run(): Promise<ContainerWorkerExit> {
    let lastActivityAt = now();
    while (!stopRequested) {
      try {
        const [oldest] = await pending.list(userId);
        if (oldest) {
          const result = await handle(oldest);
          lastActivityAt = now();
          if (result === 'lost-task') {
            logger.warn('task record no longer names this task; exiting');
            return 'signal';
          }
          if (result === 'handed-back') {
            logger.warn('turn outlasted the shutdown grace; message handed back', {
              messageId: oldest.message.messageId,
            });
            break;
          }
          continue;
        }
        if (now() - lastActivityAt >= idleTimeoutMs) {
          const retired = await retire(lastActivityAt);
          if (retired === 'idle') {
            logger.info('idle timeout reached; task stopped itself', { idleTimeoutMs });
            return 'idle';
          }
          if (retired === 'signal') {
            logger.warn('task record no longer names this task; exiting');
            return 'signal';
          }
          lastActivityAt = now();
          continue;
        }
      } catch (error) {
        // A DynamoDB hiccup must not kill the task with a message half-handled: try again shortly.
        logger.error('worker loop error; retrying', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
      await pause(pollIntervalMs);
    }
    await markStopped();
    return 'signal';
  }

  async function runAndClean(): Promise<ContainerWorkerExit> {
    try {
      return await run();
    } finally {
      // The grace only matters while a turn is awaited; do not keep the process alive for it.
      clearTimeout(graceTimer);
    }
  }

  return {
    run: runAndClean,
    stop() {
      if (stopRequested) return;
      stopRequested = true;
      logger.info('stop requested; finishing the turn in flight', { shutdownGraceMs });
      signalStop();
      currentDelay?.cancel();
    },
  };
}
