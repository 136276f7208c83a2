import {
  type APIMessage,
  DiscordAPIError,
  HTTPError,
  type RateLimitData,
  RateLimitError,
  REST,
  RESTJSONErrorCodes,
  Routes,
} from 'discord.js';
import type { DiscordAddress } from './address.ts';
import type { OutgoingMessage } from './reply-messages.ts';

export interface DiscordRestOptions {
  /** API base without the version, e.g. a loopback fake's. @default 'https://discord.com/api' */
  api?: string;
  /** Per-request timeout. @default 5000 */
  timeoutMs?: number;
  /** Retries of a request that timed out or got a 5xx. @default 1 */
  retries?: number;
  /**
   * Longest rate limit discord.js may wait out by itself. A longer one throws instead (the reply is then
   * retried later by the bus), so a rate limit cannot eat the Lambda's remaining time. @default 5000
   */
  maxRateLimitWaitMs?: number;
}

/** discord.js's REST client, with limits that fit inside a consumer Lambda's run. */
export function createDiscordRest(options: DiscordRestOptions = {}): REST {
  const maxWait = options.maxRateLimitWaitMs ?? 5_000;
  return new REST({
    ...(options.api ? { api: options.api } : {}),
    timeout: options.timeoutMs ?? 5_000,
    retries: options.retries ?? 1,
    rejectOnRateLimit: (limit: RateLimitData) => Math.max(limit.retryAfter, limit.sublimitTimeout) > maxWait,
  });
}

/**
 * What went wrong sending to Discord, in terms the consumer acts on:
 * - `token-gone`: the interaction token expired or is unknown; post in the channel with the bot token
 * - `message-gone`: the original response was deleted; post a follow-up instead
 * - `rejected`: Discord refused the request for what it is (no access, bad bot token); retrying cannot help
 * - `retryable`: rate limited for long, timed out, or a Discord 5xx; the bus should retry later
 * Its message never holds the request URL (which carries the interaction token).
 */
export class DiscordSendError extends Error {
  readonly kind: 'token-gone' | 'message-gone' | 'rejected' | 'retryable';
  readonly status: number | undefined;
  readonly code: number | string | undefined;

  constructor(
    kind: DiscordSendError['kind'],
    message: string,
    details: { status?: number; code?: number | string } = {},
  ) {
    super(message);
    this.name = 'DiscordSendError';
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
  }

  /** Fields safe to log. */
  toLog() {
    return { kind: this.kind, status: this.status, code: this.code, message: this.message };
  }
}

const TOKEN_GONE_CODES = new Set<number | string>([
  RESTJSONErrorCodes.UnknownWebhook,
  RESTJSONErrorCodes.InvalidWebhookToken,
  RESTJSONErrorCodes.UnknownInteraction,
]);

/** Sorts a discord.js error into a `DiscordSendError`, keeping `secret` (the token) out of its message. */
export function toSendError(error: unknown, via: 'interaction' | 'bot', secret?: string): DiscordSendError {
  if (error instanceof DiscordSendError) return error;
  const clean = (text: string) => (secret ? text.replaceAll(secret, '[token]') : text).slice(0, 300);
  if (error instanceof RateLimitError) {
    return new DiscordSendError('retryable', `rate limited for ${Math.round(error.retryAfter)} ms`, {
      status: 429,
    });
  }
  if (error instanceof DiscordAPIError) {
    const details = { status: error.status, code: error.code };
    const message = clean(error.message);
    if (via === 'interaction') {
      if (error.status === 401 || TOKEN_GONE_CODES.has(error.code))
        return new DiscordSendError('token-gone', message, details);
      if (error.code === RESTJSONErrorCodes.UnknownMessage)
        return new DiscordSendError('message-gone', message, details);
    }
    if (error.status === 408) return new DiscordSendError('retryable', message, details);
    return new DiscordSendError('rejected', message, details);
  }
  if (error instanceof HTTPError) {
    return new DiscordSendError('retryable', clean(`HTTP ${error.status} ${error.message}`), {
      status: error.status,
    });
  }
  // Timeouts (AbortError), network failures, anything unexpected: worth another try later.
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new DiscordSendError('retryable', clean(`${name}: ${message}`));
}

/**
 * The request body of a message: never pings anyone, whatever the text says (`@everyone`, `<@id>`). Files
 * go as multipart `files[n]`, each named in `attachments` by its index, as Discord requires.
 */
function payload(message: OutgoingMessage) {
  const files = [
    ...(message.file
      ? [
          {
            name: message.file.name,
            data: Buffer.from(message.file.text, 'utf8'),
            contentType: 'text/markdown; charset=utf-8',
          },
        ]
      : []),
    ...(message.images ?? []),
  ];
  return {
    body: {
      content: message.content,
      allowed_mentions: { parse: [] },
      ...(files.length > 0 ? { attachments: files.map((file, id) => ({ id, filename: file.name })) } : {}),
    },
    ...(files.length > 0 ? { files } : {}),
  };
}

export interface DiscordClientOptions {
  rest: REST;
  /** The bot token, for channel messages once an interaction token has expired; undefined if not configured. */
  botToken: () => Promise<string | undefined>;
}

/** The three ways the consumer writes to Discord. Each returns the id of the message written. */
export function createDiscordClient(options: DiscordClientOptions) {
  const { rest } = options;

  async function send(
    via: 'interaction' | 'bot',
    secret: string,
    request: () => Promise<unknown>,
  ): Promise<string> {
    try {
      return ((await request()) as APIMessage).id;
    } catch (error) {
      throw toSendError(error, via, secret);
    }
  }

  return {
    /** Edits the interaction's original response ("thinking…"). Needs no bot token: the interaction token is the credential. */
    editOriginal(address: DiscordAddress, message: OutgoingMessage): Promise<string> {
      const { applicationId, interactionToken } = address;
      return send('interaction', interactionToken, () =>
        rest.patch(Routes.webhookMessage(applicationId, interactionToken, '@original'), {
          ...payload(message),
          auth: false,
        }),
      );
    },

    /** Posts another message in answer to the interaction. */
    followUp(address: DiscordAddress, message: OutgoingMessage): Promise<string> {
      const { applicationId, interactionToken } = address;
      return send('interaction', interactionToken, () =>
        rest.post(Routes.webhook(applicationId, interactionToken), {
          ...payload(message),
          auth: false,
          query: new URLSearchParams({ wait: 'true' }),
        }),
      );
    },

    /** Posts in the channel as the bot: for replies that come after the interaction token expired. */
    async channelMessage(channelId: string, message: OutgoingMessage): Promise<string> {
      const token = await options.botToken();
      if (!token) {
        throw new DiscordSendError(
          'rejected',
          'DISCORD_BOT_TOKEN is not set: replies after 15 minutes cannot be posted',
        );
      }
      rest.setToken(token);
      return send('bot', token, () => rest.post(Routes.channelMessages(channelId), payload(message)));
    },
  };
}

export type DiscordClient = ReturnType<typeof createDiscordClient>;
