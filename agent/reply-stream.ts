import type { Publisher } from '../bus/index.ts';
import {
  EventSources,
  MAX_REPLY_TEXT_CHARS,
  type ReplyCompleted,
  type ReplyTo,
  type UserFacingError,
} from '../schemas/index.ts';

export interface ReplyStreamOptions {
  publisher: Publisher;
  userId: string;
  conversationId: string;
  replyTo: ReplyTo;
  inReplyTo: string;
  /**
   * At most one ReplyDelta per this interval: each is a PutEvents call and a delivery, and channels such
   * as Telegram allow about one edit a second anyway. @default 250
   */
  minIntervalMs?: number;
  /** Told when a delta could not be published; deltas are best-effort, the completed reply is not. */
  onDeltaError?: (error: unknown) => void;
  /** How long `complete` waits for a delta still in flight before publishing anyway. @default 1000 */
  deltaWaitMs?: number;
  /** Called with the final reply before it is published (the turn runner stores it for redeliveries). */
  beforeComplete?: (reply: ReplyCompleted) => Promise<void>;
}

export interface CompleteInput {
  status: ReplyCompleted['status'];
  text: string;
  error?: UserFacingError;
  durationMs?: number;
  usage?: ReplyCompleted['usage'];
  attachments?: ReplyCompleted['attachments'];
}

const TRUNCATION_NOTE = '\n\n[reply truncated]';

/**
 * Largest reply text, in bytes as JSON-encoded: it must fit a PostToConnection frame (128 KB) with its
 * envelope, and an EventBridge entry (256 KB). Characters are the wrong unit: 40,000 CJK characters are
 * 120 KB. @default 96 KiB
 */
export const MAX_REPLY_TEXT_BYTES = 96 * 1024;

const jsonBytes = (text: string) => Buffer.byteLength(JSON.stringify(text), 'utf8');

/** Cuts `text` so its JSON encoding fits `maxBytes`, marking the cut. */
export function capText(text: string, maxBytes = MAX_REPLY_TEXT_BYTES): string {
  let limited = text.length > MAX_REPLY_TEXT_CHARS ? text.slice(0, MAX_REPLY_TEXT_CHARS) : text;
  if (limited === text && jsonBytes(text) <= maxBytes) return text;
  const budget = maxBytes - jsonBytes(TRUNCATION_NOTE);
  while (jsonBytes(limited) > budget) {
    // Shrink in proportion to the overshoot; converges in a few steps even for escape-heavy text.
    limited = limited.slice(0, Math.floor((limited.length * budget) / jsonBytes(limited)) - 1);
  }
  // Do not leave half of a surrogate pair at the cut.
  if (/[\uD800-\uDBFF]$/.test(limited)) limited = limited.slice(0, -1);
  return limited + TRUNCATION_NOTE;
}

/**
 * Turns OpenClaw's cumulative partial text into throttled `ReplyDelta` events and a final
 * `ReplyCompleted`. Deltas carry the whole text so far and a rising `seq`, because EventBridge does not
 * keep order: a consumer keeps the highest seq it has seen.
 */
export function createReplyStream(options: ReplyStreamOptions) {
  const { publisher, userId, conversationId, replyTo, inReplyTo } = options;
  const minIntervalMs = options.minIntervalMs ?? 250;
  let seq = 0;
  let latest = '';
  let sentText = '';
  let lastSentAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let completed = false;

  function sendDelta(): void {
    timer = undefined;
    if (completed || latest === sentText) return;
    sentText = latest;
    lastSentAt = Date.now();
    seq += 1;
    const detail = { userId, conversationId, replyTo, inReplyTo, seq, text: capText(latest) };
    inFlight = inFlight
      .then(() => publisher.publish({ source: EventSources.agent, detailType: 'ReplyDelta.v1', detail }))
      .catch((error) => options.onDeltaError?.(error));
  }

  return {
    /** Offers the reply so far. Sent now if the interval has passed, else once it has. */
    push(cumulativeText: string): void {
      if (completed) return;
      latest = cumulativeText;
      if (timer) return;
      const wait = lastSentAt + minIntervalMs - Date.now();
      if (wait <= 0) sendDelta();
      else timer = setTimeout(sendDelta, wait);
    },

    /** Publishes the final reply after any delta in flight. Throws if it cannot be published. */
    async complete(input: CompleteInput): Promise<void> {
      completed = true;
      if (timer) clearTimeout(timer);
      // Deltas are best-effort: a hung one must not eat the time left to publish the reply.
      let waitTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        inFlight,
        new Promise((resolve) => {
          waitTimer = setTimeout(resolve, options.deltaWaitMs ?? 1_000);
        }),
      ]);
      clearTimeout(waitTimer);
      const detail: ReplyCompleted = {
        userId,
        conversationId,
        replyTo,
        inReplyTo,
        seq: seq + 1,
        status: input.status,
        text: capText(input.text),
        ...(input.error ? { error: input.error } : {}),
        ...(input.durationMs !== undefined ? { durationMs: input.durationMs } : {}),
        ...(input.usage ? { usage: input.usage } : {}),
        ...(input.attachments?.length ? { attachments: input.attachments } : {}),
      };
      await options.beforeComplete?.(detail);
      await publisher.publish({ source: EventSources.agent, detailType: 'ReplyCompleted.v1', detail });
    },

    /** How many deltas were published (for logs and tests). */
    get deltaCount(): number {
      return seq;
    },
  };
}
