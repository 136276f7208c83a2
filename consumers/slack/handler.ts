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
import { decodeMessageRef, encodeMessageRef, type SlackAddress, SlackAddressSchema } from './address.ts';
import { SlackApiError } from './errors.ts';
import { escapeMrkdwn, markdownToMrkdwn } from './mrkdwn.ts';
import type { Deadline, SlackApi, SlackMessageRef } from './slack-api.ts';
import { SLACK_MESSAGE_CHARS, splitMessage } from './split-message.ts';

export interface SlackConsumerDeps {
  storage: Storage;
  slack: SlackApi;
  logger: Logger;
  /** Least time between two edits of a streaming reply (Slack allows about one a second). @default 1000 */
  editIntervalMs?: number;
  /** Time one delivery may take when no Lambda context says otherwise. @default 25000 */
  budgetMs?: number;
  /**
   * After the final edit of a message a delta edited moments before, wait this long and edit it once more:
   * the delta's request may reach Slack after ours (each event runs in its own Lambda). @default 1000
   */
  settleMs?: number;
  /** How long a completed reply waits for the first message another delivery is posting. @default 5000 */
  firstMessageWaitMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** Where reply images are read from, to upload them into the thread. @default none: not sent (logged) */
  images?: ReplyImageStore;
}

/** The part of the Lambda context we read. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Appended to a reply's message ids once the completed reply is fully shown: a redelivery stops there. */
const DELIVERED = 'delivered';
/** Kept after a reply's message ids, one per reply image: `file:<id>` when shared, `file:skipped` if not. */
const FILE_MARK = 'file:';
/** The channel will not take our message: answer the person by direct message instead. */
const CHANNEL_UNREACHABLE = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);
/** The message to edit is gone (deleted by someone, or too old): post a new one. */
const MESSAGE_GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);
/** Statuses worth a placeholder message that the reply then replaces. */
const SHOWN_STATUSES = new Set(['waking', 'thinking', 'working']);
/** A delta claimed this recently may still be editing when the completed reply is shown. */
const DELTA_RACE_WINDOW_MS = 2_000;

/** What the person reads for a completed reply, in Markdown: the text, and what went wrong if anything. */
export function finalMarkdown(completed: ReplyCompleted): string {
  const body = completed.text.trim();
  if (completed.status === 'ok') return body || '_(The agent sent an empty reply.)_';
  const why =
    completed.error?.message ??
    (completed.status === 'aborted'
      ? 'The reply was stopped before it finished.'
      : 'The agent could not answer this time. Please try again.');
  return body ? `${body}\n\n:warning: ${why}` : `:warning: ${why}`;
}

/** A streaming reply fits in its first message; what does not fit yet is shown by the completed reply. */
function streamingText(markdown: string): string {
  const trimmed = markdown.trim();
  if (!trimmed) return '';
  const pieces = splitMessage(markdownToMrkdwn(trimmed), SLACK_MESSAGE_CHARS - 2);
  return pieces.length > 1 ? `${pieces[0]} …` : (pieces[0] ?? '');
}

/**
 * Delivers the agent's replies to Slack by streaming edits: the first delta (or a "Thinking…" status)
 * posts a message in the thread with `chat.postMessage`, later deltas edit it with `chat.update` at most
 * about once a second, and the completed reply replaces it with the final text in Slack mrkdwn, split into
 * messages of at most 3,000 characters (the first edits the streamed message, the rest follow it).
 *
 * Order and redelivery are settled by claims on the reply's progress record (see `reply-progress.ts`):
 * stale deltas do nothing, and a redelivered completed reply is not shown twice. Throws only for what a
 * retry can fix (Slack or DynamoDB trouble, a rate limit longer than the time left); a reply Slack will
 * never take is logged and dropped.
 */
