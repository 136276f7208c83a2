import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createPublisher } from '../../bus/index.ts';
import { observe } from '../../bus/observability.ts';
import { createStorage } from '../../schemas/table.ts';
import { jobStoreFromEnv } from '../schedule/job-store-from-env.ts';
import { createIdentity, parseAllowedUsers } from '../shared/identity.ts';
import { createSlackProducer } from './handler.ts';
import { createNoticeSender } from './notice-sender.ts';
import { createSecrets } from './secrets.ts';

/**
 * Lambda entry for `POST /webhooks/slack`, wired from the environment: TABLE_NAME, EVENT_BUS_NAME,
 * ALLOWED_USERS (comma-separated `slack:<user id>`), SECRETS_PREFIX (SSM, else SLACK_SIGNING_SECRET and
 * SLACK_BOT_TOKEN from the environment), and optionally SLACK_API_URL (a loopback fake in tests and local
 * mode), SLACK_COMMAND (the slash command's name, default `/openclaw`), SLACK_BOT_USER_ID, and the
 * SCHEDULE_* settings of `jobStoreFromEnv` (for `/openclaw schedule`).
 */
function createFromEnv() {
  const logger = new Logger({ serviceName: 'slack-producer' });
  const storage = createStorage();
  const secret = createSecrets();
  const allowedUsers = parseAllowedUsers(process.env.ALLOWED_USERS);
  return createSlackProducer({
    storage,
    publisher: createPublisher(),
    identity: createIdentity({ storage, allowedUsers }),
    signingSecret: () => secret('SLACK_SIGNING_SECRET'),
    notices: createNoticeSender({
      botToken: () => secret('SLACK_BOT_TOKEN'),
      ...(process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {}),
      logger,
    }),
    logger,
    ...(process.env.SLACK_COMMAND ? { commandName: process.env.SLACK_COMMAND } : {}),
    ...(process.env.SLACK_BOT_USER_ID ? { botUserId: process.env.SLACK_BOT_USER_ID } : {}),
    jobs: jobStoreFromEnv(storage),
  });
}

let slackProducer: ReturnType<typeof createSlackProducer> | undefined;

async function entry(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  slackProducer ??= createFromEnv();
  return slackProducer(event);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
