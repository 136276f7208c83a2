import type { Logger } from '@aws-lambda-powertools/logger';
import { LogLevel, WebClient } from '@slack/web-api';
import { SlackApiError, SlackRateLimitedError, toSlackApiError } from './errors.ts';

/** How much time the current invocation has left. */
export interface Deadline {
  remainingMs(): number;
}

export interface SlackApiOptions {
  botToken: () => Promise<string>;
  /** @default https://slack.com/api/ */
  slackApiUrl?: string;
  logger: Logger;
  /** One HTTP request's limit. @default 5000 */
  requestTimeoutMs?: number;
  /** Time kept back at the end of an invocation: no wait or call starts inside it. @default 3000 */
  reserveMs?: number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** Where a posted message is: what `chat.update` needs to edit it. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/**
 * The two Slack Web API calls replies need, through the real `WebClient`, with rate limits honoured
 * within the invocation's time. The client's own retries cover transport failures and 5xx (twice, within
 * about a second); a 429 is handed back to us (`rejectRateLimitedCalls`) so we can wait its `Retry-After`
 * only when the wait fits in the time left, and otherwise throw `SlackRateLimitedError` for Lambda to retry
 * the event later, instead of sleeping past the function's timeout.
 */
export function createSlackApi(options: SlackApiOptions) {
  const { logger } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const reserveMs = options.reserveMs ?? 3_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let client: { token: string; web: WebClient } | undefined;

  async function web(): Promise<WebClient> {
    const token = await options.botToken();
    if (client?.token !== token) {
      client = {
        token,
        web: new WebClient(token, {
          slackApiUrl: options.slackApiUrl ?? 'https://slack.com/api/',
          timeout: requestTimeoutMs,
          rejectRateLimitedCalls: true,
          retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 1_000, randomize: true },
          // We log each outcome ourselves; the client's console lines would only repeat them.
          logLevel: LogLevel.ERROR,
        }),
      };
    }
    return client.web;
  }

  async function call<T>(
    method: string,
    deadline: Deadline,
    send: (client: WebClient) => Promise<T>,
  ): Promise<T> {
    const client = await web();
    for (;;) {
      if (deadline.remainingMs() < reserveMs) throw new SlackApiError(method, 'out_of_time', true);
      try {
        return await send(client);
      } catch (error) {
        const retryAfter = (error as { code?: string; retryAfter?: number }).retryAfter;
        if (
          (error as { code?: string }).code !== 'slack_webapi_rate_limited_error' ||
          retryAfter === undefined
        ) {
          throw toSlackApiError(method, error);
        }
        const waitMs = retryAfter * 1_000;
        if (waitMs + reserveMs > deadline.remainingMs()) throw new SlackRateLimitedError(method, retryAfter);
        logger.info('slack rate limit: waiting as asked', { method, retryAfterSeconds: retryAfter });
        await sleep(waitMs);
      }
    }
  }

  return {
    /** Posts a message (in a thread when `threadTs` is given); returns where it landed. */
    async postMessage(
      message: { channel: string; text: string; threadTs?: string },
      deadline: Deadline,
    ): Promise<SlackMessageRef> {
      const result = await call('chat.postMessage', deadline, (client) =>
        client.chat.postMessage({
          channel: message.channel,
          text: message.text,
          ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
          // Links to pages would unfurl into previews under every streamed edit.
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (!result.ts) throw new SlackApiError('chat.postMessage', 'no_ts_in_answer', true);
      // Posting to a user id lands in their direct message with the app: the answer names that channel.
      return { channel: result.channel ?? message.channel, ts: result.ts };
    },

    /**
     * Shares a file in a channel (in a thread when `threadTs` is given) with `files.uploadV2`: Slack's
     * three steps (an upload URL, the bytes POSTed there, the completion that shares it). Returns the
     * file's id. A rate limit on any step repeats the whole upload (a slot never completed is dropped).
     */
    async uploadFile(
      file: { channel: string; threadTs?: string; filename: string; data: Buffer; altText: string },
      deadline: Deadline,
    ): Promise<string> {
      const contents = {
        file: file.data,
        filename: file.filename,
        title: file.filename,
        alt_text: file.altText,
      };
      const result = await call('files.uploadV2', deadline, (client) =>
        client.files.uploadV2(
          file.threadTs
            ? { ...contents, channel_id: file.channel, thread_ts: file.threadTs }
            : { ...contents, channel_id: file.channel },
        ),
      );
      const completions = (result as { files?: { files?: { id?: string }[] }[] }).files ?? [];
      const id = completions[0]?.files?.[0]?.id;
      if (!id) throw new SlackApiError('files.uploadV2', 'no_file_in_answer', true);
      return id;
    },

    /** Replaces the text of a message the bot posted. */
    async update(ref: SlackMessageRef, text: string, deadline: Deadline): Promise<void> {
      await call('chat.update', deadline, (client) =>
        client.chat.update({ channel: ref.channel, ts: ref.ts, text }),
      );
    },
  };
}

export type SlackApi = ReturnType<typeof createSlackApi>;
