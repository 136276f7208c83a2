import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createEcsLauncher } from '../../agent/launchers/ecs-launcher.ts';
import { resolveIdleTimeoutMs } from '../../agent/llm-settings.ts';
import { createPendingMessages } from '../../agent/runtime/pending-messages.ts';
import { createTaskStateStore } from '../../agent/runtime/task-state.ts';
import { createPublisher } from '../../bus/index.ts';
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
  const lambda = new LambdaClient({});
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
  const selector = createRuntimeSelector({
    storage,
    publisher: createPublisher(),
    taskState,
    pending: createPendingMessages(storage),
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
    launcher,
    resumePending: selector.resumePending,
    drainOnLambda: selector.fallBackToLambda,
    logger,
    idleTimeoutMs,
  });
  return { selector, watchdog, logger };
}

let deps: ReturnType<typeof createDeps> | undefined;

/** Bus target: `MessageReceived` and `PendingMessagesWaiting`. Throws only on infrastructure errors, so the bus retries. */
export async function handler(event: BusEnvelope): Promise<void> {
  deps ??= createDeps();
  await deps.selector.handleEvent(event);
}

/** Scheduled every minute or so: see `watchdog.ts`. */
export async function watchdogHandler(): Promise<WatchdogReport> {
  deps ??= createDeps();
  const report = await deps.watchdog();
  deps.logger.info('watchdog sweep', { ...report });
  return report;
}
