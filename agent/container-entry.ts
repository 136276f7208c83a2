import { Logger } from '@aws-lambda-powertools/logger';
import { createPublisher } from '../bus/index.ts';
import { createMetrics, MetricNames, MetricUnit } from '../bus/observability.ts';
import { defaultLlmSettingsFromEnv } from '../schemas/llm-defaults.ts';
import { createSecretReader } from '../schemas/secrets.ts';
import { createStorage } from '../schemas/table.ts';
import { userSecretStoreFromEnv } from '../schemas/user-secrets.ts';
import { browserOptionsFromEnv } from './browser/browser-from-env.ts';
import { closeManagedBrowser } from './browser/browser-process.ts';
import { createContainerWorker } from './container-worker.ts';
import { recordReply } from './metrics/turn-metrics.ts';
import { loadOpenClaw, type OpenClawAdapter } from './openclaw-adapter.ts';
import { createReplyImages } from './reply-images.ts';
import { createCrashReply } from './runtime/crash-reply.ts';
import { createPendingMessages } from './runtime/pending-messages.ts';
import { announcePendingWaiting } from './runtime/pending-waiting.ts';
import { createPredecessorGate } from './runtime/predecessor-gate.ts';
import { createTaskStateStore } from './runtime/task-state.ts';
import { userScopedS3CredentialsFromEnv } from './runtime/user-scoped-s3.ts';
import { createSessionStore } from './session-store.ts';
import { createSkillsSync } from './skills-sync.ts';
import { scheduleToolsFromEnv } from './tools/schedule-tools-from-env.ts';
import { createTurnRunner } from './turn-runner.ts';

/** A long run (browser automation, big tool chains) is why a message goes to Fargate at all. */
const DEFAULT_TURN_TIMEOUT_MS = 30 * 60_000;

/** A positive integer from the environment, or the default when unset or malformed. */
function intFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/**
 * This task's id as the selector recorded it: TASK_ID when set (local mode and tests), else the task
 * ARN from the ECS task metadata endpoint, else `local:<pid>` — what the local launcher names a child.
 */
export async function resolveTaskId(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.TASK_ID) return env.TASK_ID;
  const metadataUri = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!metadataUri) return `local:${process.pid}`;
  const response = await fetch(`${metadataUri}/task`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`ECS task metadata returned HTTP ${response.status}`);
  const { TaskARN } = (await response.json()) as { TaskARN?: unknown };
  if (typeof TaskARN !== 'string' || !TaskARN) throw new Error('ECS task metadata has no TaskARN');
  return TaskARN;
}

/**
 * Fargate container entry: serves one user's queued messages with the shared turn runner until the
 * idle timeout, or until SIGTERM (Spot interruption, StopTask), then exits 0.
 */
export async function main(): Promise<number> {
  const startedAt = Date.now();
  const logger = new Logger({ serviceName: 'agent-container' });
  // The same metrics as the agent Lambda's (service `agent`). awslogs does not mark EMF lines the way
  // Lambda does: metric filters on the task's log group turn them into metrics (agent-runtime.ts).
  const metrics = createMetrics('agent');
  const userId = process.env.USER_ID;
  if (!userId) throw new Error('No user: set USER_ID');
  const taskId = await resolveTaskId();
  logger.appendPersistentKeys({ userId, taskId });

  const storage = createStorage();
  const publisher = createPublisher();
  // S3 as this user only: the task role itself has no S3 rights (agent/runtime/user-scoped-s3.ts).
  const credentials = userScopedS3CredentialsFromEnv(userId);
  // Importing OpenClaw takes seconds: start now so the first queued message does not wait for it,
  // and load again on the next turn if this attempt failed.
  let adapter: Promise<OpenClawAdapter> | undefined;
  const loadAdapter = () => {
    adapter ??= loadOpenClaw().catch((error: unknown) => {
      adapter = undefined;
      throw error;
    });
    return adapter;
  };
  loadAdapter().catch((error: unknown) => logger.warn('OpenClaw warm-up failed', { error: error as Error }));
  // OpenClaw's browser tool, where this image or machine has a Chromium (agent/browser/browser-from-env.ts).
  const browser = await browserOptionsFromEnv();
  logger.info(browser ? 'browser tool on' : 'browser tool off: no Chromium', {
    executablePath: browser?.executablePath,
    allowedHostnames: browser?.allowedHostnames,
  });

  const worker = createContainerWorker({
    userId,
    taskId,
    taskState: createTaskStateStore(storage),
    pending: createPendingMessages(storage, {
      onUnreadable: (user, seq) => logger.error('unreadable queued message removed', { userId: user, seq }),
    }),
    mustWaitForPredecessor: createPredecessorGate({ storage }),
    runTurn: createTurnRunner({
      storage,
      publisher,
      sessionStore: createSessionStore({ credentials }),
      loadAdapter,
      logger,
      workRoot: process.env.OPENCLAW_WORK_ROOT ?? '/tmp/openclaw-work',
      defaultLlm: defaultLlmSettingsFromEnv(),
      owner: `fargate:${taskId}`,
      // On AWS, API keys are SSM SecureStrings under SECRETS_PREFIX; without it, the environment.
      resolveSecret: createSecretReader(),
      // The task's user's custom skills from STATE_BUCKET's skills/ prefix.
      syncSkills: createSkillsSync({ storage, publisher, logger, credentials }),
      // Users' own keys (settings page): SSM `<prefix>users/<userId>/…`, or files locally.
      userSecrets: userSecretStoreFromEnv(),
      // The agent's schedule tools, on EventBridge Scheduler (SCHEDULE_GROUP_NAME unset: no such tools).
      scheduleTools: scheduleToolsFromEnv(storage),
      ...(browser ? { browser } : {}),
      onReply: (message, reply, model) => recordReply(metrics, message, reply, model),
      // Screenshots and other images of a reply, to STATE_BUCKET's media/ prefix for the channels.
      replyImages: createReplyImages({
        credentials,
        onSkip: (reason, detail) => logger.warn('reply image left out', { reason, ...detail }),
      }),
    }),
    answerWithError: createCrashReply({ storage, publisher }),
    onPendingLeft: () => announcePendingWaiting(publisher, userId, 'task-exited'),
    logger,
    turnTimeoutMs: intFromEnv('TURN_TIMEOUT_MS', DEFAULT_TURN_TIMEOUT_MS),
    idleTimeoutMs: intFromEnv('IDLE_TIMEOUT_MS', 15 * 60_000),
    // ECS allows up to 120 s between SIGTERM and SIGKILL (the task definition's stopTimeout); the
    // grace plus the worker's 15 s to save an interrupted turn must fit inside it.
    shutdownGraceMs: intFromEnv('SHUTDOWN_GRACE_MS', 20_000),
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      logger.info('signal received', { signal });
      worker.stop();
    });
  }
  // The local launcher and tests wait for this line; keep its shape.
  process.stdout.write(`openclaw-container ready ${taskId}\n`);
  const exit = await worker.run();
  logger.info('container worker finished', { exit });
  // OpenClaw starts Chromium detached and nothing of it stops it without a gateway: close it ourselves.
  if (browser) await closeManagedBrowser(browser.portBase);
  // Fargate bills the task from its start; the process lives a few seconds less, close enough.
  metrics.addMetric(
    MetricNames.fargateTaskSeconds,
    MetricUnit.Seconds,
    Math.round((Date.now() - startedAt) / 1000),
  );
  metrics.publishStoredMetrics();
  return 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error('openclaw-container failed:', error);
      process.exit(1);
    },
  );
}
