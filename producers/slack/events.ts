import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MAX_MESSAGE_TEXT_CHARS } from '../../schemas/index.ts';
import type { ChannelIngress } from '../shared/channel-ingress.ts';
import { jsonResponse, textResponse } from '../shared/http.ts';
import type { NoticeSender } from './notice-sender.ts';
import { notices } from './notices.ts';
import { type ChatEvent, ChatEventSchema, type EventCallback } from './payloads.ts';
import { toAgentText } from './slack-text.ts';

/**
 * Message subtypes that are still a person writing to us: a message with a file (we pass on its text) and
 * a thread reply also sent to the channel. Every other subtype (edits, deletions, joins, bot messages…)
 * is not a new question and is ignored.
 */
const USER_MESSAGE_SUBTYPES = new Set(['file_share', 'thread_broadcast']);

export interface EventCallbackDeps {
  ingress: ChannelIngress;
  notices: NoticeSender;
  logger: Logger;
  /** The slash command named in notices, e.g. `/openclaw`. */
  commandName: string;
  /** Our bot user, when the event's `authorizations` do not name it. */
  botUserId?: string;
}

/** Why an event is not a question for the agent; undefined when it is one. */
function reasonToIgnore(event: ChatEvent, botUserId: string | undefined): string | undefined {
  if (event.bot_id) return 'bot message';
  if (event.subtype && !USER_MESSAGE_SUBTYPES.has(event.subtype)) return `subtype ${event.subtype}`;
  if (!event.user) return 'no sender';
  if (event.user === botUserId) return 'our own message';
  if (event.type === 'message' && event.channel_type !== 'im') return 'not a direct message';
  // A mention inside our direct message also arrives as a `message` event, which answers it.
  if (event.type === 'app_mention' && event.channel.startsWith('D')) return 'mention in a direct message';
  return undefined;
}

/**
 * Events API `event_callback`s: an `app_mention` in a channel, or a `message` in the bot's direct messages,
 * becomes a `MessageReceived` (deduplicated on the event id, since Slack redelivers events it thinks we
 * missed) whose reply goes into the thread. Everything else is acknowledged and ignored. Never waits for
 * the agent: Slack wants its answer within 3 s.
 */
export function createEventCallbackHandler(deps: EventCallbackDeps) {
  const { ingress, logger } = deps;
  const ok = () => textResponse(200, '');

  return async function handleEventCallback(
    envelope: EventCallback,
    retryNum: string | undefined,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const eventId = envelope.event_id;
    const eventType = envelope.event.type;
    if (eventType !== 'app_mention' && eventType !== 'message') {
      logger.info('slack event ignored', { eventId, eventType, reason: 'not subscribed to' });
      return ok();
    }
    const parsed = ChatEventSchema.safeParse(envelope.event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      logger.warn('slack event rejected: unexpected shape', {
        eventId,
        eventType,
        field: issue?.path.join('.'),
        problem: issue?.message,
      });
      return jsonResponse(400, { error: 'unexpected event shape' });
    }
    const event = parsed.data;
    const botUserId = envelope.authorizations?.find((a) => a.is_bot)?.user_id ?? deps.botUserId;
    const ignored = reasonToIgnore(event, botUserId);
    if (ignored || !event.user) {
      logger.info('slack event ignored', { eventId, eventType, reason: ignored });
      return ok();
    }
    const user = event.user;

    // Channels: every mention is answered in its thread, and a thread is one conversation. Direct
    // messages: the top level is one running conversation, answered at the top level.
    const threadTs = event.thread_ts ?? (event.type === 'app_mention' ? event.ts : undefined);
    const chatKey = threadTs ? `${event.channel}:${threadTs}` : event.channel;
    const notify = (text: string) =>
      deps.notices.send({ channel: event.channel, user, text, ...(threadTs ? { threadTs } : {}) });

    const text = toAgentText(event.text, botUserId);
    if (!text) {
      await notify(notices.emptyMessage);
      logger.info('slack event answered with a notice', { eventId, reason: 'empty' });
      return ok();
    }
    if (text.length > MAX_MESSAGE_TEXT_CHARS) {
      await notify(notices.tooLong(text.length));
      logger.info('slack event answered with a notice', { eventId, reason: 'too long', length: text.length });
      return ok();
    }

    const teamId = envelope.team_id ?? event.team;
    const displayName = event.user_profile?.display_name || event.user_profile?.real_name;
    const result = await ingress.submit({
      channel: 'slack',
      channelUserId: user,
      ...(displayName ? { displayName } : {}),
      deliveryId: `event:${eventId}`,
      chatKey,
      text,
      replyTo: {
        channel: 'slack',
        address: {
          channel: event.channel,
          userId: user,
          ...(threadTs ? { threadTs } : {}),
          ...(teamId ? { teamId } : {}),
        },
      },
    });
    switch (result.kind) {
      case 'published':
        logger.info('slack message published', {
          eventId,
          retryNum,
          messageId: result.messageId,
          userId: result.userId,
          conversationId: result.conversationId,
        });
        return ok();
      case 'duplicate':
        logger.info('slack event redelivered; already published', {
          eventId,
          retryNum,
          messageId: result.messageId,
        });
        return ok();
      case 'in-flight':
        // The first delivery is still publishing (or failed to): only Slack's next retry can tell.
        logger.warn('slack event redelivered while the first copy is in flight; asking Slack to retry', {
          eventId,
          retryNum,
        });
        return jsonResponse(503, { error: 'in flight; retry later' });
      case 'stranger':
        await notify(notices.linkHowTo(deps.commandName));
        logger.info('slack message from a stranger; told how to link', { eventId, channelUserId: user });
        return ok();
    }
  };
}
