import type { MessageReceived } from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import { findStoredReply } from '../turn-records.ts';

export interface PredecessorGateOptions {
  storage: Storage;
  /**
   * How long after its arrival a message may wait for the one it names in `afterMessageId`. Longer than a
   * bus delivery is late in practice (a cold agent instance is ~5 s); short enough that a predecessor that
   * is lost or retried much later delays the message only this once. @default 10000
   */
  maxWaitMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Whether a message must wait for its predecessor: the message its sender had seen accepted just before
 * it (`afterMessageId`) has no reply yet. EventBridge does not keep order, so the invocation of a later
 * message can take the user's lock before the earlier one's even reached the agent; the lock's holder
 * then queues it and waits until the earlier one joins the queue (it sorts first) or the wait runs out.
 *
 * Every answered message has a stored reply (`turn-records.ts`), errors and command answers included,
 * so "no reply" means "not answered yet". Any reply counts, another user's too: such a hint is not the
 * sender's to give, and it is simply not waited on (nor is anything of that reply used).
 */
export function createPredecessorGate(options: PredecessorGateOptions) {
  const { storage } = options;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const now = options.now ?? Date.now;

  return async function mustWaitForPredecessor(message: MessageReceived): Promise<boolean> {
    const { afterMessageId } = message;
    if (!afterMessageId || afterMessageId === message.messageId) return false;
    if (now() - Date.parse(message.receivedAt) >= maxWaitMs) return false;
    const reply = await findStoredReply(storage, afterMessageId);
    return reply === undefined;
  };
}

export type PredecessorGate = ReturnType<typeof createPredecessorGate>;

/**
 * The queued message to answer next: the oldest, or the predecessor it names when that one is queued too
 * (and that one's, and so on). Queue order is arrival order, and arrival times come from different
 * producer instances: a clock a few milliseconds off must not make a message wait for one queued behind it.
 */
export function nextInSendingOrder<T extends { message: MessageReceived }>(
  queue: readonly T[],
): T | undefined {
  let next = queue[0];
  for (let hops = 0; next && hops < queue.length; hops++) {
    const after = next.message.afterMessageId;
    const before = after ? queue.find((item) => item.message.messageId === after) : undefined;
    if (!before) break;
    next = before;
  }
  return next;
}

/**
 * The delays of one holder's re-looks at its queue while the message it would answer next waits for its
 * predecessor: `baseMs` for each newly waiting message, doubling up to 1 s while the same one waits. Most
 * predecessors are a few ms behind; a hint naming a message that never comes then costs ~15 looks in its
 * 10 s, not 200.
 */
export function createPredecessorBackoff(baseMs: number) {
  let waiting = { messageId: '', polls: 0 };
  return function nextDelayMs(messageId: string): number {
    if (waiting.messageId !== messageId) waiting = { messageId, polls: 0 };
    return Math.min(baseMs * 2 ** waiting.polls++, 1_000);
  };
}
