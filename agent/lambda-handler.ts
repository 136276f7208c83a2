import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createPublisher } from '../bus/index.ts';
import type { BusEnvelope } from '../schemas/index.ts';
import { createStorage } from '../schemas/table.ts';
import { defaultLlmSettingsFromEnv } from './llm-settings.ts';
import { createMessageHandler } from './message-handler.ts';
import { loadOpenClaw } from './openclaw-adapter.ts';
import { createSsmSecretResolver } from './secrets.ts';
import { createSessionStore } from './session-store.ts';
import { createTurnRunner } from './turn-runner.ts';

const logger = new Logger({ serviceName: 'agent' });
let handleMessage: ReturnType<typeof createMessageHandler> | undefined;

/**
 * Lambda entry of the agent: one turn per invocation. The event is the bus envelope of a
 * `MessageReceived`; the turn's abort is tied to this invocation's deadline.
 */
export async function handler(event: BusEnvelope, context: Context): Promise<void> {
  handleMessage ??= createMessageHandler({
    logger,
    runTurn: createTurnRunner({
      storage: createStorage(),
      publisher: createPublisher(),
      sessionStore: createSessionStore(),
      loadAdapter: () => loadOpenClaw(),
      logger,
      // Not /tmp/openclaw: OpenClaw writes its own daily log there.
      workRoot: process.env.OPENCLAW_WORK_ROOT ?? '/tmp/openclaw-work',
      defaultLlm: defaultLlmSettingsFromEnv(),
      owner: `lambda:${context.logStreamName}`,
      reserveMs: 8_000,
      // On AWS, API keys are SSM SecureStrings under SECRETS_PREFIX; without it (tests), the environment.
      ...(process.env.SECRETS_PREFIX
        ? { resolveSecret: createSsmSecretResolver({ prefix: process.env.SECRETS_PREFIX }) }
        : {}),
    }),
  });
  await handleMessage(event, Date.now() + context.getRemainingTimeInMillis());
}
