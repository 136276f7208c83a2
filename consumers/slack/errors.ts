/**
 * Slack errors after which the same call can succeed later: Slack's own trouble. Everything else (no
 * access to the channel, a deleted message, a bad token, bad arguments) fails the same way every time.
 */
const RETRYABLE_SLACK_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_added_to_org',
]);

/** A Slack Web API call that failed. `retryable` says whether trying again later can help. */
export class SlackApiError extends Error {
  /** Slack's error code (`not_in_channel`, …), or `http_<status>` / `network` for transport failures. */
  readonly slackError: string;
  readonly retryable: boolean;
  constructor(method: string, slackError: string, retryable: boolean, options?: ErrorOptions) {
    super(`Slack ${method} failed: ${slackError}`, options);
    this.name = 'SlackApiError';
    this.slackError = slackError;
    this.retryable = retryable;
  }
}

/** Slack asked us to wait longer than this invocation has left: throw, so Lambda retries the event later. */
export class SlackRateLimitedError extends SlackApiError {
  readonly retryAfterSeconds: number;
  constructor(method: string, retryAfterSeconds: number) {
    super(method, 'ratelimited', true);
    this.name = 'SlackRateLimitedError';
    this.message = `Slack ${method} is rate limited for ${retryAfterSeconds} s, longer than this invocation has left`;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Turns what the WebClient threw into a `SlackApiError`, keeping the original as `cause`. */
export function toSlackApiError(method: string, error: unknown): SlackApiError {
  if (error instanceof SlackApiError) return error;
  const thrown = error as { code?: string; data?: { error?: string }; statusCode?: number };
  if (thrown.code === 'slack_webapi_platform_error') {
    const slackError = thrown.data?.error ?? 'unknown_error';
    return new SlackApiError(method, slackError, RETRYABLE_SLACK_ERRORS.has(slackError), { cause: error });
  }
  if (thrown.code === 'slack_webapi_http_error') {
    const status = thrown.statusCode ?? 0;
    return new SlackApiError(method, `http_${status}`, status >= 500 || status === 408, { cause: error });
  }
  // Timeouts and connection failures: the network, not the request.
  return new SlackApiError(method, 'network', true, { cause: error });
}
