import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Publisher } from '../../bus/index.ts';
import { type LlmSettings, MAX_MESSAGE_TEXT_CHARS, type RuntimePreference } from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import type { JobStore } from '../schedule/index.ts';
import { createChannelIngress } from '../shared/channel-ingress.ts';
import { claimMessage, markPublished, releaseClaim } from '../shared/dedupe.ts';
import { header, jsonResponse, MAX_WEBHOOK_BODY_BYTES, rawBody, textResponse } from '../shared/http.ts';
import type { Identity } from '../shared/identity.ts';
import { createScheduleCommands } from '../shared/schedule-commands.ts';
import { type CommandContext, createCommands, isBotCommand } from './commands.ts';
import { isValidSecretToken, SECRET_TOKEN_HEADER } from './secret-token.ts';
import { pairingText, texts } from './texts.ts';
import {
  addressedText,
  type BotCommand,
  mediaKindOf,
  parseCommand,
  type TelegramMessage,
  UpdateSchema,
} from './update.ts';

export interface TelegramProducerDeps {
  storage: Storage;
  publisher: Publisher;
  identity: Identity;
  logger: Logger;
  /** The `secret_token` given to `setWebhook` (TELEGRAM_WEBHOOK_SECRET); read per request, so it may be cached and rotated. */
  webhookSecret: () => Promise<string | undefined>;
  /**
   * The bot's username without `@` (TELEGRAM_BOT_USERNAME). In groups the bot answers only messages that
   * mention it or reply to it, which needs the name; without it, groups get commands only.
   */
  botUsername?: string;
  /** The deployment's default LLM, for `/status` and `/model`. */
  defaultLlm?: LlmSettings;
  /** The runtime of users without settings. @default 'lambda' */
  defaultRuntime?: RuntimePreference;
  /** The web chat's address, shown in pairing instructions. */
  webAppUrl?: string;
  /** @default Date.now */
  now?: () => number;
  /** The scheduled-jobs store behind `/schedule`, `/schedules`, `/unschedule` (the one `/v1/schedules` uses). */
  jobs?: JobStore;
}

/** Where an answer goes: the chat (and forum topic) of the message being answered. */
interface ChatPlace {
  chatId: number;
  threadId: number | undefined;
  messageId: number;
  isPrivate: boolean;
}

/** How long Telegram should wait before delivering an update again that we could not take yet. */
const RETRY_AFTER_SECONDS = 5;

const accepted = (): APIGatewayProxyStructuredResultV2 => ({ statusCode: 200 });

/**
 * A retryable refusal. Telegram delivers an update again after any non-2xx answer. 503 (with Retry-After)
 * is the honest status for a condition on our side that passes by itself: an earlier delivery of the same
 * update is still being published, or storage or the bus failed. It is never used for bad input (4xx).
 */
const retryLater = (): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 503,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': String(RETRY_AFTER_SECONDS) },
  body: 'Temporarily unavailable; retry.',
});

const placement = (place: ChatPlace) => ({
  chat_id: place.chatId,
  ...(place.threadId ? { message_thread_id: place.threadId } : {}),
});

/**
 * Answers in the webhook response itself: Telegram performs a Bot API method given in the body of a 200,
 * so command answers and notices need no bot token here and no outbound call. (Telegram does not report
 * whether that call succeeded, which is why these texts are plain, with nothing that could fail to parse.)
 */
function answer(place: ChatPlace, text: string): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(200, {
    method: 'sendMessage',
    ...placement(place),
    text,
    // In a group several people talk; quoting shows whom the bot answers.
    ...(place.isPrivate
      ? {}
      : { reply_parameters: { message_id: place.messageId, allow_sending_without_reply: true } }),
    link_preview_options: { is_disabled: true },
  });
}

/** "typing…" at once, for the seconds until the agent's first status or words arrive. */
const typing = (place: ChatPlace) =>
  jsonResponse(200, { method: 'sendChatAction', ...placement(place), action: 'typing' });

