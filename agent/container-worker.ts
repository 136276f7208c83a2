import type { MessageReceived } from '../schemas/index.ts';
import type { PendingMessage, PendingMessages } from './runtime/pending-messages.ts';
import { createPredecessorBackoff, nextInSendingOrder } from './runtime/predecessor-gate.ts';
import { TaskStateConflictError, type TaskStateStore } from './runtime/task-state.ts';
import type { TurnOptions, TurnOutcome } from './turn-runner.ts';

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
  taskState: Pick<TaskStateStore, 'markRunning' | 'touch' | 'beginStop' | 'markStopped'>;
  pending: Pick<PendingMessages, 'list' | 'markAttempt' | 'releaseAttempt' | 'remove'>;
  /** Runs one agent turn and publishes its reply (the shared turn runner). */
  runTurn: (message: MessageReceived, turn: TurnOptions) => Promise<TurnOutcome>;
  /** Whether a message's predecessor is still unanswered (`runtime/predecessor-gate.ts`): it waits then. */
  mustWaitForPredecessor: (message: MessageReceived) => Promise<boolean>;
  /** Answers a message the agent crashed on too often, instead of running it again. */
  answerWithError: (message: MessageReceived) => Promise<void>;
  /**
   * Told when the task has stopped (the record is idle again) with messages still queued, e.g. those
   * behind the one a Spot interruption cut short: someone must start a task for them again.
   */
  onPendingLeft: () => Promise<void>;
  logger: ContainerWorkerLogger;
  /** How long one turn may take, reply included. */
  turnTimeoutMs: number;
  /** Stops itself after this long without a message. @default 900000 (15 minutes) */
  idleTimeoutMs?: number;
  /** How often the pending queue is read while idle. @default 500 */
  pollIntervalMs?: number;
  /** First delay before it is read again while its next message waits for its predecessor (then doubling, to 1 s). @default 50 */
  predecessorPollMs?: number;
  /**
   * How long `stop()` lets the turn in flight run on before interrupting it. @default 20000
   */
  shutdownGraceMs?: number;
  /**
   * How long an interrupted turn gets to stop OpenClaw and save the session state. Grace plus this must
   * stay below the container's stop timeout (ECS sends SIGKILL after it). @default 15000
   */
  interruptWaitMs?: number;
  /**
   * How often a running turn refreshes the task's idle clock, so the watchdog never takes a long turn
   * for an idle task. @default 60000
   */
  heartbeatMs?: number;
  /**
   * Attempts a message may take; one past this means earlier tasks crashed mid-turn on it each time.
   * @default 2
   */
  maxAttempts?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Why `run()` ended: the task went idle and retired itself, it was told to stop, or the record does not
 * (or no longer) name this task, so it must not take messages.
 */
