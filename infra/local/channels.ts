import { Logger } from '@aws-lambda-powertools/logger';
import { Api } from 'grammy';
import type { TargetHandler } from '../../bus/local-bus.ts';
import type { Publisher } from '../../bus/publish.ts';
import { createDiscordClient, createDiscordRest } from '../../consumers/discord/discord-client.ts';
import { createDiscordConsumer } from '../../consumers/discord/handler.ts';
import type { ReplyImageStore } from '../../consumers/shared/reply-images.ts';
import { createSlackConsumer } from '../../consumers/slack/handler.ts';
import { createSlackApi } from '../../consumers/slack/slack-api.ts';
import { createTelegramConsumer } from '../../consumers/telegram/handler.ts';
import { createDiscordProducer } from '../../producers/discord/handler.ts';
import type { JobStore } from '../../producers/schedule/jobs.ts';
import type { Identity } from '../../producers/shared/identity.ts';
import { createSlackProducer } from '../../producers/slack/handler.ts';
import { createNoticeSender } from '../../producers/slack/notice-sender.ts';
import { createTelegramProducer } from '../../producers/telegram/handler.ts';
import type { LlmSettings, RuntimePreference } from '../../schemas/index.ts';
import { createSecretReader, requireSecret } from '../../schemas/secrets.ts';
import type { Storage } from '../../schemas/table.ts';
import type { HttpApiHandler, LocalHttpRoute } from './http-api.ts';

export interface LocalChannelsOptions {
  storage: Storage;
  publisher: Publisher;
  identity: Identity;
  /** Where the bots' secrets and API overrides are read from. */
  env: NodeJS.ProcessEnv;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  defaultLlm: LlmSettings | undefined;
  defaultRuntime: RuntimePreference;
  /** The chat page's address, shown to people who still need to link their account. */
  webAppUrl: string;
  /** Chat accounts that get an agent without linking (`<channel>:<id>`). */
  allowedUsers: readonly string[];
  /** The scheduled-jobs store behind the chat commands `/schedule`, `/schedules`, `/unschedule`. */
  jobs?: JobStore;
  /** Where the consumers read reply images (screenshots) from. @default none: images are not sent */
  images?: ReplyImageStore;
}

/**
 * The Telegram, Discord and Slack webhooks and reply consumers of local mode: the same handlers as on AWS,
 * with their secrets from the environment (TELEGRAM_WEBHOOK_SECRET, TELEGRAM_BOT_TOKEN, DISCORD_PUBLIC_KEY,
 * DISCORD_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN) and optional API base URLs (TELEGRAM_API_ROOT,
 * DISCORD_API_BASE, SLACK_API_URL) for a fake or a proxy. Point a bot at `<tunnel>/webhooks/<channel>`.
 * A channel whose secrets are missing still has its routes: its webhook refuses every request (it cannot
 * verify one), and replies wait in the local retry queue with a log line saying which secret is missing.
 */
export function createLocalChannels(options: LocalChannelsOptions) {
  const { storage, publisher, identity, env } = options;
  const logger = (serviceName: string) => new Logger({ serviceName, logLevel: options.logLevel });
  const read = createSecretReader({ env, prefix: '' });
  const asHttpHandler = (handler: (event: never) => Promise<unknown>) => handler as unknown as HttpApiHandler;

  const telegramProducer = createTelegramProducer({
    storage,
    publisher,
    identity,
    logger: logger('telegram-producer'),
    webhookSecret: () => read('TELEGRAM_WEBHOOK_SECRET'),
    botUsername: env.TELEGRAM_BOT_USERNAME || undefined,
    defaultLlm: options.defaultLlm,
    defaultRuntime: options.defaultRuntime,
    webAppUrl: options.webAppUrl,
    ...(options.jobs ? { jobs: options.jobs } : {}),
  });
  let telegram: { token: string; consume: TargetHandler } | undefined;
  const telegramConsumer: TargetHandler = async (envelope) => {
    const token = await requireSecret(read, 'TELEGRAM_BOT_TOKEN', env);
    if (telegram?.token !== token) {
      const api = new Api(token, { apiRoot: env.TELEGRAM_API_ROOT || undefined, timeoutSeconds: 10 });
      telegram = {
        token,
        consume: createTelegramConsumer({
          storage,
          api,
          logger: logger('telegram-consumer'),
          ...(options.images ? { images: options.images } : {}),
        }),
      };
    }
    await telegram.consume(envelope);
  };

  const discordProducer = createDiscordProducer({
    storage,
    publisher,
    publicKey: () => read('DISCORD_PUBLIC_KEY'),
    allowedUsers: options.allowedUsers,
    logger: logger('discord-producer'),
    webAppUrl: options.webAppUrl,
    ...(options.jobs ? { jobs: options.jobs } : {}),
  });
  const discordConsumer = createDiscordConsumer({
    storage,
    client: createDiscordClient({
      rest: createDiscordRest(env.DISCORD_API_BASE ? { api: env.DISCORD_API_BASE } : {}),
      botToken: () => read('DISCORD_BOT_TOKEN'),
    }),
    logger: logger('discord-consumer'),
    ...(options.images ? { images: options.images } : {}),
    // Local retries come within seconds, not Lambda's minutes: a failed reply may resume at once.
    resumeAfterMs: 0,
  });

  const slackLogger = logger('slack-producer');
  const slackProducer = createSlackProducer({
    storage,
    publisher,
    identity,
    signingSecret: () => requireSecret(read, 'SLACK_SIGNING_SECRET', env),
    notices: createNoticeSender({
      botToken: () => requireSecret(read, 'SLACK_BOT_TOKEN', env),
      ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
      logger: slackLogger,
    }),
    logger: slackLogger,
    ...(env.SLACK_COMMAND ? { commandName: env.SLACK_COMMAND } : {}),
    ...(env.SLACK_BOT_USER_ID ? { botUserId: env.SLACK_BOT_USER_ID } : {}),
    ...(options.jobs ? { jobs: options.jobs } : {}),
  });
  const slackConsumerLogger = logger('slack-consumer');
  const slackConsumer = createSlackConsumer({
    storage,
    slack: createSlackApi({
      botToken: () => requireSecret(read, 'SLACK_BOT_TOKEN', env),
      ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
      logger: slackConsumerLogger,
    }),
    logger: slackConsumerLogger,
    ...(options.images ? { images: options.images } : {}),
  });

  const routes: LocalHttpRoute[] = [
    { method: 'POST', path: '/webhooks/telegram', handler: asHttpHandler(telegramProducer) },
    { method: 'POST', path: '/webhooks/discord', handler: asHttpHandler(discordProducer) },
    { method: 'POST', path: '/webhooks/slack', handler: asHttpHandler(slackProducer) },
  ];
  const targets = {
    'telegram-consumer': telegramConsumer,
    'discord-consumer': (envelope) => discordConsumer(envelope),
    'slack-consumer': (envelope) => slackConsumer(envelope),
  } satisfies Record<string, TargetHandler>;
  return { routes, targets };
}
