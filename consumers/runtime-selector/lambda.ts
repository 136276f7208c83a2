import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { createEcsLauncher } from '../../agent/launchers/ecs-launcher.ts';
import type { ListedTask, TaskLauncher } from '../../agent/launchers/task-launcher.ts';
import { resolveIdleTimeoutMs } from '../../agent/llm-settings.ts';
import { createPendingMessages } from '../../agent/runtime/pending-messages.ts';
import { createTaskStateStore } from '../../agent/runtime/task-state.ts';
import { isSessionLockLive } from '../../agent/session-lock.ts';
import { createPublisher } from '../../bus/index.ts';
import { createMetrics, MetricNames, MetricUnit, observe, traced } from '../../bus/observability.ts';
import type { AgentInvocation } from '../../schemas/agent-invocation.ts';
import { type BusEnvelope, RuntimePreferenceSchema } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';
import { createRuntimeSelector } from './handler.ts';
import { createWatchdog, type WatchdogReport } from './watchdog.ts';

/**
 * The runtime selector's and the watchdog's Lambda entries, wired from the environment the CDK app sets:
 * TABLE_NAME, EVENT_BUS_NAME, AGENT_FUNCTION_NAME, ECS_CLUSTER, ECS_TASK_DEFINITION, ECS_CONTAINER_NAME,
 * ECS_SUBNETS and ECS_SECURITY_GROUPS (comma-separated), DEFAULT_RUNTIME and IDLE_TIMEOUT_MS.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const list = (name: string) =>
  required(name)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function createDeps() {
  // One entry, two functions: each names itself through POWERTOOLS_SERVICE_NAME.
  const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'runtime-selector' });
  const storage = createStorage();
  const lambda = traced(new LambdaClient({}));
  const agentFunction = required('AGENT_FUNCTION_NAME');
  const idleTimeoutMs = Number(process.env.IDLE_TIMEOUT_MS) || 15 * 60_000;
  const launcher = createEcsLauncher({
    cluster: required('ECS_CLUSTER'),
    taskDefinition: required('ECS_TASK_DEFINITION'),
    containerName: required('ECS_CONTAINER_NAME'),
    subnets: list('ECS_SUBNETS'),
    securityGroups: list('ECS_SECURITY_GROUPS'),
  });
  const taskState = createTaskStateStore(storage);
  const pending = createPendingMessages(storage);
  // The watchdog lists the running tasks every sweep: keep the list for the oldest-task metric.
  let listed: ListedTask[] = [];
  const watchedLauncher: TaskLauncher = {
    ...launcher,
    list: async () => (listed = await launcher.list()),
  };
  const selector = createRuntimeSelector({
    storage,
    publisher: createPublisher(),
    taskState,
    pending,
    launcher,
    // Event: Lambda queues it and returns at once; its retries and dead-letter queue are the agent
    // function's asynchronous-invocation settings (bus/routing-table.ts TARGETS.agent).
    invokeAgent: async (invocation: AgentInvocation) => {
      const output = await lambda.send(
        new InvokeCommand({
          FunctionName: agentFunction,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(invocation)),
        }),
      );
      if (output.StatusCode !== 202) throw new Error(`agent invoke returned ${output.StatusCode}`);
    },
    // Everything else the container needs is in its task definition.
    launchEnvironment: async (userId) => ({
      USER_ID: userId,
      IDLE_TIMEOUT_MS: String(await resolveIdleTimeoutMs(storage, userId, idleTimeoutMs)),
    }),
    defaultRuntime: RuntimePreferenceSchema.catch('lambda').parse(process.env.DEFAULT_RUNTIME),
    logger,
  });
  const watchdog = createWatchdog({
    taskState,
    launcher: watchedLauncher,
    resumePending: selector.resumePending,
    drainOnLambda: selector.fallBackToLambda,
    queues: pending,
    lockHeld: (userId) => isSessionLockLive(storage, userId),
    logger,
    idleTimeoutMs,
  });
  return { selector, watchdog, logger, listedTasks: () => listed };
}

let deps: ReturnType<typeof createDeps> | undefined;

const selectorMetrics = createMetrics('runtime-selector');
const watchdogMetrics = createMetrics('runtime-watchdog');

/** Bus target: `MessageReceived` and `PendingMessagesWaiting`. Throws only on infrastructure errors, so the bus retries. */
export const handler = observe(
  middy<BusEnvelope, void>().handler(async (event) => {
    deps ??= createDeps();
    await deps.selector.handleEvent(event);
    if (event['detail-type'] !== 'MessageReceived.v1') return;
    // Counted once handled (a retried delivery that failed first counts once). The channel is metadata,
    // not a dimension: one billed metric whatever the channels.
    const channel = (event.detail as { replyTo?: { channel?: unknown } }).replyTo?.channel;
    if (typeof channel === 'string') selectorMetrics.addMetadata('channel', channel);
    selectorMetrics.addMetadata('source', event.source);
    selectorMetrics.addMetric(MetricNames.messagesReceived, MetricUnit.Count, 1);
  }),
  { metrics: [selectorMetrics] },
);

/** Scheduled every minute or so: see `watchdog.ts`. */
export const watchdogHandler = observe(
  middy<unknown, WatchdogReport>().handler(async () => {
    deps ??= createDeps();
    const report = await deps.watchdog();
    deps.logger.info('watchdog sweep', { ...report });
    // Only while a task runs: a metric with no data costs nothing, and the long-task alarm reads this.
    const oldest = Math.min(...deps.listedTasks().map((task) => task.startedAt));
    if (Number.isFinite(oldest))
      watchdogMetrics.addMetric(
        MetricNames.oldestTaskAgeSeconds,
        MetricUnit.Seconds,
        Math.max(0, Math.round((Date.now() - oldest) / 1000)),
      );
    return report;
  }),
  { metrics: [watchdogMetrics] },
);