export function createSlackConsumer(deps: SlackConsumerDeps) {
  const { slack, logger } = deps;
  const now = deps.now ?? Date.now;
  const editIntervalMs = deps.editIntervalMs ?? 1_000;
  const budgetMs = deps.budgetMs ?? 25_000;
  const settleMs = deps.settleMs ?? 1_000;
  const firstMessageWaitMs = deps.firstMessageWaitMs ?? 5_000;
  const progress = createReplyProgress(deps.storage, { now });

  /** Posts the first message of a reply where it was asked, or in the asker's direct message if refused. */
  async function postFirst(
    address: SlackAddress,
    text: string,
    deadline: Deadline,
  ): Promise<SlackMessageRef> {
    try {
      return await slack.postMessage(
        { channel: address.channel, text, ...(address.threadTs ? { threadTs: address.threadTs } : {}) },
        deadline,
      );
    } catch (error) {
      const unreachable = error instanceof SlackApiError && CHANNEL_UNREACHABLE.has(error.slackError);
      if (!unreachable || !address.userId || address.channel.startsWith('D')) throw error;
      logger.warn('slack channel refused the reply; answering by direct message', {
        channel: address.channel,
        slackError: error.slackError,
      });
      await slack.postMessage(
        {
          channel: address.userId,
          text: `I can't post in <#${address.channel}> (invite me there with \`/invite\`), so here is my answer:`,
        },
        deadline,
      );
      return slack.postMessage({ channel: address.userId, text }, deadline);
    }
  }

  /** Posts message `index` of a reply: the first where it was asked, the others right after it. */
  function post(
    index: number,
    refs: SlackMessageRef[],
    address: SlackAddress,
    text: string,
    deadline: Deadline,
  ) {
    const first = refs[0];
    if (index === 0 || !first) return postFirst(address, text, deadline);
    // Follow the first message: into the thread asked in, or the direct message it fell back to.
    const threadTs = first.channel === address.channel ? address.threadTs : undefined;
    return slack.postMessage({ channel: first.channel, text, ...(threadTs ? { threadTs } : {}) }, deadline);
  }

  async function onDelta(delta: ReplyDelta, address: SlackAddress, deadline: Deadline): Promise<void> {
    const text = streamingText(delta.text);
    if (!text) return;
    const current = await progress.get(delta.inReplyTo);
    if (current) {
      if (current.completed || current.seq >= delta.seq) return;
      // Its first message is being posted by another delivery; the completed reply will show everything.
      if (current.messageIds.length === 0) return;
      if (now() - current.editedAt < editIntervalMs) return;
    }
    const before = await progress.claim(delta.inReplyTo, delta.seq, false);
    if (!before) return;
    const firstRef = before.messageIds[0];
    try {
      if (firstRef) {
        await slack.update(decodeMessageRef(firstRef), text, deadline);
      } else if (before.editedAt === 0) {
        const ref = await postFirst(address, text, deadline);
        await progress.saveMessageIds(delta.inReplyTo, [encodeMessageRef(ref)]);
      }
    } catch (error) {
      // A delta is worth nothing once a newer one or the completed reply arrives: never retried.
      logger.warn('slack delta not shown', {
        inReplyTo: delta.inReplyTo,
        seq: delta.seq,
        slackError: error instanceof SlackApiError ? error.slackError : (error as Error).message,
      });
    }
  }

  async function onStatus(
    status: AgentStatusChanged,
    address: SlackAddress,
    deadline: Deadline,
  ): Promise<void> {
    if (!status.inReplyTo || !SHOWN_STATUSES.has(status.status)) return;
    // Only before anything of the reply is shown; deltas start at seq 1, so the status claims seq 0.
    if (await progress.get(status.inReplyTo)) return;
    const before = await progress.claim(status.inReplyTo, 0, false);
    if (before?.editedAt !== 0) return;
    try {
      const ref = await postFirst(address, `_${escapeMrkdwn(status.message)}_`, deadline);
      await progress.saveMessageIds(status.inReplyTo, [encodeMessageRef(ref)]);
    } catch (error) {
      logger.warn('slack status not shown', {
        inReplyTo: status.inReplyTo,
        slackError: error instanceof SlackApiError ? error.slackError : (error as Error).message,
      });
    }
  }

  async function onCompleted(
    completed: ReplyCompleted,
    address: SlackAddress,
    deadline: Deadline,
  ): Promise<void> {
    const { inReplyTo } = completed;
    const chunks = splitMessage(markdownToMrkdwn(finalMarkdown(completed)));
    let stored: string[];
    let deltaMayBeEditing = false;
    const before = await progress.claim(inReplyTo, completed.seq, true);
    if (before) {
      stored = before.messageIds;
      deltaMayBeEditing =
        stored.length > 0 && before.seq > 0 && now() - before.editedAt < DELTA_RACE_WINDOW_MS;
      // Claimed but nothing recorded yet: another delivery is posting the first message right now.
      if (stored.length === 0 && before.editedAt !== 0) {
        stored = await progress.waitForMessageIds(inReplyTo, firstMessageWaitMs);
      }
    } else {
      const current = await progress.get(inReplyTo);
      if (!current?.completed || current.seq !== completed.seq) {
        logger.info('slack reply superseded; not shown', { inReplyTo, seq: completed.seq });
        return;
      }
      if (current.messageIds.at(-1) === DELIVERED) {
        logger.info('slack reply redelivered; already shown', { inReplyTo });
        return;
      }
      // An earlier attempt failed part-way: edit what it posted, post only what is missing.
      stored = current.messageIds;
    }

    const files = stored.filter((id) => id.startsWith(FILE_MARK));
    const refs = stored.filter((id) => !id.startsWith(FILE_MARK)).map(decodeMessageRef);
    const save = () => progress.saveMessageIds(inReplyTo, [...refs.map(encodeMessageRef), ...files]);
    for (const [index, text] of chunks.entries()) {
      const existing = refs[index];
      if (existing) {
        try {
          await slack.update(existing, text, deadline);
          continue;
        } catch (error) {
          if (!(error instanceof SlackApiError && MESSAGE_GONE.has(error.slackError))) throw error;
          logger.info('slack message to edit is gone; posting anew', {
            inReplyTo,
            slackError: error.slackError,
          });
        }
      }
      refs[index] = await post(index, refs, address, text, deadline);
      await save();
    }
    const first = refs[0];
    if (deltaMayBeEditing && first && chunks[0]) {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      await slack.update(first, chunks[0], deadline);
    }
    const uploaded = await uploadImages(completed, address, refs, files, save, deadline);
    await progress.saveMessageIds(inReplyTo, [...refs.map(encodeMessageRef), ...files, DELIVERED]);
    logger.info('slack reply shown', {
      inReplyTo,
      status: completed.status,
      messages: chunks.length,
      images: uploaded,
    });
  }

  /**
   * Uploads the reply's images into the thread after its text, each recorded in `files` (saved after each
   * one) so a redelivery uploads only those still missing. An image that can never be shared (not this
   * user's key, refused by Slack for good) is logged and marked skipped; what a retry can fix throws.
   */
  async function uploadImages(
    completed: ReplyCompleted,
    address: SlackAddress,
    refs: SlackMessageRef[],
    files: string[],
    save: () => Promise<void>,
    deadline: Deadline,
  ): Promise<number> {
    const attachments = completed.attachments ?? [];
    const first = refs[0];
    if (attachments.length === 0 || !first) return 0;
    if (!deps.images) {
      logger.warn('reply images not sent: no image store configured', { images: attachments.length });
      return 0;
    }
    // Where the text went: the thread asked in, or the direct message it fell back to.
    const threadTs = first.channel === address.channel ? address.threadTs : undefined;
    let uploaded = 0;
    for (const [index, attachment] of attachments.entries()) {
      if (files[index]) continue;
      try {
        const data = await deps.images.read(completed.userId, attachment);
        const id = await slack.uploadFile(
          {
            channel: first.channel,
            ...(threadTs ? { threadTs } : {}),
            filename: imageFileName(attachment, index),
            data,
            altText: `Image ${index + 1} of the agent's reply`,
          },
          deadline,
        );
        files[index] = `${FILE_MARK}${id}`;
        uploaded++;
      } catch (error) {
        const never =
          error instanceof ReplyImageRefusedError || (error instanceof SlackApiError && !error.retryable);
        if (!never) throw error;
        logger.warn('reply image not sent; skipped', {
          inReplyTo: completed.inReplyTo,
          index,
          error: error instanceof SlackApiError ? error.slackError : error.message,
        });
        files[index] = `${FILE_MARK}skipped`;
      }
      await save();
    }
    return uploaded;
  }

  return async function deliverToSlack(envelope: BusEnvelope, context?: InvocationContext): Promise<void> {
    const startedAt = now();
    const deadline: Deadline = {
      remainingMs: () => (context ? context.getRemainingTimeInMillis() : startedAt + budgetMs - now()),
    };
    const detailType = envelope['detail-type'];
    const detail = envelope.detail as { replyTo?: { channel?: unknown; address?: unknown } };
    const address = SlackAddressSchema.safeParse(detail.replyTo?.address);
    if (detail.replyTo?.channel !== 'slack' || !address.success) {
      // A malformed event cannot become deliverable by retrying: log (without content) and drop.
      logger.warn('event not deliverable to slack; dropped', { detailType, eventId: envelope.id });
      return;
    }
    try {
      if (detailType === 'ReplyDelta.v1') {
        const delta = ReplyDeltaSchema.safeParse(envelope.detail);
        if (delta.success) return await onDelta(delta.data, address.data, deadline);
      } else if (detailType === 'ReplyCompleted.v1') {
        const completed = ReplyCompletedSchema.safeParse(envelope.detail);
        if (completed.success) return await onCompleted(completed.data, address.data, deadline);
      } else if (detailType === 'AgentStatusChanged.v1') {
        const status = AgentStatusChangedSchema.safeParse(envelope.detail);
        if (status.success) return await onStatus(status.data, address.data, deadline);
      }
    } catch (error) {
      if (error instanceof SlackApiError && !error.retryable) {
        logger.error('slack refused the reply; dropped', {
          detailType,
          eventId: envelope.id,
          channel: address.data.channel,
          slackError: error.slackError,
        });
        return;
      }
      throw error;
    }
    logger.warn('event not deliverable to slack; dropped', { detailType, eventId: envelope.id });
  };
}
