import type { Logger } from '@aws-lambda-powertools/logger';
import type { Api } from 'grammy';
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
import { createReplyProgress, type ReplyProgress } from '../shared/reply-progress.ts';
import { type TelegramAddress, TelegramAddressSchema } from './address.ts';
import {
  createBotCalls,
  type RateLimitPolicy,
  type RenderedPart,
  safeTelegramError,
  UndeliverableReplyError,
} from './bot-calls.ts';
import { escapeHtml, markdownToTelegramHtml } from './markdown-to-html.ts';
import { splitForTelegram } from './split-text.ts';

export interface TelegramConsumerDeps {
  storage: Storage;
  /** grammY's Bot API client (`new Api(token, { apiRoot })`). */
  api: Api;
  logger: Logger;
  /** Least time between two edits of one reply; Telegram allows about one a second per chat. @default 1000 */
  editIntervalMs?: number;
  /** How long one completed reply may wait on 429s before it gives up and lets the bus retry. @default 20_000 */
  rateLimitBudgetMs?: number;
  /** How long a completed reply waits for a first message another delivery is posting. @default 5_000 */
  firstMessageWaitMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Where reply images are read from, to send them as photos. @default none: images are not sent (logged) */
  images?: ReplyImageStore;
}

/**
 * The `seq` the "waking up" placeholder claims: below every delta (they count from 1), so it wins only
 * when nothing of the reply is shown yet, and the reply's first delta then edits the placeholder.
 */
const WAKING_SEQ = -1;

/** Statuses that mean the agent is at work on a message: shown as "typing…". */
const BUSY_STATUSES = new Set<AgentStatusChanged['status']>(['waking', 'thinking', 'working']);

const render = (markdown: string): RenderedPart => ({
  html: markdownToTelegramHtml(markdown),
  plain: markdown,
});

/** The claim that found no record: nobody else has posted (or is posting) this reply's first message. */
const isFirstClaim = (previous: ReplyProgress) => previous.messageIds.length === 0 && previous.editedAt === 0;

/** What the user reads for a completed reply: the text, with the user-facing error after it when it failed. */
export function completedText(detail: ReplyCompleted): string {
  const text = detail.text.trim();
  if (detail.status === 'ok') return text || 'The agent finished without a reply.';
  const note =
    detail.error?.message ??
    (detail.status === 'aborted' ? 'The reply was stopped.' : 'Something went wrong; please try again.');
  return text ? `${text}\n\n⚠️ ${note}` : `⚠️ ${note}`;
}

/**
 * Delivers replies and status to Telegram. A reply streams into one message: the first delta (or the
 * "waking up" placeholder) posts it, later deltas edit it at most about once a second, and the completed
 * reply edits it into the final text as HTML (plain text when Telegram refuses the HTML), split into more
 * messages past 4096 characters. Every step first claims its `seq` in the shared reply progress, so
 * out-of-order and repeated deliveries never show older text or post the reply twice.
 *
 * Deltas and status are best effort: their failures are logged, never retried (a later step shows more).
 * The completed reply must arrive: a 429 is waited out within `rateLimitBudgetMs`, and anything that may
 * pass later (rate limit, server or network errors) is thrown so the bus delivers it again; that
 * redelivery edits the messages already shown and posts only what is missing. Refusals no retry can fix
 * (bot blocked, chat gone) are logged and dropped.
 */
