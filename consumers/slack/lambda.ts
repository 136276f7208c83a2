import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { observe } from '../../bus/observability.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { createSlackConsumer, type InvocationContext } from './handler.ts';
import { createBotTokenReader } from './secrets.ts';
import { createSlackApi } from './slack-api.ts';

/**
 * Lambda entry for the `slack-consumer` bus target, wired from the environment: TABLE_NAME, SECRETS_PREFIX
 * (SSM, else SLACK_BOT_TOKEN from the environment) optionally SLACK_API_URL (a loopback fake in tests
 * and local mode) and STATE_BUCKET for reply images (without it, images are not sent). The time budget comes from the Lambda context.
 */
function createFromEnv() {
  const logger = new Logger({ serviceName: 'slack-consumer' });
  return createSlackConsumer({
    storage: createStorage(),
    slack: createSlackApi({
      botToken: createBotTokenReader(),
      ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
      logger,
    }),
    logger,
    ...(process.env.STATE_BUCKET ? { images: createReplyImageStore() } : {}),
  });
}

let slackConsumer: ReturnType<typeof createSlackConsumer> | undefined;

async function entry(envelope: BusEnvelope, context?: InvocationContext): Promise<void> {
  slackConsumer ??= createFromEnv();
  await slackConsumer(envelope, context);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(
  middy<BusEnvelope, void>().handler((envelope, context) => entry(envelope, context)),
);
