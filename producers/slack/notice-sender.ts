import type { Logger } from '@aws-lambda-powertools/logger';
import { LogLevel, WebClient } from '@slack/web-api';

export interface SlackNotice {
  channel: string;
  /** Who sees it: ephemeral messages are shown to this user only. */
  user: string;
  threadTs?: string;
  text: string;
}

export interface NoticeSenderOptions {
  botToken: () => Promise<string>;
  /** @default https://slack.com/api/ */
  slackApiUrl?: string;
  logger: Logger;
  /**
   * How long one notice may take. The producer sends notices before it acknowledges the event, and Slack
   * retries an event that is not acknowledged within 3 s. @default 1500
   */
  timeoutMs?: number;
}

/**
 * Sends short ephemeral notices from the webhook (how to link, message too long) with `chat.postEphemeral`:
 * only the person addressed sees them, in the channel or thread where they wrote. Best effort by design: one
 * try, no waiting on rate limits, failures logged, because the event must be acknowledged within 3 s.
 */
export function createNoticeSender(options: NoticeSenderOptions) {
  const { logger } = options;
  let client: { token: string; web: WebClient } | undefined;

  function clientFor(token: string): WebClient {
    if (client?.token !== token) {
      client = {
        token,
        web: new WebClient(token, {
          slackApiUrl: options.slackApiUrl ?? 'https://slack.com/api/',
          timeout: options.timeoutMs ?? 1_500,
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          // We log each outcome ourselves; the client's own console lines would only repeat them.
          logLevel: LogLevel.ERROR,
        }),
      };
    }
    return client.web;
  }

  return {
    /** @returns whether Slack took the notice */
    async send(notice: SlackNotice): Promise<boolean> {
      try {
        const web = clientFor(await options.botToken());
        await web.chat.postEphemeral({
          channel: notice.channel,
          user: notice.user,
          text: notice.text,
          ...(notice.threadTs ? { thread_ts: notice.threadTs } : {}),
        });
        return true;
      } catch (error) {
        logger.warn('slack notice not sent', {
          channel: notice.channel,
          code: (error as { code?: string }).code,
          slackError: (error as { data?: { error?: string } }).data?.error,
        });
        return false;
      }
    },
  };
}

export type NoticeSender = ReturnType<typeof createNoticeSender>;
