/**
 * The interface through which the runtime selector and the watchdog start, stop and inspect a user's
 * agent container. On AWS it is an ECS Fargate Spot task (`ecs-launcher.ts`); in local mode a child
 * process running the same container entry (`local-launcher.ts`).
 */

/** What to start: whose agent, and the environment the container entry reads. */
export interface LaunchRequest {
  /** The user the container serves; a launcher may hash it but never exposes it raw in AWS metadata. */
  userId: string;
  /**
   * Plain environment variables for the container. Only ids and settings belong here: task overrides
   * are visible to anyone who can describe the task, so secrets are fetched by the container itself.
   */
  environment: Record<string, string>;
  /**
   * Makes a retried start return the same task instead of a second one, e.g. the id of the lifecycle
   * record's Starting transition. ECS keeps the token for a limited time; up to 64 printable ASCII
   * characters.
   */
  idempotencyKey?: string;
}

/**
 * Coarse task state: `pending` may still become `running`; `stopping` was told to stop and is finishing
 * (within its stop timeout it may still hand back a message); `stopped` is gone and never comes back.
 */
export type TaskRunState = 'pending' | 'running' | 'stopping' | 'stopped';

/** The state of one task as the launcher sees it. */
export interface TaskInfo {
  taskId: string;
  state: TaskRunState;
  /** Why the task stopped, when known (the StopTask reason, a Spot interruption, an exit code). */
  stoppedReason?: string;
}

/** A task the launcher found running (or about to), for the watchdog's hunt for tasks nobody owns. */
export interface ListedTask {
  taskId: string;
  /** Epoch ms the task was created; a task younger than a few minutes may not be recorded yet. */
  startedAt: number;
}

/** Starts, stops, describes and lists agent containers. */
export interface TaskLauncher {
  /** Starts one container; throws {@link TaskLaunchError} when it cannot (e.g. no Spot capacity). */
  start(request: LaunchRequest): Promise<{ taskId: string }>;
  /** Asks the container to stop. Idempotent: stopping a stopped or unknown task resolves. */
  stop(taskId: string, reason: string): Promise<void>;
  /** Reports each id's state, in the order given; ids the launcher does not know come back `stopped`. */
  describe(taskIds: string[]): Promise<TaskInfo[]>;
  /** Every agent task that is not stopped (or told to stop), whoever started it. */
  list(): Promise<ListedTask[]>;
}

/**
 * A container could not be started. `retryable` says whether trying again later may succeed
 * (capacity, throttling, a server fault) or will fail the same way (bad configuration, permissions),
 * so the caller can choose between backing off and falling back to Lambda at once.
 */
export class TaskLaunchError extends Error {
  override readonly name = 'TaskLaunchError';
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}
