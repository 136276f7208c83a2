import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createPublisher } from '../../bus/index.ts';
import { observe } from '../../bus/observability.ts';
import { createSecretReader } from '../../schemas/secrets.ts';
import { createStorage } from '../../schemas/table.ts';
import { jobStoreFromEnv } from '../schedule/job-store-from-env.ts';
import { parseAllowedUsers } from '../shared/identity.ts';
import { createDiscordProducer, type DiscordProducer } from './handler.ts';

/**
 * Lambda entry of the Discord Interactions endpoint (`POST /webhooks/discord` on the HTTP API), wired from
 * the environment: TABLE_NAME, EVENT_BUS_NAME, ALLOWED_USERS (comma-separated `discord:<user id>`),
 * WEB_APP_URL (optional: the web chat's address, shown to strangers), and SECRETS_PREFIX (DISCORD_PUBLIC_KEY is the SSM SecureString `<prefix>DISCORD_PUBLIC_KEY`; without a
 * prefix, the environment variable of that name), and the SCHEDULE_* settings of `jobStoreFromEnv`.
 */

let producer: DiscordProducer | undefined;

function createFromEnvironment(): DiscordProducer {
  const readSecret = createSecretReader();
  const storage = createStorage();
  return createDiscordProducer({
    storage,
    publisher: createPublisher(),
    publicKey: () => readSecret('DISCORD_PUBLIC_KEY'),
    allowedUsers: parseAllowedUsers(process.env.ALLOWED_USERS),
    logger: new Logger({ serviceName: 'discord-producer' }),
    ...(process.env.WEB_APP_URL ? { webAppUrl: process.env.WEB_APP_URL } : {}),
    jobs: jobStoreFromEnv(storage),
  });
}

async function entry(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  producer ??= createFromEnvironment();
  return producer(event);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
