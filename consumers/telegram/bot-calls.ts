import { type Api, GrammyError, HttpError, InputFile } from 'grammy';
import type { TelegramAddress } from './address.ts';

/** One message of a reply, as HTML and as the plain text sent when Telegram refuses the HTML. */
export interface RenderedPart {
  html: string;
  plain: string;
}

/*
 * The errors below carry no `cause` on purpose. grammY's errors hold the request payload (the user's text)
 * and, for network failures, the underlying fetch error, whose message contains the request URL, which
 * contains the bot token. Loggers and the Lambda runtime print causes and extra fields; these only say
 * what happened.
 */

/** Telegram refused the reply for good (bot blocked, chat gone, no rights): retrying cannot help. */
export class UndeliverableReplyError extends Error {
  readonly status: number;
  constructor(status: number, description: string) {
    super(`Telegram refused the reply (${status}): ${description}`);
    this.name = 'UndeliverableReplyError';
    this.status = status;
  }
}

/** Telegram asked us to wait longer than this delivery may: thrown so the bus delivers the event again later. */
export class TelegramRateLimitError extends Error {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(`Telegram rate limit: retry after ${retryAfterSeconds} s`);
    this.name = 'TelegramRateLimitError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A Bot API call failed in a way that may pass (server error, network, timeout, bad token). */
export class TelegramApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramApiError';
  }
}

/** A failure as it may be logged or thrown on: never the payload, never the token-bearing URL. */
export function safeTelegramError(error: unknown): unknown {
  if (error instanceof GrammyError) {
    return new TelegramApiError(`${error.method} failed (${error.error_code}: ${error.description})`);
  }
  if (error instanceof HttpError) {
    const code = (error.error as { code?: unknown } | undefined)?.code;
    return new TelegramApiError(`${error.message}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  return error;
}

/** How one call treats a 429: wait `retry_after` and try again, as long as `deadline` (epoch ms) allows. */
export interface RateLimitPolicy {
  waitOn429: boolean;
  deadline: number;
}

export interface BotCallsOptions {
  api: Api;
  /** Retries of one call after a 429. @default 2 */
  maxRateLimitRetries?: number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  now?: () => number;
}

const description = (error: GrammyError) => error.description.toLowerCase();
const isTelegramError = (error: unknown, code: number, text: string) =>
  error instanceof GrammyError && error.error_code === code && description(error).includes(text);

/** "Bad Request: can't parse entities: …": our HTML was refused; the plain text will do. */
const isParseError = (error: unknown) => isTelegramError(error, 400, "can't parse entities");
/** Editing to the text a message already shows: nothing to do, which is success. */
const isNotModified = (error: unknown) => isTelegramError(error, 400, 'message is not modified');
/** The message to edit was deleted (or is too old to edit): post a new one instead. */
const isMessageGone = (error: unknown) =>
  isTelegramError(error, 400, 'message to edit not found') ||
  isTelegramError(error, 400, "message can't be edited");

/**
 * The Bot API calls a reply needs, with Telegram's failure modes handled in one place: 429 waits for
 * `retry_after` (within the caller's deadline), refused HTML falls back to plain text, "message is not
 * modified" counts as done, a deleted message is reported as gone, and refusals no retry can fix (403,
 * other 400s) become `UndeliverableReplyError`. Server errors and network failures are thrown as
 * `TelegramApiError` (safe to log): the caller lets the bus retry them.
 */
export function createBotCalls(options: BotCallsOptions) {
  const { api } = options;
  const maxRetries = options.maxRateLimitRetries ?? 2;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;

  async function withRateLimit<T>(call: () => Promise<T>, policy: RateLimitPolicy): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof GrammyError) || error.error_code !== 429) throw error;
        const retryAfterSeconds = error.parameters.retry_after ?? 1;
        const waitMs = retryAfterSeconds * 1000;
        if (!policy.waitOn429 || retry >= maxRetries || now() + waitMs > policy.deadline) {
          throw new TelegramRateLimitError(retryAfterSeconds);
        }
        await sleep(waitMs);
      }
    }
  }

  /** Refusals that no retry can fix become `UndeliverableReplyError`; the rest is made safe to log and throw. */
  function finalError(error: unknown): unknown {
    if (error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403)) {
      return new UndeliverableReplyError(error.error_code, error.description);
    }
    return safeTelegramError(error);
  }

  const placement = (address: TelegramAddress) =>
    address.messageThreadId ? { message_thread_id: address.messageThreadId } : {};

  return {
    /** Posts a new message and returns its id. `quote` quotes the user's message (groups). */
    async post(address: TelegramAddress, part: RenderedPart, quote: boolean, policy: RateLimitPolicy) {
      const other = {
        ...placement(address),
        ...(quote && address.quote && address.replyToMessageId
          ? { reply_parameters: { message_id: address.replyToMessageId, allow_sending_without_reply: true } }
          : {}),
      };
      try {
        try {
          const sent = await withRateLimit(
            () => api.sendMessage(address.chatId, part.html, { ...other, parse_mode: 'HTML' }),
            policy,
          );
          return sent.message_id;
        } catch (error) {
          if (!isParseError(error)) throw error;
          const sent = await withRateLimit(() => api.sendMessage(address.chatId, part.plain, other), policy);
          return sent.message_id;
        }
      } catch (error) {
        throw finalError(error);
      }
    },

    /** Shows `part` in an existing message: `gone` when that message no longer exists. */
    async edit(
      address: TelegramAddress,
      messageId: number,
      part: RenderedPart,
      policy: RateLimitPolicy,
    ): Promise<'edited' | 'gone'> {
      const attempt = async (text: string, html: boolean): Promise<'edited' | 'gone'> => {
        try {
          await withRateLimit(
            () => api.editMessageText(address.chatId, messageId, text, html ? { parse_mode: 'HTML' } : {}),
            policy,
          );
          return 'edited';
        } catch (error) {
          if (isNotModified(error)) return 'edited';
          if (isMessageGone(error)) return 'gone';
          throw error;
        }
      };
      try {
        try {
          return await attempt(part.html, true);
        } catch (error) {
          if (!isParseError(error)) throw error;
          return await attempt(part.plain, false);
        }
      } catch (error) {
        throw finalError(error);
      }
    },

    /** Sends an image as a photo (the bytes, uploaded as multipart) and returns its message id. */
    async photo(address: TelegramAddress, bytes: Buffer, fileName: string, policy: RateLimitPolicy) {
      try {
        const sent = await withRateLimit(
          () => api.sendPhoto(address.chatId, new InputFile(bytes, fileName), placement(address)),
          policy,
        );
        return sent.message_id;
      } catch (error) {
        throw finalError(error);
      }
    },

    /** "typing…" in the chat for five seconds (or until the bot posts). */
    async typing(address: TelegramAddress, policy: RateLimitPolicy): Promise<void> {
      try {
        await withRateLimit(() => api.sendChatAction(address.chatId, 'typing', placement(address)), policy);
      } catch (error) {
        throw finalError(error);
      }
    },
  };
}

export type BotCalls = ReturnType<typeof createBotCalls>;
