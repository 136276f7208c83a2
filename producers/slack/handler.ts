import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Publisher } from '../../bus/index.ts';
import type { Storage } from '../../schemas/table.ts';
import type { JobStore } from '../schedule/index.ts';
import { createChannelIngress } from '../shared/channel-ingress.ts';
import { header, jsonResponse, MAX_WEBHOOK_BODY_BYTES, rawBody, textResponse } from '../shared/http.ts';
import type { Identity } from '../shared/identity.ts';
import { createScheduleCommands } from '../shared/schedule-commands.ts';
import { createEventCallbackHandler } from './events.ts';
import type { NoticeSender } from './notice-sender.ts';
import { notices } from './notices.ts';
import { EventCallbackSchema, SlashCommandSchema, UrlVerificationSchema } from './payloads.ts';
import { createSlashCommandHandler } from './slash-command.ts';
import { verifySlackSignature } from './verify-signature.ts';

export interface SlackProducerDeps {
  storage: Storage;
  publisher: Publisher;
  identity: Identity;
  /** The app's signing secret (Basic Information → App Credentials), read per request so rotation works. */
  signingSecret: () => Promise<string>;
  notices: NoticeSender;
  logger: Logger;
  /** The slash command named in notices to people who wrote an Events API message. @default '/openclaw' */
  commandName?: string;
  /** Our bot user id, for events whose `authorizations` do not name it. @default undefined */
  botUserId?: string;
  /** @default Date.now */
  now?: () => number;
  /** The scheduled-jobs store behind `schedule`, `schedules`, `unschedule` (the one `/v1/schedules` uses). */
  jobs?: JobStore;
}

/** Base64 makes a body a third longer: anything longer than this cannot decode to an acceptable size. */
const MAX_ENCODED_BODY_CHARS = Math.ceil((MAX_WEBHOOK_BODY_BYTES * 4) / 3) + 4;

/**
 * The Slack app's one webhook, `POST /webhooks/slack`, for both the Events API (JSON) and slash commands
 * (form posts), told apart by content type. Every request must carry Slack's signature over the raw body
 * and a timestamp within five minutes; anything else is refused with 401 before its body is read.
 */
export function createSlackProducer(deps: SlackProducerDeps) {
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const commandName = deps.commandName ?? '/openclaw';
  const ingress = createChannelIngress({
    storage: deps.storage,
    publisher: deps.publisher,
    identity: deps.identity,
    now,
  });
  const onEvent = createEventCallbackHandler({
    ingress,
    notices: deps.notices,
    logger,
    commandName,
    ...(deps.botUserId ? { botUserId: deps.botUserId } : {}),
  });
  const onCommand = createSlashCommandHandler({
    ingress,
    identity: deps.identity,
    logger,
    ...(deps.jobs ? { scheduleCommands: createScheduleCommands({ jobs: deps.jobs }) } : {}),
  });

  async function handleJson(
    body: string,
    retryNum: string | undefined,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      logger.warn('slack request rejected: body is not JSON');
      return jsonResponse(400, { error: 'body is not JSON' });
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (type === 'url_verification') {
      const parsed = UrlVerificationSchema.safeParse(json);
      if (!parsed.success) return jsonResponse(400, { error: 'unexpected url_verification shape' });
      logger.info('slack url verification answered');
      return jsonResponse(200, { challenge: parsed.data.challenge });
    }
    if (type === 'event_callback') {
      const parsed = EventCallbackSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        logger.warn('slack request rejected: unexpected event_callback shape', {
          field: issue?.path.join('.'),
          problem: issue?.message,
        });
        return jsonResponse(400, { error: 'unexpected event_callback shape' });
      }
      return onEvent(parsed.data, retryNum);
    }
    if (type === 'app_rate_limited') {
      // Slack drops events for a minute when an app fails too many: worth an alarm, nothing to answer.
      logger.warn('slack is rate limiting event deliveries to this app');
      return textResponse(200, '');
    }
    logger.info('slack request of an unhandled type acknowledged', { type: String(type).slice(0, 64) });
    return textResponse(200, '');
  }

  async function handleForm(body: string): Promise<APIGatewayProxyStructuredResultV2> {
    const form = new URLSearchParams(body);
    if (form.get('ssl_check') === '1') return textResponse(200, '');
    const parsed = SlashCommandSchema.safeParse(Object.fromEntries(form));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      logger.warn('slack request rejected: not a slash command', {
        field: issue?.path.join('.'),
        problem: issue?.message,
      });
      return jsonResponse(400, { error: 'not a slash command' });
    }
    try {
      return await onCommand(parsed.data);
    } catch (error) {
      // Slack shows a bare "dispatch_failed" for a 5xx; an ephemeral line tells the person what to do.
      logger.error('slack command failed', { triggerId: parsed.data.trigger_id, error: error as Error });
      return jsonResponse(200, { response_type: 'ephemeral', text: notices.unavailable });
    }
  }

  return async function handleSlackWebhook(
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const requestId = event.requestContext?.requestId;
    const method = event.requestContext?.http?.method;
    if (method && method !== 'POST') return textResponse(405, 'method not allowed');
    if ((event.body?.length ?? 0) > MAX_ENCODED_BODY_CHARS) {
      logger.warn('slack request rejected: body too large', { requestId, chars: event.body?.length });
      return textResponse(413, 'body too large');
    }
    const body = rawBody(event);
    if (Buffer.byteLength(body, 'utf8') > MAX_WEBHOOK_BODY_BYTES) {
      logger.warn('slack request rejected: body too large', { requestId });
      return textResponse(413, 'body too large');
    }
    try {
      const check = verifySlackSignature({
        signingSecret: await deps.signingSecret(),
        timestamp: header(event, 'x-slack-request-timestamp'),
        signature: header(event, 'x-slack-signature'),
        rawBody: body,
        nowMs: now(),
      });
      if (!check.ok) {
        logger.warn('slack request rejected: not signed by Slack', { requestId, reason: check.reason });
        return textResponse(401, 'invalid or missing Slack signature');
      }
      const contentType = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (contentType === 'application/json')
        return await handleJson(body, header(event, 'x-slack-retry-num'));
      if (contentType === 'application/x-www-form-urlencoded') return await handleForm(body);
      logger.warn('slack request rejected: unsupported content type', { requestId, contentType });
      return textResponse(415, 'unsupported content type');
    } catch (error) {
      // Storage, bus or secret trouble: a 5xx makes Slack retry the event, and the ingress lets the retry in.
      logger.error('slack request failed', { requestId, error: error as Error });
      return textResponse(500, 'temporarily unavailable');
    }
  };
}