export type ContainerWorkerExit = 'idle' | 'signal' | 'not-owner';

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
  const predecessorPollMs = deps.predecessorPollMs ?? 50;
  const shutdownGraceMs = deps.shutdownGraceMs ?? 20_000;
  const interruptWaitMs = deps.interruptWaitMs ?? 15_000;
  const heartbeatMs = deps.heartbeatMs ?? 60_000;
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
   * Runs one turn, refreshing the idle clock while it lasts. If `stop()` is called and the grace runs
   * out, the turn is interrupted and gets `interruptWaitMs` to save its state.
   * @returns 'interrupted' when the message was not answered and must be handed back
   */
  async function runTurnWithinGrace(message: MessageReceived): Promise<'done' | 'failed' | 'interrupted'> {
    const log = { messageId: message.messageId };
    const interrupt = new AbortController();
    const heartbeat = setInterval(() => {
      taskState.touch(userId, taskId).catch(() => undefined);
    }, heartbeatMs);
    const turn = deps
      .runTurn(message, { deadlineAt: now() + deps.turnTimeoutMs, signal: interrupt.signal })
      .then(
        (outcome) => (outcome === 'interrupted' ? ('interrupted' as const) : ('done' as const)),
        (error: unknown) => {
          logger.error('turn failed without a reply; message left queued for a retry', {
            ...log,
            error: error instanceof Error ? error.message : String(error),
          });
          return 'failed' as const;
        },
      );
    try {
      const first = await Promise.race([turn, graceOver]);
      if (first !== 'grace') return first;
      logger.warn('shutdown grace over; interrupting the turn', log);
      interrupt.abort();
      let waitTimer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        turn,
        new Promise<'interrupted'>((resolve) => {
          waitTimer = setTimeout(() => resolve('interrupted'), interruptWaitMs);
        }),
      ]);
      clearTimeout(waitTimer);
      // A turn that answered in the last moment is answered; anything else goes back to the queue.
      return settled === 'done' ? 'done' : 'interrupted';
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Answers one queued message.
   * @returns 'handed-back' when the task is stopping and the turn was interrupted, 'lost-task' when the
   * record says this task no longer runs, 'answered' otherwise (the message may also have been left for a
   * retry)
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
      const outcome = await runTurnWithinGrace(message);
      if (outcome === 'interrupted') {
        // Not removed: the next task, or the Lambda fallback, takes it from the queue. Being stopped is
        // not a crash, so the attempt does not count against the message.
        await pending.releaseAttempt(userId, seq);
        return 'handed-back';
      }
      if (outcome === 'failed') {
        await pause(pollIntervalMs);
        return 'answered';
      }
    }
    await pending.remove(userId, seq);
    return (await taskState.touch(userId, taskId)) ? 'answered' : 'lost-task';
  }

  /**
   * Moves the record to idle after a stop; someone else (the watchdog) may have done it already.
   * @returns whether this call did it
   */
  async function markStopped(): Promise<boolean> {
    try {
      await taskState.markStopped(userId, taskId);
      return true;
    } catch (error) {
      if (!(error instanceof TaskStateConflictError)) throw error;
      logger.info('task record already moved on', { status: error.current.status });
      return false;
    }
  }

  /**
   * After this task made the record idle: messages still queued (the one handed back, those behind it,
   * one that arrived as the task retired) need a new runtime. Whoever moves the record on owns them —
   * a watchdog that stopped us resumes them itself.
   */
  async function handOverLeftovers(): Promise<void> {
    try {
      const left = await pending.list(userId);
      if (left.length === 0) return;
      logger.warn('messages still queued after the task stopped; asking for a new runtime', {
        count: left.length,
      });
      await deps.onPendingLeft();
    } catch (error) {
      // They stay queued, and the user's next message starts a task that answers them first.
      logger.error('could not hand over the queued messages', {
        error: error instanceof Error ? error.message : String(error),
      });
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
    if (await markStopped()) await handOverLeftovers();
    return 'idle';
  }

  async function run(): Promise<ContainerWorkerExit> {
    // Ready: claim the start the selector recorded. A record that moved on (the watchdog gave up on a
    // slow start) or names another task means this task is unowned and must not take messages.
    try {
      await taskState.markRunning(userId, taskId);
    } catch (error) {
      if (!(error instanceof TaskStateConflictError)) throw error;
      logger.warn('task record does not expect this task; exiting', { status: error.current.status });
      return 'not-owner';
    }
    let lastActivityAt = now();
    const predecessorDelayMs = createPredecessorBackoff(predecessorPollMs);
    while (!stopRequested) {
      try {
        const oldest = nextInSendingOrder(await pending.list(userId));
        // Its predecessor overtaken on the bus: it goes first once queued (the gate gives up in seconds).
        if (oldest && (await deps.mustWaitForPredecessor(oldest.message))) {
          lastActivityAt = now();
          await pause(predecessorDelayMs(oldest.message.messageId));
          continue;
        }
        if (oldest) {
          const result = await handle(oldest);
          lastActivityAt = now();
          if (result === 'lost-task') {
            logger.warn('task record no longer names this task; exiting');
            return 'not-owner';
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
            return 'not-owner';
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
    if (await markStopped()) await handOverLeftovers();
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
