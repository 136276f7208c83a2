import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createPublisher } from '../bus/index.ts';
import { createMetrics, observe } from '../bus/observability.ts';
import { defaultLlmSettingsFromEnv } from '../schemas/llm-defaults.ts';
import { createSecretReader } from '../schemas/secrets.ts';
import { createStorage } from '../schemas/table.ts';
import { userSecretStoreFromEnv } from '../schemas/user-secrets.ts';
import { createInvocationHandler } from './invocation-handler.ts';
import { recordReply } from './metrics/turn-metrics.ts';
import { loadOpenClaw, type OpenClawAdapter } from './openclaw-adapter.ts';
import { createReplyImages } from './reply-images.ts';
import { createLambdaRuntime } from './runtime/lambda-runtime.ts';
import { createSessionStore } from './session-store.ts';
import { createSkillsSync } from './skills-sync.ts';
import { scheduleToolsFromEnv } from './tools/schedule-tools-from-env.ts';
import { createTurnRunner } from './turn-runner.ts';

const logger = new Logger({ serviceName: 'agent' });
// Reply latency, errors, tokens and their estimated cost, under the same names as the Fargate task's.
const metrics = createMetrics('agent');
let handleInvocation: ReturnType<typeof createInvocationHandler> | undefined;

// Importing OpenClaw takes 3–5 s. Lambda runs this module's top level in its init phase, before the
// event is delivered, so start it here: it then overlaps the runtime's start-up and the turn's own work
// (session lock, state restore from S3) instead of following them. Not awaited: a slow import must not
// run into the 10 s init limit. A failed attempt is forgotten and the turn loads again.
let adapter: Promise<OpenClawAdapter> | undefined;
function loadAdapter(): Promise<OpenClawAdapter> {
  adapter ??= loadOpenClaw().catch((error: unknown) => {
    adapter = undefined;
    throw error;
  });
  return adapter;
}
loadAdapter().catch((error: unknown) => logger.warn('OpenClaw preload failed', { error: error as Error }));

function createHandler(context: Context) {
  const storage = createStorage();
  const publisher = createPublisher();
  const owner = `lambda:${context.logStreamName}`;
  const runTurn = createTurnRunner({
    storage,
    publisher,
    sessionStore: createSessionStore(),
    loadAdapter,
    logger,
    // Not /tmp/openclaw: OpenClaw writes its own daily log there.
    workRoot: process.env.OPENCLAW_WORK_ROOT ?? '/tmp/openclaw-work',
    defaultLlm: defaultLlmSettingsFromEnv(),
    owner,
    reserveMs: 8_000,
    // On AWS, API keys are SSM SecureStrings under SECRETS_PREFIX; without it (tests), the environment.
    resolveSecret: createSecretReader(),
    // The turn's user's custom skills from STATE_BUCKET's skills/ prefix.
    syncSkills: createSkillsSync({ storage, publisher, logger }),
    // Users' own keys (settings page): SSM `<prefix>users/<userId>/…`, or files locally.
    userSecrets: userSecretStoreFromEnv(),
    // The agent's schedule tools, on EventBridge Scheduler (SCHEDULE_GROUP_NAME unset: no such tools).
    scheduleTools: scheduleToolsFromEnv(storage),
    onReply: (message, reply, model) => recordReply(metrics, message, reply, model),
    // Screenshots and other images of a reply, to STATE_BUCKET's media/ prefix for the channels.
    replyImages: createReplyImages({
      onSkip: (reason, detail) => logger.warn('reply image left out', { reason, ...detail }),
    }),
  });
  return createInvocationHandler({
    logger,
    ...createLambdaRuntime({ storage, publisher, runTurn, owner, logger }),
  });
}

/**
 * Lambda entry of the agent, invoked asynchronously by the runtime selector with an `AgentInvocation`:
 * one message (answered in order with the user's others), or the in-order drain of a user's queue. The
 * turn's abort is tied to this invocation's deadline.
 */
export const handler = observe(
  middy<unknown, void, Error, Context>().handler(async (event, context) => {
    handleInvocation ??= createHandler(context);
    await handleInvocation(event, Date.now() + context.getRemainingTimeInMillis());
  }),
  { coldStartAs: 'agent' },
);
