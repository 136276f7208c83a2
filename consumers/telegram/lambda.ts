import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { Api } from 'grammy';
import { observe } from '../../bus/observability.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { createSecretReader } from '../../schemas/secrets.ts';
import { createStorage } from '../../schemas/table.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { createTelegramConsumer, type TelegramConsumer } from './handler.ts';

/**
 * The Telegram consumer's Lambda entry, wired from the environment: TABLE_NAME, the bot token
 * TELEGRAM_BOT_TOKEN (an SSM SecureString under SECRETS_PREFIX, or the environment variable when that is
 * unset), TELEGRAM_API_ROOT (optional: a local or fake Bot API, default https://api.telegram.org), and
 * STATE_BUCKET for reply images (without it, images are not sent).
 */

const logger = new Logger({ serviceName: 'telegram-consumer' });
const readSecret = createSecretReader();
let storage: ReturnType<typeof createStorage> | undefined;
const images = process.env.STATE_BUCKET ? { images: createReplyImageStore() } : {};
let current: { token: string; consumer: TelegramConsumer } | undefined;

/** Bus target for ReplyDelta, ReplyCompleted and AgentStatusChanged whose `replyTo.channel` is `telegram`. */
async function entry(envelope: BusEnvelope): Promise<void> {
  const token = await readSecret('TELEGRAM_BOT_TOKEN');
  // Thrown, not dropped: the event waits in the retry queue / DLQ until the operator sets the token.
  if (!token) throw new Error('TELEGRAM_BOT_TOKEN is not set');
  storage ??= createStorage();
  // A rotated token (read again after the cache expires) gets a new client.
  if (current?.token !== token) {
    const api = new Api(token, { apiRoot: process.env.TELEGRAM_API_ROOT || undefined, timeoutSeconds: 10 });
    current = { token, consumer: createTelegramConsumer({ storage, api, logger, ...images }) };
  }
  await current.consumer(envelope);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
