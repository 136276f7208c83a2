import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createPublisher } from '../../bus/index.ts';
import { observe } from '../../bus/observability.ts';
import { RuntimePreferenceSchema } from '../../schemas/index.ts';
import { defaultLlmSettingsFromEnv } from '../../schemas/llm-defaults.ts';
import { createSecretReader } from '../../schemas/secrets.ts';
import { createStorage } from '../../schemas/table.ts';
import { jobStoreFromEnv } from '../schedule/job-store-from-env.ts';
import { createIdentity, parseAllowedUsers } from '../shared/identity.ts';
import { createTelegramProducer, type TelegramProducer } from './handler.ts';

/**
 * The Telegram webhook's Lambda entry (HTTP API route `POST /webhooks/telegram`), wired from the
 * environment: TABLE_NAME, EVENT_BUS_NAME, ALLOWED_USERS (comma-separated `<channel>:<id>`), the secret
 * TELEGRAM_WEBHOOK_SECRET (an SSM SecureString under SECRETS_PREFIX, or the environment variable when that
 * is unset), and optionally TELEGRAM_BOT_USERNAME (groups), WEB_APP_URL (pairing instructions),
 * DEFAULT_RUNTIME and the OPENCLAW_LLM_* default model settings (for /status and /model), and the
 * SCHEDULE_* settings of `jobStoreFromEnv` (for /schedule).
 */

let producer: TelegramProducer | undefined;

function createFromEnv(): TelegramProducer {
  const storage = createStorage();
  const readSecret = createSecretReader();
  return createTelegramProducer({
    storage,
    publisher: createPublisher(),
    identity: createIdentity({ storage, allowedUsers: parseAllowedUsers(process.env.ALLOWED_USERS) }),
    logger: new Logger({ serviceName: 'telegram-producer' }),
    webhookSecret: () => readSecret('TELEGRAM_WEBHOOK_SECRET'),
    botUsername: process.env.TELEGRAM_BOT_USERNAME || undefined,
    defaultLlm: defaultLlmSettingsFromEnv(),
    defaultRuntime: RuntimePreferenceSchema.catch('lambda').parse(process.env.DEFAULT_RUNTIME),
    webAppUrl: process.env.WEB_APP_URL || undefined,
    jobs: jobStoreFromEnv(storage),
  });
}

const entry = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler((event) => {
  producer ??= createFromEnv();
  return producer(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
