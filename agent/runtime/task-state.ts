import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { Condition } from 'dynamodb-toolbox/entity/actions/parseCondition';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand, type UpdateItemInput } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import {
  ACTIVE_TASK_MARK,
  ACTIVE_TASKS_INDEX,
  isConditionalCheckFailure,
  type Storage,
} from '../../schemas/table.ts';

/** Where the user's Fargate task is in its lifecycle. */
export type TaskStatus = 'idle' | 'starting' | 'running' | 'stopping';

/** The user's task record. A user who never had a task reads as idle at version 0. */
export interface TaskState {
  userId: string;
  status: TaskStatus;
  /** ECS task ARN, or `local:<pid>` in local mode; set once the launch returned it. */
  taskId?: string;
  /** Epoch ms of the last transition. */
  changedAt: number;
  /** Epoch ms of the last message the task took; the watchdog's idle clock. */
  lastActivityAt?: number;
  /** Increments on every transition (not on `touch`), so each write is conditional on what it read. */
  version: number;
}

/** A transition's precondition did not hold: someone else moved the state first, or it is the wrong task. */
export class TaskStateConflictError extends Error {
  /** The state as read after the refusal, so the caller can decide what to do next. */
  readonly current: TaskState;

  constructor(action: string, current: TaskState, options?: ErrorOptions) {
    super(
      `Cannot ${action} for user ${current.userId}: task is ${current.status}` +
        (current.taskId ? ` (${current.taskId})` : '') +
        ` at version ${current.version}`,
      options,
    );
    this.name = 'TaskStateConflictError';
    this.current = current;
  }
}

export interface TaskStateStoreOptions {
  /** @default Date.now */
  now?: () => number;
}

/** Lets a caller pin a transition to the start it won, so a start the watchdog gave up on cannot claim a later one. */
export interface StartGuard {
  /** The `version` that `beginStart` returned to the winner. */
  version?: number;
}

export interface BeginStopOptions {
  /**
   * Stop only if the task took no message at or after this epoch ms. The watchdog passes the cut-off it
   * judged idleness by, so a message that arrives between its read and its write keeps the task alive.
   */
  inactiveSince?: number;
}

type TaskStateCondition = Condition<Storage['TaskStateEntity']>;

/**
 * The per-user task lifecycle (idle -> starting -> running -> stopping -> idle; starting -> idle on
 * failure) as one DynamoDB item. Every transition reads the item and writes the next state on condition
 * that the status and version are still what it read, so concurrent callers cannot both make the same
 * move: of N callers of `beginStart`, exactly one wins and launches the task.
 */
