import { type ChildProcess, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  type LaunchRequest,
  type ListedTask,
  type TaskInfo,
  TaskLaunchError,
  type TaskLauncher,
} from './task-launcher.ts';

/** The few logger methods the local launcher uses; the Powertools logger fits. */
export interface LocalLauncherLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

/** How local mode runs the container entry as a child process. */
export interface LocalLauncherOptions {
  /** Path of the container entry script, run as `nodePath entry`. */
  entry: string;
  /** @default process.execPath (the Node running this process) */
  nodePath?: string;
  /** Environment for every child, on top of this process's and under each request's. */
  env?: Record<string, string>;
  /**
   * Which of this process's variables a child inherits, e.g. not the chat bots' tokens: the agent runs
   * tools on a user's behalf and should hold no more secrets than on AWS. @default all
   */
  inheritEnv?: (name: string) => boolean;
  /**
   * Receives each line the children print, tagged with the task id, and lifecycle events.
   * @default none: children share this process's stdout and stderr
   */
  logger?: LocalLauncherLogger;
  /**
   * How long `stop` waits after SIGTERM before sending SIGKILL: longer than the worker's own shutdown
   * grace (20 s), so it can finish or hand back its message, as ECS's 30 s stopTimeout allows. @default 30000
   */
  stopGraceMs?: number;
}

/** A {@link TaskLauncher} for local mode, with `stopAll` for shutting down the host process. */
export interface LocalLauncher extends TaskLauncher {
  /** Stops every child still running (SIGTERM, then SIGKILL after the grace period). */
  stopAll(reason?: string): Promise<void>;
}

interface Child {
  process: ChildProcess;
  startedAt: number;
  exited: Promise<void>;
  stopping?: Promise<void>;
  stoppedReason?: string;
  /** Set once the process has exited. */
  exit?: string;
}

/**
 * Runs the Fargate container entry as a local child process, so local mode exercises the same
 * start/stop/describe lifecycle as ECS. Task ids are `local:<pid>`.
 */
export function createLocalLauncher(options: LocalLauncherOptions): LocalLauncher {
  const nodePath = options.nodePath ?? process.execPath;
  const graceMs = options.stopGraceMs ?? 30_000;
  const { logger } = options;
  const children = new Map<string, Child>();
  const inheritedEnv = () =>
    options.inheritEnv
      ? Object.fromEntries(Object.entries(process.env).filter(([name]) => options.inheritEnv?.(name)))
      : process.env;
  const byIdempotencyKey = new Map<string, string>();

  async function start(request: LaunchRequest): Promise<{ taskId: string }> {
    const existing = request.idempotencyKey ? byIdempotencyKey.get(request.idempotencyKey) : undefined;
    if (existing) return { taskId: existing };
    // A missing entry would otherwise look like a task that starts and dies at once.
    await access(options.entry).catch((error: unknown) => {
      throw new TaskLaunchError(`Container entry not found: ${options.entry}`, {
        retryable: false,
        cause: error,
      });
    });
    const child = spawn(nodePath, [options.entry], {
      env: { ...inheritedEnv(), ...options.env, ...request.environment },
      stdio: ['ignore', logger ? 'pipe' : 'inherit', logger ? 'pipe' : 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(
          new TaskLaunchError(`Could not spawn ${nodePath}: ${error.message}`, {
            retryable: false,
            cause: error,
          }),
        ),
      );
    });
    const taskId = `local:${child.pid}`;
    const entry = { process: child, startedAt: Date.now() } as Child;
    entry.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        entry.exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        logger?.info('Local agent task exited', { taskId, exit: entry.exit });
        resolve();
      });
    });
    if (logger) {
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on('line', (line) => logger.info(line, { taskId }));
      }
    }
    // A pid can be reused after an old child exited; the new child replaces its record.
    children.set(taskId, entry);
    if (request.idempotencyKey) byIdempotencyKey.set(request.idempotencyKey, taskId);
    logger?.info('Local agent task started', { taskId, userId: request.userId });
    return { taskId };
  }

  function stop(taskId: string, reason: string): Promise<void> {
    const entry = children.get(taskId);
    if (!entry || entry.exit) return Promise.resolve();
    // Concurrent stops share one SIGTERM/SIGKILL sequence.
    entry.stopping ??= (async () => {
      entry.stoppedReason = reason;
      logger?.info('Stopping local agent task', { taskId, reason });
      entry.process.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        entry.exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        logger?.warn('Local agent task ignored SIGTERM; killing it', { taskId, graceMs });
        entry.process.kill('SIGKILL');
        await entry.exited;
      }
    })();
    return entry.stopping;
  }

  async function describe(taskIds: string[]): Promise<TaskInfo[]> {
    return taskIds.map((taskId): TaskInfo => {
      const entry = children.get(taskId);
      if (!entry) return { taskId, state: 'stopped', stoppedReason: 'MISSING' };
      if (!entry.exit) return { taskId, state: entry.stopping ? 'stopping' : 'running' };
      return { taskId, state: 'stopped', stoppedReason: entry.stoppedReason ?? entry.exit };
    });
  }

  async function list(): Promise<ListedTask[]> {
    return [...children]
      .filter(([, entry]) => !entry.exit && !entry.stopping)
      .map(([taskId, entry]) => ({ taskId, startedAt: entry.startedAt }));
  }

  async function stopAll(reason = 'launcher shutting down'): Promise<void> {
    await Promise.all([...children.keys()].map((taskId) => stop(taskId, reason)));
  }

  return { start, stop, describe, list, stopAll };
}