/**
 * The Telegram webhook (`POST /webhooks/telegram`). Verifies the secret token header in constant time,
 * caps and parses the update, and then: runs the bot's own commands (`/start`, `/help`, `/new`,
 * `/status`, `/model`, `/link`), tells strangers how to pair, or hands text messages to the shared ingress,
 * which dedupes on `update_id` and publishes `MessageReceived`. It answers within milliseconds and never
 * waits for the agent; the Telegram consumer delivers the reply.
 *
 * Private chats: every text message. Groups: messages that mention the bot or reply to it, and commands.
 * Other updates (edits, channel posts, callback queries…) are acknowledged and ignored.
 */
export function createTelegramProducer(deps: TelegramProducerDeps) {
  const { storage, identity, logger } = deps;
  const now = deps.now ?? Date.now;
  const botUsername = deps.botUsername?.replace(/^@/, '').toLowerCase() || undefined;
  const ingress = createChannelIngress({ storage, publisher: deps.publisher, identity, now });
  const commands = createCommands({
    storage,
    identity,
    ingress,
    defaultLlm: deps.defaultLlm,
    defaultRuntime: deps.defaultRuntime ?? 'lambda',
    ...(deps.webAppUrl ? { webAppUrl: deps.webAppUrl } : {}),
    now,
    ...(deps.jobs ? { scheduleCommands: createScheduleCommands({ jobs: deps.jobs }) } : {}),
  });

  async function runCommand(
    updateId: number,
    command: BotCommand,
    context: CommandContext,
    place: ChatPlace,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    // Commands change things (/new, /link): a redelivered update must not run them twice.
    const dedupeKey = `telegram#update:${updateId}`;
    const claim = await claimMessage(storage, dedupeKey, randomUUID(), now());
    if (!claim.claimed) return claim.state === 'published' ? accepted() : retryLater();
    let text: string;
    try {
      text = await commands.run(command, context);
    } catch (error) {
      await releaseClaim(storage, dedupeKey).catch(() => undefined);
      throw error;
    }
    await markPublished(storage, dedupeKey).catch((error) =>
      logger.warn('command claim not marked done', { updateId, error: error as Error }),
    );
    logger.info('command answered', { updateId, command: command.name });
    return answer(place, text);
  }

  async function onMessage(
    updateId: number,
    message: TelegramMessage,
    rawMessage: unknown,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const { from, chat } = message;
    const isPrivate = chat.type === 'private';
    if (!from || from.is_bot || !(isPrivate || chat.type === 'group' || chat.type === 'supergroup')) {
      logger.debug('message ignored: not from a person in a chat we serve', {
        updateId,
        chatType: chat.type,
      });
      return accepted();
    }
    const threadId = message.is_topic_message ? message.message_thread_id : undefined;
    const place: ChatPlace = { chatId: chat.id, threadId, messageId: message.message_id, isPrivate };
    const chatKey = threadId ? `${chat.id}:${threadId}` : String(chat.id);
    const channelUserId = String(from.id);

    const text = message.text;
    if (text === undefined) {
      // A photo or voice note in a private chat is a message to us: say why it gets no answer.
      if (!isPrivate || !mediaKindOf(rawMessage)) {
        logger.debug('message without text ignored', { updateId });
        return accepted();
      }
      const userId = await identity.resolve('telegram', channelUserId);
      return answer(place, userId ? texts.textOnly : pairingText(deps.webAppUrl));
    }

    const command = parseCommand(text);
    const forOtherBot =
      command?.target !== undefined && botUsername !== undefined && command.target !== botUsername;
    if (forOtherBot) {
      logger.debug('command for another bot ignored', { updateId });
      return accepted();
    }
    if (command && isBotCommand(command.name)) {
      const userId = await identity.resolve('telegram', channelUserId);
      return runCommand(
        updateId,
        command,
        { channelUserId, chatKey, isPrivate, userId, chatId: chat.id, ...(threadId ? { threadId } : {}) },
        place,
      );
    }

    // In a group, only what is said to the bot; `/other@bot args` (a command we do not know) counts.
    const agentText = isPrivate
      ? text.trim()
      : command?.target
        ? text.trim().replace(/^(\/\S+?)@\S+/, '$1')
        : addressedText(message, botUsername);
    if (agentText === undefined) {
      logger.debug('group message not addressed to the bot ignored', { updateId });
      return accepted();
    }
    if (agentText === '') return answer(place, texts.mentionOnly);
    if (agentText.length > MAX_MESSAGE_TEXT_CHARS)
      return answer(place, texts.tooLong(MAX_MESSAGE_TEXT_CHARS));

    const result = await ingress.submit({
      channel: 'telegram',
      channelUserId,
      ...(from.first_name || from.username ? { displayName: from.first_name ?? from.username } : {}),
      deliveryId: `update:${updateId}`,
      chatKey,
      text: agentText,
      replyTo: {
        channel: 'telegram',
        address: {
          chatId: chat.id,
          ...(threadId ? { messageThreadId: threadId } : {}),
          replyToMessageId: message.message_id,
          ...(isPrivate ? {} : { quote: true }),
        },
      },
    });
    switch (result.kind) {
      case 'published':
        logger.info('message published', { updateId, messageId: result.messageId, userId: result.userId });
        return typing(place);
      case 'duplicate':
        logger.info('redelivered update ignored', { updateId, messageId: result.messageId });
        return accepted();
      case 'in-flight':
        logger.info('update still being published; asked Telegram to retry', { updateId });
        return retryLater();
      case 'stranger':
        logger.info('message from a stranger; told how to pair', { updateId, chatType: chat.type });
        return answer(place, pairingText(deps.webAppUrl));
    }
  }

  async function handle(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const method = event.requestContext?.http?.method;
    if (method && method !== 'POST') return textResponse(405, 'Method Not Allowed');
    const expected = await deps.webhookSecret();
    if (!expected) {
      logger.error('TELEGRAM_WEBHOOK_SECRET is not configured; every update is refused');
      return retryLater();
    }
    const provided = header(event, SECRET_TOKEN_HEADER);
    if (!isValidSecretToken(provided, expected)) {
      logger.warn('webhook call rejected: wrong or missing secret token', {
        headerPresent: provided !== undefined,
        sourceIp: event.requestContext?.http?.sourceIp,
      });
      return textResponse(401, 'Unauthorized');
    }
    // Cheap check before decoding: base64 is 4/3 the size of what it encodes.
    const encodedLimit = event.isBase64Encoded
      ? Math.ceil((MAX_WEBHOOK_BODY_BYTES * 4) / 3) + 4
      : MAX_WEBHOOK_BODY_BYTES;
    const body = (event.body?.length ?? 0) > encodedLimit ? undefined : rawBody(event);
    if (body === undefined || Buffer.byteLength(body, 'utf8') > MAX_WEBHOOK_BODY_BYTES) {
      logger.warn('webhook body too large', { bytes: event.body?.length });
      return textResponse(413, 'Payload Too Large');
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      logger.warn('webhook body is not JSON', { bytes: body.length });
      return textResponse(400, 'Bad Request: body must be a JSON Update');
    }
    const parsed = UpdateSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      logger.warn('webhook body is not a Telegram update', {
        path: issue?.path.join('.'),
        issue: issue?.message,
      });
      return textResponse(400, 'Bad Request: not a Telegram Update');
    }
    const update = parsed.data;
    if (!update.message) {
      const kind = Object.keys(json as object).find((key) => key !== 'update_id');
      logger.debug('update type ignored', { updateId: update.update_id, kind });
      return accepted();
    }
    return onMessage(update.update_id, update.message, (json as { message: unknown }).message);
  }

  return async function handleTelegramWebhook(
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    try {
      return await handle(event);
    } catch (error) {
      // Storage, the bus or SSM failed: nothing the update did wrong. Telegram delivers it again.
      logger.error('webhook update failed; Telegram will retry', { error: error as Error });
      return retryLater();
    }
  };
}

export type TelegramProducer = ReturnType<typeof createTelegramProducer>;