export function createTaskStateStore(storage: Storage, options: TaskStateStoreOptions = {}) {
  const now = options.now ?? Date.now;
  const entity = storage.TaskStateEntity;

  async function get(userId: string): Promise<TaskState> {
    const { Item } = await entity.build(GetItemCommand).key({ userId }).options({ consistent: true }).send();
    if (!Item) return { userId, status: 'idle', changedAt: 0, version: 0 };
    const { activeTask: _index, ...state } = Item;
    return state;
  }

  /** The state we read is still the state in the table. */
  function unchanged(read: TaskState): TaskStateCondition {
    // Version 0 is only ever the missing item: nothing we write has it.
    if (read.version === 0) return { attr: 'version', exists: false };
    return {
      and: [
        { attr: 'version', eq: read.version },
        { attr: 'status', eq: read.status },
      ],
    };
  }

  /**
   * Writes `next` over `read` if nobody changed it meanwhile. Put, not update: a transition owns the whole
   * record, so fields of the previous phase (taskId, lastActivityAt) go away when it returns to idle.
   * @returns false when the condition failed
   */
  async function replace(read: TaskState, next: TaskState, extra?: TaskStateCondition): Promise<boolean> {
    const condition = extra ? { and: [unchanged(read), extra] } : unchanged(read);
    // Every status but idle is listed in the sparse index the watchdog sweeps.
    const item = next.status === 'idle' ? next : { ...next, activeTask: ACTIVE_TASK_MARK };
    try {
      await entity.build(PutItemCommand).item(item).options({ condition }).send();
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Updates fields that are not a transition (no version bump), if `condition` holds.
   * @returns false when the condition failed
   */
  async function updateIf(
    item: UpdateItemInput<Storage['TaskStateEntity']>,
    condition: TaskStateCondition,
  ): Promise<boolean> {
    try {
      await entity.build(UpdateItemCommand).item(item).options({ condition }).send();
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  /**
   * One guarded transition: check the precondition on a fresh read (a cheap, readable refusal), then write
   * conditionally (the refusal that holds under concurrency).
   */
  async function transition(
    action: string,
    userId: string,
    allowed: (state: TaskState) => boolean,
    next: (state: TaskState, at: number) => TaskState,
    extra?: TaskStateCondition,
  ): Promise<TaskState> {
    const read = await get(userId);
    if (!allowed(read)) throw new TaskStateConflictError(action, read);
    const written = next(read, now());
    if (await replace(read, written, extra)) return written;
    throw new TaskStateConflictError(action, await get(userId));
  }

  const idle = (userId: string, at: number, version: number): TaskState => ({
    userId,
    status: 'idle',
    changedAt: at,
    version,
  });

  const matchesVersion = (state: TaskState, guard?: StartGuard) =>
    guard?.version === undefined || guard.version === state.version;

  return {
    /** The user's current task state, read consistently. */
    get,

    /**
     * Idle (or never started) -> starting. Of concurrent callers exactly one wins and must launch the task
     * (then call `markRunning` or `markStartFailed`); the others get the state the winner left, to queue
     * their message behind the start.
     */
    async beginStart(userId: string): Promise<{ won: boolean; state: TaskState }> {
      // Retry only while the state reads idle: a lost race against a start that has since failed back to
      // idle is a fresh chance, not a loss.
      for (let tries = 0; tries < 5; tries++) {
        const read = await get(userId);
        if (read.status !== 'idle') return { won: false, state: read };
        const next: TaskState = { userId, status: 'starting', changedAt: now(), version: read.version + 1 };
        if (await replace(read, next)) return { won: true, state: next };
      }
      return { won: false, state: await get(userId) };
    },

    /**
     * Notes the id of the task the winner of `beginStart` launched, while it is still starting, so the
     * watchdog can check on it and the container can claim it. Not a transition: the version stays.
     * @returns false when the state is no longer this start (the watchdog gave up on it, or the container
     * was quicker and is already running under this id: check with `get`)
     */
    recordLaunch(userId: string, taskId: string, guard: StartGuard): Promise<boolean> {
      return updateIf(
        { userId, taskId },
        {
          and: [
            { attr: 'status', eq: 'starting' },
            ...(guard.version === undefined ? [] : [{ attr: 'version', eq: guard.version } as const]),
            {
              or: [
                { attr: 'taskId', exists: false },
                { attr: 'taskId', eq: taskId },
              ],
            },
          ],
        },
      );
    },

    /**
     * Starting -> running: the container calls this once it is ready to take messages. The record must
     * be starting and name this task (or no task yet, if the container came up before the launch was
     * recorded).
     * @throws TaskStateConflictError when the state is no longer starting or names another task
     */
    markRunning(userId: string, taskId: string, guard?: StartGuard): Promise<TaskState> {
      return transition(
        'mark the task running',
        userId,
        (state) =>
          state.status === 'starting' &&
          (state.taskId === undefined || state.taskId === taskId) &&
          matchesVersion(state, guard),
        (state, at) => ({
          userId,
          status: 'running',
          taskId,
          changedAt: at,
          lastActivityAt: at,
          version: state.version + 1,
        }),
      );
    },

    /**
     * Starting -> idle, when the launch failed; the next message may start again.
     * @throws TaskStateConflictError when the state is no longer starting (or no longer the guarded start)
     */
    markStartFailed(userId: string, guard?: StartGuard): Promise<TaskState> {
      return transition(
        'mark the start failed',
        userId,
        (state) => state.status === 'starting' && matchesVersion(state, guard),
        (state, at) => idle(userId, at, state.version + 1),
      );
    },

    /**
     * Refreshes the idle clock of a running task. Not a transition: the version stays, so a concurrent
     * transition is not refused because of it.
     * @returns false when the task is not running or is another task (it should stop taking messages)
     */
    touch(userId: string, taskId: string): Promise<boolean> {
      return updateIf(
        { userId, lastActivityAt: now() },
        {
          and: [
            { attr: 'status', eq: 'running' },
            { attr: 'taskId', eq: taskId },
          ],
        },
      );
    },

    /**
     * Running -> stopping for this task, before calling StopTask.
     * @throws TaskStateConflictError when it is not running, is another task, or took a message since `inactiveSince`
     */
    beginStop(userId: string, taskId: string, options: BeginStopOptions = {}): Promise<TaskState> {
      const { inactiveSince } = options;
      const quiet = (state: TaskState) =>
        inactiveSince === undefined ||
        state.lastActivityAt === undefined ||
        state.lastActivityAt < inactiveSince;
      return transition(
        'begin stopping the task',
        userId,
        (state) => state.status === 'running' && state.taskId === taskId && quiet(state),
        (state, at) => ({ ...state, status: 'stopping', changedAt: at, version: state.version + 1 }),
        inactiveSince === undefined
          ? undefined
          : {
              // `touch` does not bump the version, so the idle clock needs its own condition.
              or: [
                { attr: 'lastActivityAt', exists: false },
                { attr: 'lastActivityAt', lt: inactiveSince },
              ],
            },
      );
    },

    /**
     * Stopping or running -> idle for this task, once it is gone (it stopped itself, or crashed, or the
     * watchdog stopped it).
     * @throws TaskStateConflictError when the record belongs to another task or is not running/stopping
     */
    markStopped(userId: string, taskId: string): Promise<TaskState> {
      return transition(
        'mark the task stopped',
        userId,
        (state) => (state.status === 'running' || state.status === 'stopping') && state.taskId === taskId,
        (state, at) => idle(userId, at, state.version + 1),
      );
    },

    /**
     * Starting for longer than `olderThanMs` -> idle: the starter died between winning and reporting. For
     * the watchdog, so it does not throw when there is nothing to reset.
     * @returns whether the record was reset
     */
    async resetStuckStart(userId: string, olderThanMs: number): Promise<boolean> {
      const read = await get(userId);
      const at = now();
      if (read.status !== 'starting' || at - read.changedAt < olderThanMs) return false;
      return replace(read, idle(userId, at, read.version + 1));
    },

    /** Every record that is not idle (starting, running, stopping), from the sparse index. */
    async listActive(): Promise<TaskState[]> {
      const { Items = [] } = await storage.table
        .build(QueryCommand)
        .entities(entity)
        .query({ index: ACTIVE_TASKS_INDEX, partition: ACTIVE_TASK_MARK })
        .options({ maxPages: Number.POSITIVE_INFINITY })
        .send();
      return Items.map(({ activeTask: _index, ...state }) => state);
    },
  };
}

/** The store `createTaskStateStore` returns. */
export type TaskStateStore = ReturnType<typeof createTaskStateStore>;
