import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type AgentStatusChanged,
  AgentStatusChangedSchema,
  type BusEnvelope,
  type ReplyCompleted,
  ReplyCompletedSchema,
  type ReplyDelta,
  ReplyDeltaSchema,
} from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import { imageFileName, ReplyImageRefusedError, type ReplyImageStore } from '../shared/reply-images.ts';
import { createReplyProgress } from '../shared/reply-progress.ts';
import { type DiscordAddress, DiscordAddressSchema, tokenExpired } from './address.ts';
import { type DiscordClient, DiscordSendError, toSendError } from './discord-client.ts';
import { completedText, type OutgoingMessage, planMessages, previewText } from './reply-messages.ts';

export interface DiscordConsumerDeps {
  storage: Storage;
  client: DiscordClient;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
  /** Least time between two edits of a streaming reply (Discord allows a few edits a second). @default 1000 */
  editIntervalMs?: number;
  /**
   * A completed reply whose delivery stopped half-way (a Discord outage) is finished by a later delivery of
   * the event, but only this long after the first one began: until then that one may still be sending.
   * Keep it at least the consumer Lambda's timeout. @default 30000
   */
  resumeAfterMs?: number;
  /**
   * How long a second delivery of a completed reply (EventBridge delivers at least once) waits for the
   * first to finish sending before it asks the bus to retry it later. @default 5000
   */
  duplicateWaitMs?: number;
  /** How long the completed reply lets an edit of a just-claimed delta land before it overwrites it. @default 1000 */
  settleMs?: number;
  /** Where reply images are read from, to attach them to the reply. @default none: images are not sent (logged) */
  images?: ReplyImageStore;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers agent replies to Discord by editing the interaction's "thinking…" message: deltas become
 * throttled edits (a preview of at most one message), the completed reply the final text, split into
 * 2000-character messages (the first edits the original, the rest are follow-ups). Once the interaction
 * token has expired (15 minutes) or Discord refuses it, the reply goes to the channel as a bot message.
 * "Waking up the agent…" is shown while nothing else is. Ordering and redeliveries go through
 * reply-progress: a stale delta never overwrites newer text and a completed reply is posted once.
 *
 * It throws only when a completed reply could not be sent for reasons that may pass (rate limits, Discord
 * 5xx, timeouts), so the bus retries it; a later delivery resumes after the messages already sent.
 */
export function createDiscordConsumer(deps: DiscordConsumerDeps) {
  const { storage, client, logger } = deps;
  const now = deps.now ?? Date.now;
  const editIntervalMs = deps.editIntervalMs ?? 1_000;
  const resumeAfterMs = deps.resumeAfterMs ?? 30_000;
  const settleMs = deps.settleMs ?? 1_000;
  const duplicateWaitMs = deps.duplicateWaitMs ?? 5_000;
  const progress = createReplyProgress(storage, { now });

  /** Best effort: a preview that does not show is replaced by the next one or by the completed reply. */
  async function editPreview(address: DiscordAddress, content: string, inReplyTo: string): Promise<void> {
    try {
      await client.editOriginal(address, { content });
    } catch (error) {
      logger.info('preview not shown', { inReplyTo, ...toSendError(error, 'interaction').toLog() });
    }
  }

  async function showDelta(delta: ReplyDelta, address: DiscordAddress): Promise<void> {
    // Only the interaction's message can be edited cheaply; after it expires the completed reply goes to the channel.
    if (tokenExpired(address, now())) return;
    const preview = previewText(delta.text);
    if (!preview.trim()) return;
    const current = await progress.get(delta.inReplyTo);
    if (current && (current.completed || current.seq >= delta.seq)) return;
    // Throttle: skipping is safe because the text is cumulative; a later delta or the completed reply shows it.
    if (current && now() - current.editedAt < editIntervalMs) return;
    if (!(await progress.claim(delta.inReplyTo, delta.seq, false))) return;
    await editPreview(address, preview, delta.inReplyTo);
  }

  async function showStatus(status: AgentStatusChanged, address: DiscordAddress): Promise<void> {
    // Discord already shows "thinking…"; only a slow start (a task waking up) is worth saying.
    if (status.status !== 'waking' || !status.inReplyTo || tokenExpired(address, now())) return;
    // seq 0 is below every delta's: the claim succeeds only while nothing of the reply has been shown.
    if (!(await progress.claim(status.inReplyTo, 0, false))) return;
    await editPreview(address, status.message, status.inReplyTo);
  }

  /**
   * For a delivery of a completed reply that another delivery claimed first: undefined when there is
   * nothing left to do (all sent, or sent while we waited), else the messages already sent, once the
   * claiming delivery is surely over. While it may still be sending, throws so the bus asks again later.
   */
  async function takeOver(reply: ReplyCompleted, planLength: number): Promise<string[] | undefined> {
    const giveUpAt = now() + duplicateWaitMs;
    for (;;) {
      const current = await progress.get(reply.inReplyTo);
      if (!current?.completed || current.seq !== reply.seq || current.messageIds.length >= planLength) {
        return undefined;
      }
      if (now() - current.editedAt >= resumeAfterMs) return [...current.messageIds];
      if (now() >= giveUpAt) {
        throw new Error(`reply ${reply.inReplyTo} is being delivered by another invocation; retry later`);
      }
      await sleep(200);
    }
  }

  /** Sends one message of a completed reply, falling back as the token and the original message allow. */
  async function sendOne(
    address: DiscordAddress,
    message: OutgoingMessage,
    first: boolean,
    route: { viaChannel: boolean },
  ): Promise<string> {
    if (!route.viaChannel) {
      try {
        if (!first) return await client.followUp(address, message);
        try {
          return await client.editOriginal(address, message);
        } catch (error) {
          // Someone deleted the "thinking…" message: answer with a follow-up instead.
          if (!(error instanceof DiscordSendError && error.kind === 'message-gone')) throw error;
          return await client.followUp(address, message);
        }
      } catch (error) {
        if (!(error instanceof DiscordSendError && error.kind === 'token-gone')) throw error;
        logger.info('interaction token no longer accepted; answering in the channel', error.toLog());
        route.viaChannel = true;
      }
    }
    return client.channelMessage(address.channelId, message);
  }

  /** The reply's images as files; one that is not this user's is left out (logged). S3 failures throw. */
  async function imagesOf(reply: ReplyCompleted): Promise<Pick<OutgoingMessage, 'images'>> {
    const attachments = reply.attachments ?? [];
    if (attachments.length === 0) return {};
    if (!deps.images) {
      logger.warn('reply images not sent: no image store configured', { images: attachments.length });
      return {};
    }
    const images: NonNullable<OutgoingMessage['images']> = [];
    for (const [index, attachment] of attachments.entries()) {
      try {
        const data = await deps.images.read(reply.userId, attachment);
        images.push({ name: imageFileName(attachment, index), data, contentType: attachment.contentType });
      } catch (error) {
        if (!(error instanceof ReplyImageRefusedError)) throw error;
        logger.warn('reply image not sent; skipped', {
          inReplyTo: reply.inReplyTo,
          index,
          error: error.message,
        });
      }
    }
    return images.length > 0 ? { images } : {};
  }

  async function deliverCompleted(reply: ReplyCompleted, address: DiscordAddress): Promise<void> {
    const { inReplyTo } = reply;
    const plan = planMessages(completedText(reply));
    // `messageIds` of a Discord reply: the messages of the completed reply sent so far (previews edit the
    // original message and record nothing), so a resumed delivery knows where to go on.
    let sent: string[];
    const before = await progress.claim(inReplyTo, reply.seq, true);
    if (before) {
      sent = [];
      // A delta claimed a moment ago may still be on its way to Discord: let it land before the final text.
      const wait = before.editedAt + settleMs - now();
      if (before.editedAt > 0 && wait > 0) await sleep(Math.min(wait, settleMs));
    } else {
      const resumeFrom = await takeOver(reply, plan.length);
      if (!resumeFrom) {
        logger.info('completed reply already delivered; redelivery ignored', { inReplyTo });
        return;
      }
      sent = resumeFrom;
      logger.warn('resuming an interrupted reply', { inReplyTo, sent: sent.length, of: plan.length });
    }

    const route = { viaChannel: tokenExpired(address, now()) };
    for (let index = sent.length; index < plan.length; index++) {
      let id: string;
      // The images ride on the reply's last message (read only when that one is about to be sent).
      const last = index === plan.length - 1;
      const message = last ? { ...plan[index]!, ...(await imagesOf(reply)) } : plan[index]!;
      try {
        id = await sendOne(address, message, index === 0, route);
      } catch (error) {
        const failure = toSendError(
          error,
          route.viaChannel ? 'bot' : 'interaction',
          address.interactionToken,
        );
        if (failure.kind === 'retryable') {
          logger.warn('reply interrupted; the bus will retry', {
            inReplyTo,
            sent: index,
            ...failure.toLog(),
          });
          throw failure;
        }
        // Retrying cannot fix this (the bot may not post in the channel, no bot token): say so loudly.
        logger.error('reply cannot be delivered; dropped', {
          inReplyTo,
          sent: index,
          of: plan.length,
          channelId: address.channelId,
          ...failure.toLog(),
        });
        return;
      }
      sent.push(id);
      await progress.saveMessageIds(inReplyTo, sent);
    }
    logger.info('reply delivered', {
      inReplyTo,
      status: reply.status,
      messages: plan.length,
      via: route.viaChannel ? 'channel' : 'interaction',
    });
  }

  return async function deliverToDiscord(envelope: BusEnvelope): Promise<void> {
    const detailType = envelope['detail-type'];
    const detail = envelope.detail as { replyTo?: { channel?: unknown; address?: unknown } } | undefined;
    const address = DiscordAddressSchema.safeParse(detail?.replyTo?.address);
    if (detail?.replyTo?.channel !== 'discord' || !address.success) {
      // Retrying cannot make a malformed or misrouted event deliverable: log (without content) and drop.
      logger.warn('event not deliverable to Discord; dropped', { detailType, eventId: envelope.id });
      return;
    }
    if (detailType === 'ReplyDelta.v1') {
      const parsed = ReplyDeltaSchema.safeParse(envelope.detail);
      if (parsed.success) return showDelta(parsed.data, address.data);
    } else if (detailType === 'ReplyCompleted.v1') {
      const parsed = ReplyCompletedSchema.safeParse(envelope.detail);
      if (parsed.success) return deliverCompleted(parsed.data, address.data);
    } else if (detailType === 'AgentStatusChanged.v1') {
      const parsed = AgentStatusChangedSchema.safeParse(envelope.detail);
      if (parsed.success) return showStatus(parsed.data, address.data);
    }
    logger.warn('event not deliverable to Discord; dropped', { detailType, eventId: envelope.id });
  };
}

export type DiscordConsumer = ReturnType<typeof createDiscordConsumer>;
