import { createHash } from 'node:crypto';
import {
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ECSClient,
  type Failure,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandOutput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { traced } from '../../bus/observability.ts';
import {
  type LaunchRequest,
  type ListedTask,
  type TaskInfo,
  TaskLaunchError,
  type TaskLauncher,
  type TaskRunState,
} from './task-launcher.ts';

/** Where and how the agent's Fargate Spot tasks run. */
export interface EcsLauncherOptions {
  /** @default a new `ECSClient` with the ambient region and credentials */
  client?: ECSClient;
  /** Cluster name or ARN. */
  cluster: string;
  /** Task definition `family`, `family:revision` or ARN. */
  taskDefinition: string;
  /** The container whose environment the launch request overrides. */
  containerName: string;
  /** Public subnets: tasks get a public IP instead of going through a NAT gateway. */
  subnets: string[];
  /** Security groups without inbound rules. */
  securityGroups: string[];
  /**
   * Prefix of each task's `startedBy`, which is `<prefix>-<hash of the user id>` so a user's tasks can
   * be listed with `ListTasks({ startedBy })`. Letters, digits, `-`, `_` and `/`, at most 20 characters.
   * @default 'openclaw'
   */
  startedBy?: string;
}

/** ECS limits: DescribeTasks takes at most 100 ids, StopTask's reason at most 255 characters. */
const DESCRIBE_BATCH = 100;
const MAX_REASON_LENGTH = 255;
const MAX_STARTED_BY_LENGTH = 36;
const MAX_PREFIX_LENGTH = 20;

const RETRYABLE_ERROR_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServerException',
]);

/**
 * The `startedBy` value of a user's tasks. The user id is hashed because `startedBy` allows only a
 * short, restricted alphabet, and so the raw id (often a phone-number-like chat id) stays out of the
 * ECS console and event stream.
 */
export function startedByForUser(userId: string, prefix = 'openclaw'): string {
  if (!/^[A-Za-z0-9_/-]+$/.test(prefix) || prefix.length > MAX_PREFIX_LENGTH) {
    throw new Error(`startedBy prefix must be 1-${MAX_PREFIX_LENGTH} of [A-Za-z0-9_/-], got ${prefix}`);
  }
  const hashLength = MAX_STARTED_BY_LENGTH - prefix.length - 1;
  return `${prefix}-${createHash('sha256').update(userId).digest('hex').slice(0, hashLength)}`;
}

/**
 * A {@link TaskLauncher} that runs the agent container on Fargate Spot with ECS `RunTask`, `StopTask`
 * and `DescribeTasks`. Task ids are task ARNs.
 */
