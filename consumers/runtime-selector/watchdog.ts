import type { TaskInfo, TaskLauncher } from '../../agent/launchers/task-launcher.ts';
import type { PendingMessages } from '../../agent/runtime/pending-messages.ts';
import {
  type TaskState,
  TaskStateConflictError,
  type TaskStateStore,
} from '../../agent/runtime/task-state.ts';

/** The few logger methods the watchdog uses; the Powertools logger fits. */
interface WatchdogLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface WatchdogDeps {
  taskState: TaskStateStore;
  launcher: TaskLauncher;
  /** Gives a queue that lost its task a new runtime (the selector's `resumePending`). */
  resumePending: (userId: string) => Promise<void>;
  /**
   * Answers a queue on Lambda, in order (the selector's `fallBackToLambda`): for a start that never
   * became ready, where starting yet another task would likely fail the same way, and bill each time.
   */
  drainOnLambda: (userId: string) => Promise<void>;
  /** Users with queued messages (`PendingMessages.listWaitingUsers`): a queue nobody answers is drained. */
  queues: Pick<PendingMessages, 'listWaitingUsers'>;
  /** Whether someone holds the user's session lock with a live lease (`isSessionLockLive`). */
  lockHeld: (userId: string) => Promise<boolean>;
  logger: WatchdogLogger;
  /**
   * How long a queued message may wait, with no task and no live lock holder for its user, before its queue
   * counts as stranded (its holder died and no retry came back). @default 120000 (2 minutes)
   */
  strandedQueueMs?: number;
  /** The tasks' own inactivity timeout; they normally stop themselves when it passes. */
  idleTimeoutMs: number;
  /** How long past `idleTimeoutMs` a task that did not stop itself is left before it is stopped. @default 300000 */
  idleGraceMs?: number;
  /** How long a task may take from launch to ready before the start is given up. @default 300000 */
  startTimeoutMs?: number;
  /** How long a task may take to stop before StopTask is sent (again). @default 300000 */
  stopTimeoutMs?: number;
  /** A task nobody's record names is only a zombie after this long, since a launch is recorded just after it. @default 300000 */
  zombieGraceMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What one sweep did, by task or user id (for logs and tests). */
export interface WatchdogReport {
  /** Running tasks stopped because they were idle past their timeout plus grace. */
  stoppedIdle: string[];
  /** Tasks running in the cluster that no record names. */
  stoppedZombies: string[];
  /** Starts given up on: the task stopped before it was ready, or took too long. */
  failedStarts: string[];
  /** Records of tasks that died (crashed, Spot reclaimed) without moving their record on. */
  recoveredDeadTasks: string[];
  /** Users whose queue nobody was answering (no task, no live lock holder), handed to a Lambda drain. */
  resumedQueues: string[];
}

/**
 * The runtime watchdog, run on a schedule. Tasks normally manage themselves — they stop after their idle
 * timeout and hand back what they could not answer — so this is the backstop for when they cannot:
 * a task that died without a word, a start that never became ready, a stop that hangs, a task idle past
 * its timeout, and tasks no record owns (zombies). It never stops a task that is working: a turn refreshes
 * the idle clock (heartbeat), and the stop is conditional on that clock not having moved. Whatever was
 * queued for a task that died goes back to the selector, which starts a new one; the queue of a start
 * that never became ready is answered on Lambda instead, so a broken image cannot relaunch forever. A queue
 * of a user with no task and no live session lock holder (a Lambda holder died, and no retry came back) is
 * answered on Lambda too.
 */
export function createWatchdog(deps: WatchdogDeps) {
  const { taskState, launcher, logger } = deps;
  const now = deps.now ?? Date.now;
  const idleGraceMs = deps.idleGraceMs ?? 5 * 60_000;
  const startTimeoutMs = deps.startTimeoutMs ?? 5 * 60_000;
  const stopTimeoutMs = deps.stopTimeoutMs ?? 5 * 60_000;
  const zombieGraceMs = deps.zombieGraceMs ?? 5 * 60_000;
  const strandedQueueMs = deps.strandedQueueMs ?? 2 * 60_000;

  /** Transitions race with the task itself; a refusal means it moved on by itself, which is fine. */
  async function unlessMovedOn(action: Promise<unknown>): Promise<boolean> {
    try {
      await action;
      return true;
    } catch (error) {
      if (error instanceof TaskStateConflictError) return false;
      throw error;
    }
  }

  async function checkStarting(state: TaskState, info: TaskInfo | undefined, report: WatchdogReport) {
    const { userId, taskId } = state;
    const died = info?.state === 'stopped';
    const tooSlow = now() - state.changedAt >= startTimeoutMs;
    if (!died && !tooSlow) return;
    // Reset only the start we judged: a fresh start since our read keeps its chance. An age of 0 would
    // not tell them apart, so a dead start is reset by its version. Reset before stopping: a container
    // that became ready since our read keeps its start (the reset is refused) and is not stopped.
    const reset = died
      ? await unlessMovedOn(taskState.markStartFailed(userId, { version: state.version }))
      : await taskState.resetStuckStart(userId, startTimeoutMs);
    if (!reset) return;
    if (taskId && !died) await launcher.stop(taskId, 'agent task did not become ready in time');
    logger.warn('task start given up; answering the queue on Lambda', {
      userId,
      taskId,
      reason: died ? info?.stoppedReason : 'timeout',
    });
    report.failedStarts.push(userId);
    await deps.drainOnLambda(userId);
  }

  async function checkRunning(state: TaskState, info: TaskInfo | undefined, report: WatchdogReport) {
    const { userId, taskId } = state;
    if (!taskId) return;
    if (info?.state === 'stopped') {
      if (!(await unlessMovedOn(taskState.markStopped(userId, taskId)))) return;
      logger.warn('task died without stopping itself', { userId, taskId, reason: info.stoppedReason });
      report.recoveredDeadTasks.push(taskId);
      await deps.resumePending(userId);
      return;
    }
    const cutoff = now() - deps.idleTimeoutMs - idleGraceMs;
    if ((state.lastActivityAt ?? state.changedAt) >= cutoff) return;
    // Conditional on the idle clock: a message or heartbeat since our read keeps the task.
    if (!(await unlessMovedOn(taskState.beginStop(userId, taskId, { inactiveSince: cutoff })))) return;
    await launcher.stop(taskId, 'idle past its timeout');
    await unlessMovedOn(taskState.markStopped(userId, taskId));
    logger.warn('idle task stopped by the watchdog', { userId, taskId });
    report.stoppedIdle.push(taskId);
    await deps.resumePending(userId);
  }

  async function checkStopping(state: TaskState, info: TaskInfo | undefined, report: WatchdogReport) {
    const { userId, taskId } = state;
    if (!taskId) return;
    if (info?.state === 'stopped') {
      if (!(await unlessMovedOn(taskState.markStopped(userId, taskId)))) return;
      report.recoveredDeadTasks.push(taskId);
      await deps.resumePending(userId);
      return;
    }
    if (now() - state.changedAt >= stopTimeoutMs) await launcher.stop(taskId, 'stop took too long');
  }

  /**
   * Queues of users with no task whose Lambda holder died and whose retries never came back (or whose drain
   * invocation was lost): answered on Lambda, in order. A drain that turns out not to be needed finds the
   * lock held, or the queue empty, and ends at once.
   */
  async function sweepQueues(taskUsers: Set<string>, report: WatchdogReport) {
    // A failed read skips this sweep's queue check only, not the zombie-task checks after it.
    const waiting = await deps.queues.listWaitingUsers().catch((error: unknown) => {
      logger.error('watchdog could not list waiting queues', { error: error as Error });
      return [];
    });
    for (const { userId, oldestSeq } of waiting) {
      // A task owns its user's queue; the task checks above look after it.
      if (taskUsers.has(userId)) continue;
      // `seq` starts with the message's receivedAt (pending-messages.ts `pendingSeq`).
      const receivedAt = Date.parse(oldestSeq.slice(0, oldestSeq.indexOf('#')));
      if (!(now() - receivedAt >= strandedQueueMs)) continue;
      try {
        if (await deps.lockHeld(userId)) continue;
        logger.warn('queue with nobody answering it; draining it on Lambda', { userId });
        report.resumedQueues.push(userId);
        await deps.drainOnLambda(userId);
      } catch (error) {
        logger.error('watchdog queue check failed', { userId, error: error as Error });
      }
    }
  }

  return async function sweep(): Promise<WatchdogReport> {
    const report: WatchdogReport = {
      stoppedIdle: [],
      stoppedZombies: [],
      failedStarts: [],
      recoveredDeadTasks: [],
      resumedQueues: [],
    };
    const records = await taskState.listActive();
    const ids = records.flatMap((record) => (record.taskId ? [record.taskId] : []));
    const infos = new Map(
      (ids.length ? await launcher.describe(ids) : []).map((info) => [info.taskId, info]),
    );

    for (const state of records) {
      const info = state.taskId ? infos.get(state.taskId) : undefined;
      try {
        if (state.status === 'starting') await checkStarting(state, info, report);
        else if (state.status === 'running') await checkRunning(state, info, report);
        else if (state.status === 'stopping') await checkStopping(state, info, report);
      } catch (error) {
        // One user's trouble must not stop the sweep for everyone else; the next sweep tries again.
        logger.error('watchdog check failed', { userId: state.userId, error: error as Error });
      }
    }

    // Users with a task record are left to the checks above (which may have resumed their queue already).
    await sweepQueues(new Set(records.map((record) => record.userId)), report);

    const owned = new Set(ids);
    for (const task of await launcher.list()) {
      if (owned.has(task.taskId) || now() - task.startedAt < zombieGraceMs) continue;
      // Read again: the task may have been recorded since the sweep began.
      const stillUnowned = !(await taskState.listActive()).some((record) => record.taskId === task.taskId);
      if (!stillUnowned) continue;
      logger.warn('stopping a task no record owns', { taskId: task.taskId });
      await launcher.stop(task.taskId, 'no user record owns this task');
      report.stoppedZombies.push(task.taskId);
    }
    return report;
  };
}

export type Watchdog = ReturnType<typeof createWatchdog>;
