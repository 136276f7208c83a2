import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { observe } from '../../bus/observability.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { createSecretReader } from '../../schemas/secrets.ts';
import { createStorage } from '../../schemas/table.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { createDiscordClient, createDiscordRest } from './discord-client.ts';
import { createDiscordConsumer, type DiscordConsumer } from './handler.ts';

/**
 * Lambda entry of the Discord consumer (bus target `discord-consumer`), wired from the environment:
 * TABLE_NAME, SECRETS_PREFIX (DISCORD_BOT_TOKEN is the SSM SecureString `<prefix>DISCORD_BOT_TOKEN`;
 * without a prefix, the environment variable), and optionally DISCORD_API_BASE (another API base URL, for
 * local tests). Give the function a timeout of at least 30 s: rate limits up to 5 s are waited out inline.
 */

let consumer: DiscordConsumer | undefined;

function createFromEnvironment(): DiscordConsumer {
  const readSecret = createSecretReader();
  const rest = createDiscordRest(process.env.DISCORD_API_BASE ? { api: process.env.DISCORD_API_BASE } : {});
  return createDiscordConsumer({
    storage: createStorage(),
    client: createDiscordClient({ rest, botToken: () => readSecret('DISCORD_BOT_TOKEN') }),
    logger: new Logger({ serviceName: 'discord-consumer' }),
    // STATE_BUCKET: reply images are read from there (without it, images are not sent).
    ...(process.env.STATE_BUCKET ? { images: createReplyImageStore() } : {}),
    // Longer than the function's 60 s timeout: a delivery still sending is never taken for a failed one.
    resumeAfterMs: 70_000,
  });
}

async function entry(envelope: BusEnvelope): Promise<void> {
  consumer ??= createFromEnvironment();
  await consumer(envelope);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