export function createTelegramConsumer(deps: TelegramConsumerDeps) {
  const { storage, api, logger } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const editIntervalMs = deps.editIntervalMs ?? 1_000;
  const rateLimitBudgetMs = deps.rateLimitBudgetMs ?? 20_000;
  const firstMessageWaitMs = deps.firstMessageWaitMs ?? 5_000;
  const progress = createReplyProgress(storage, { now });
  const bot = createBotCalls({ api, sleep, now });
  /** Best-effort steps never wait on a 429. */
  const noWaiting = () => ({ waitOn429: false, deadline: now() });

  async function showStatus(detail: AgentStatusChanged, address: TelegramAddress): Promise<void> {
    if (!BUSY_STATUSES.has(detail.status)) return;
    // "typing…" failing (a 429, say) must not keep the placeholder from showing.
    await bot
      .typing(address, noWaiting())
      .catch((error: unknown) =>
        logger.debug('typing not shown', { error: safeTelegramError(error) as Error }),
      );
    if (detail.status !== 'waking' || !detail.inReplyTo) return;
    // Typing lasts five seconds and a cold start takes longer: a placeholder the reply will replace.
    const claimed = await progress.claim(detail.inReplyTo, WAKING_SEQ, false);
    if (!claimed) return;
    const messageId = await bot.post(
      address,
      { html: escapeHtml(detail.message), plain: detail.message },
      true,
      noWaiting(),
    );
    await progress.saveMessageIds(detail.inReplyTo, [String(messageId)]);
  }

  async function streamDelta(detail: ReplyDelta, address: TelegramAddress): Promise<void> {
    if (!detail.text.trim()) return;
    const current = await progress.get(detail.inReplyTo);
    if (current && (current.completed || current.seq >= detail.seq)) return;
    const wait = current ? current.editedAt + editIntervalMs - now() : 0;
    if (current && wait > 0) {
      // Wait for the edit slot rather than drop: this may be the last delta before a long tool call.
      await sleep(wait);
      const after = await progress.get(detail.inReplyTo);
      // Someone took the slot while we waited; their text or a later one will show.
      if (after && (after.completed || after.seq >= detail.seq || after.editedAt !== current.editedAt))
        return;
    }
    const previous = await progress.claim(detail.inReplyTo, detail.seq, false);
    if (!previous) return;
    // While streaming, the first message shows the first part; the completed reply adds the others.
    const part = render(splitForTelegram(detail.text)[0]!);
    const [firstId] = previous.messageIds;
    if (firstId) {
      await bot.edit(address, Number(firstId), part, noWaiting());
      return;
    }
    // Another delivery is posting the first message right now: it shows the reply; later steps edit it.
    if (!isFirstClaim(previous)) return;
    const messageId = await bot.post(address, part, true, noWaiting());
    await progress.saveMessageIds(detail.inReplyTo, [String(messageId)]);
  }

  async function deliverCompleted(detail: ReplyCompleted, address: TelegramAddress, eventId: string) {
    const policy = { waitOn429: true, deadline: now() + rateLimitBudgetMs };
    let previous = await progress.claim(detail.inReplyTo, detail.seq, true);
    if (!previous) {
      const current = await progress.get(detail.inReplyTo);
      if (!current?.completed || current.seq !== detail.seq) {
        logger.info('completed reply superseded; skipped', { inReplyTo: detail.inReplyTo, eventId });
        return;
      }
      // This same reply again: an earlier delivery may have failed half-way. Delivering again is safe, since
      // the messages it recorded are edited (to the same text: a no-op), and only missing parts are posted.
      previous = current;
    }
    let ids = [...previous.messageIds];
    if (ids.length === 0 && !isFirstClaim(previous)) {
      ids = await progress.waitForMessageIds(detail.inReplyTo, firstMessageWaitMs);
      // Still nothing: that delivery failed to post. Posting now risks a copy; not posting loses the reply.
    }
    const wait = previous.editedAt + editIntervalMs - now();
    if (ids.length > 0 && wait > 0) await sleep(wait);
    const parts = splitForTelegram(completedText(detail)).map(render);
    for (const [index, part] of parts.entries()) {
      const existing = ids[index];
      if (existing && (await bot.edit(address, Number(existing), part, policy)) === 'edited') continue;
      // No message for this part yet, or the user deleted the one we had: post it and record it at once,
      // so a redelivery after a failure further on does not post it again.
      ids[index] = String(await bot.post(address, part, index === 0, policy));
      await progress.saveMessageIds(detail.inReplyTo, ids);
    }
    const photos = await sendImages(detail, address, ids, parts.length, policy);
    logger.info('reply delivered', { inReplyTo: detail.inReplyTo, parts: parts.length, photos, eventId });
  }

  /**
   * Sends the reply's images as photos after its text. Their message ids are recorded after the text
   * parts' (at `offset + index`), so a redelivery sends only the photos still missing. An image that
   * cannot be sent for good (not this user's key, refused by Telegram) is logged and marked done.
   */
  async function sendImages(
    detail: ReplyCompleted,
    address: TelegramAddress,
    ids: string[],
    offset: number,
    policy: RateLimitPolicy,
  ): Promise<number> {
    const attachments = detail.attachments ?? [];
    if (attachments.length === 0) return 0;
    if (!deps.images) {
      logger.warn('reply images not sent: no image store configured', { images: attachments.length });
      return 0;
    }
    let sent = 0;
    for (const [index, attachment] of attachments.entries()) {
      if (ids[offset + index]) continue;
      try {
        const bytes = await deps.images.read(detail.userId, attachment);
        ids[offset + index] = String(
          await bot.photo(address, bytes, imageFileName(attachment, index), policy),
        );
        sent++;
      } catch (error) {
        if (!(error instanceof ReplyImageRefusedError || error instanceof UndeliverableReplyError))
          throw error;
        logger.warn('reply image not sent; skipped', {
          inReplyTo: detail.inReplyTo,
          index,
          error: error.message,
        });
        ids[offset + index] = 'skipped';
      }
      await progress.saveMessageIds(detail.inReplyTo, ids);
    }
    return sent;
  }

  return async function deliverToTelegram(envelope: BusEnvelope): Promise<void> {
    const detailType = envelope['detail-type'];
    const eventId = envelope.id;
    const parsed =
      detailType === 'ReplyDelta.v1'
        ? ReplyDeltaSchema.safeParse(envelope.detail)
        : detailType === 'ReplyCompleted.v1'
          ? ReplyCompletedSchema.safeParse(envelope.detail)
          : detailType === 'AgentStatusChanged.v1'
            ? AgentStatusChangedSchema.safeParse(envelope.detail)
            : undefined;
    const address =
      parsed?.success && parsed.data.replyTo.channel === 'telegram'
        ? TelegramAddressSchema.safeParse(parsed.data.replyTo.address)
        : undefined;
    if (!parsed?.success || !address?.success) {
      // A malformed event does not become deliverable by retrying: log (without content) and drop.
      logger.warn('event not deliverable to Telegram; dropped', { detailType, eventId });
      return;
    }
    try {
      if (detailType === 'ReplyCompleted.v1') {
        await deliverCompleted(parsed.data as ReplyCompleted, address.data, eventId);
      } else if (detailType === 'ReplyDelta.v1') {
        await streamDelta(parsed.data as ReplyDelta, address.data);
      } else {
        await showStatus(parsed.data as AgentStatusChanged, address.data);
      }
    } catch (thrown) {
      // Made safe first: grammY's own errors carry the user's text and, on network failures, the token.
      const error = safeTelegramError(thrown);
      if (error instanceof UndeliverableReplyError) {
        logger.warn('Telegram refused the reply; dropped', { detailType, eventId, status: error.status });
        return;
      }
      if (detailType !== 'ReplyCompleted.v1') {
        // Best effort: a retried delta or status would arrive stale; the completed reply is what counts.
        logger.warn('streaming step failed; skipped', { detailType, eventId, error: error as Error });
        return;
      }
      logger.error('completed reply not delivered yet; the bus will retry', {
        eventId,
        error: error as Error,
      });
      throw error;
    }
  };
}

export type TelegramConsumer = ReturnType<typeof createTelegramConsumer>;