export function createEcsLauncher(options: EcsLauncherOptions): TaskLauncher {
  const client = options.client ?? traced(new ECSClient({}));
  const { cluster } = options;
  const prefix = options.startedBy ?? 'openclaw';
  // Fail at construction, not on the first user's message.
  startedByForUser('', prefix);

  async function start(request: LaunchRequest): Promise<{ taskId: string }> {
    let output: RunTaskCommandOutput;
    try {
      output = await client.send(
        new RunTaskCommand({
          cluster,
          taskDefinition: options.taskDefinition,
          count: 1,
          // A capacity provider strategy and a launch type are mutually exclusive: Spot needs the former.
          capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: options.subnets,
              securityGroups: options.securityGroups,
              assignPublicIp: 'ENABLED',
            },
          },
          overrides: {
            containerOverrides: [
              {
                name: options.containerName,
                environment: Object.entries(request.environment).map(([name, value]) => ({ name, value })),
              },
            ],
          },
          startedBy: startedByForUser(request.userId, prefix),
          propagateTags: 'TASK_DEFINITION',
          enableExecuteCommand: false,
          // Without a key the SDK generates one per call, which still makes its own retries idempotent.
          ...(request.idempotencyKey ? { clientToken: request.idempotencyKey } : {}),
        }),
      );
    } catch (error) {
      throw new TaskLaunchError(`RunTask failed: ${(error as Error).message}`, {
        retryable: isRetryableError(error),
        cause: error,
      });
    }
    const taskArn = output.tasks?.[0]?.taskArn;
    if (taskArn) return { taskId: taskArn };
    // RunTask reports placement problems (e.g. no Spot capacity) as HTTP 200 with failures[].
    const failures = output.failures ?? [];
    const summary = failures.map((f) => [f.reason, f.detail].filter(Boolean).join(': ')).join('; ');
    throw new TaskLaunchError(`RunTask started no task: ${summary || 'no failure reported'}`, {
      retryable: failures.length === 0 || failures.some(isCapacityFailure),
    });
  }

  async function stop(taskId: string, reason: string): Promise<void> {
    try {
      await client.send(
        new StopTaskCommand({ cluster, task: taskId, reason: reason.slice(0, MAX_REASON_LENGTH) }),
      );
    } catch (error) {
      // ECS answers InvalidParameterException for a task it does not know (long gone or never was):
      // for a stop, that is the goal already reached.
      if ((error as Error).name === 'InvalidParameterException') return;
      throw error;
    }
  }

  async function describe(taskIds: string[]): Promise<TaskInfo[]> {
    const batches: string[][] = [];
    for (let i = 0; i < taskIds.length; i += DESCRIBE_BATCH)
      batches.push(taskIds.slice(i, i + DESCRIBE_BATCH));
    const outputs: DescribeTasksCommandOutput[] = await Promise.all(
      batches.map((tasks) => client.send(new DescribeTasksCommand({ cluster, tasks }))),
    );
    const tasks = new Map<string, Task>();
    const failures = new Map<string, Failure>();
    for (const output of outputs) {
      for (const task of output.tasks ?? []) {
        if (!task.taskArn) continue;
        tasks.set(task.taskArn, task);
        tasks.set(shortId(task.taskArn), task);
      }
      for (const failure of output.failures ?? []) {
        if (!failure.arn) continue;
        failures.set(failure.arn, failure);
        failures.set(shortId(failure.arn), failure);
      }
    }
    return taskIds.map((taskId) => {
      const task = tasks.get(taskId) ?? tasks.get(shortId(taskId));
      if (!task) {
        const failure = failures.get(taskId) ?? failures.get(shortId(taskId));
        return { taskId, state: 'stopped', stoppedReason: failure?.reason ?? 'MISSING' };
      }
      const state = taskRunState(task);
      return state === 'stopped' && task.stoppedReason
        ? { taskId, state, stoppedReason: task.stoppedReason }
        : { taskId, state };
    });
  }

  /** ListTasks pages through the cluster's live tasks; DescribeTasks adds when each was created. */
  async function list(): Promise<ListedTask[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100, nextToken }),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const listed: ListedTask[] = [];
    for (let i = 0; i < arns.length; i += DESCRIBE_BATCH) {
      const output = await client.send(
        new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + DESCRIBE_BATCH) }),
      );
      for (const task of output.tasks ?? []) {
        // Only ours: the cluster is the agent's, but someone may run a one-off task in it by hand.
        if (!task.taskArn || !task.startedBy?.startsWith(`${prefix}-`)) continue;
        // Only live tasks can be zombies; one that is stopping is on its way out already.
        const state = taskRunState(task);
        if (state === 'stopped' || state === 'stopping') continue;
        listed.push({ taskId: task.taskArn, startedAt: task.createdAt?.getTime() ?? 0 });
      }
    }
    return listed;
  }

  return { start, stop, describe, list };
}

/**
 * Maps an ECS task's status to the launcher's coarse state. A task told to stop is `stopping` until ECS
 * reports it STOPPED: during its stop timeout it is still saving state and handing back its message.
 */
export function taskRunState(task: Pick<Task, 'lastStatus' | 'desiredStatus'>): TaskRunState {
  switch (task.lastStatus) {
    case 'STOPPED':
      return 'stopped';
    case 'DEACTIVATING':
    case 'STOPPING':
    case 'DEPROVISIONING':
      return 'stopping';
    case 'RUNNING':
      return task.desiredStatus === 'STOPPED' ? 'stopping' : 'running';
    default:
      return task.desiredStatus === 'STOPPED' ? 'stopping' : 'pending';
  }
}

/** Capacity shortages pass; misconfiguration (MISSING, ATTRIBUTE) will fail the same way next time. */
function isCapacityFailure(failure: Failure): boolean {
  const text = `${failure.reason ?? ''} ${failure.detail ?? ''}`;
  return /^RESOURCE:/.test(failure.reason ?? '') || /capacity/i.test(text) || failure.reason === 'AGENT';
}

function isRetryableError(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown };
  if (e.$retryable || RETRYABLE_ERROR_NAMES.has(e.name ?? '')) return true;
  // Client faults (bad parameters, access denied, missing cluster) repeat; network and server ones may not.
  return e.$fault !== 'client';
}

/** The id at the end of a task ARN (`arn:aws:ecs:…:task/cluster/<id>`), or the input if it is one. */
function shortId(taskIdOrArn: string): string {
  return taskIdOrArn.slice(taskIdOrArn.lastIndexOf('/') + 1);
}
