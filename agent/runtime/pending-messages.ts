import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { $add, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import { MessageReceivedSchema } from '../../schemas/index.ts';
import {
  ACTIVE_TASKS_INDEX,
  epochSeconds,
  isConditionalCheckFailure,
  QUEUED_MESSAGE_MARK,
  type Storage,
} from '../../schemas/table.ts';
import type { MessageReceived } from '../../schemas/types.ts';

/** A message waiting for the user's Fargate task, or for the user's Lambda turn in progress to end. */
export interface PendingMessage {
  /** Its place in the user's queue: `<receivedAt as UTC ISO>#<messageId>`. */
  seq: string;
  message: MessageReceived;
  /** How many times a task took it without answering. */
  attempts: number;
}

export interface PendingMessagesOptions {
  /** @default Date.now */
  now?: () => number;
  /**
   * How long an unanswered message may wait before the table's TTL clears it: far longer than any queue
   * of long turns (30 minutes each on Fargate), so only a message nothing could answer for a day goes.
   * @default 86400 (24 hours)
   */
  ttlSeconds?: number;
  /** Told of a queued item that cannot be read as a message, before it is removed (ids only). */
  onUnreadable?: (userId: string, seq: string) => void;
}

const SEQ_PREFIX = 'PENDING#';

/** A queued message as stored, or undefined when it is not a valid `MessageReceived` any more. */
function parseQueued(text: string): MessageReceived | undefined {
  try {
    const parsed = MessageReceivedSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The queue position of a message. `receivedAt` may carry any offset and any number of fraction digits;
 * normalising it to `toISOString()` (fixed width, UTC) makes string order equal time order, and the
 * message id breaks ties between messages of the same millisecond.
 */
export function pendingSeq(message: MessageReceived): string {
  return `${new Date(message.receivedAt).toISOString()}#${message.messageId}`;
}

/**
 * Per-user queue of messages waiting for a Fargate task or a Lambda turn, in DynamoDB: one item per message
 * under the user's partition, sorted by arrival. The runtime selector enqueues while a task starts, a
 * Lambda turn that finds the user busy enqueues its own message; the task or the Lambda holder of the
 * session lock lists, answers and removes them. DynamoDB's TTL clears what nobody answered; since dynalite (and DynamoDB, until
 * it gets round to it) keeps expired items, `list` skips them itself.
 */
export function createPendingMessages(storage: Storage, options: PendingMessagesOptions = {}) {
  const now = options.now ?? Date.now;
  const ttlSeconds = options.ttlSeconds ?? 24 * 60 * 60;
  const entity = storage.PendingMessageEntity;

  return {
    /**
     * Queues a message. Idempotent: EventBridge delivers at least once, and a redelivery must neither
     * queue the message twice nor reset the attempts of the copy already queued.
     * @returns its seq, and whether this call queued it (false: it was already there)
     */
    async enqueue(message: MessageReceived): Promise<{ seq: string; enqueued: boolean }> {
      const seq = pendingSeq(message);
      try {
        await entity
          .build(PutItemCommand)
          .item({
            userId: message.userId,
            seq,
            message: JSON.stringify(message),
            attempts: 0,
            expiresAt: epochSeconds(now()) + ttlSeconds,
            queued: QUEUED_MESSAGE_MARK,
          })
          .options({ condition: { attr: 'seq', exists: false } })
          .send();
        return { seq, enqueued: true };
      } catch (error) {
        if (isConditionalCheckFailure(error)) return { seq, enqueued: false };
        throw error;
      }
    },

    /** The user's waiting messages, oldest first, read consistently so a message just queued is seen. */
    async list(userId: string): Promise<PendingMessage[]> {
      const { Items = [] } = await storage.table
        .build(QueryCommand)
        .entities(entity)
        .query({ partition: `USER#${userId}`, range: { beginsWith: SEQ_PREFIX } })
        .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY })
        .send();
      const nowSeconds = epochSeconds(now());
      const waiting: PendingMessage[] = [];
      for (const item of Items) {
        if (item.expiresAt <= nowSeconds) continue;
        const message = parseQueued(item.message);
        if (message) {
          waiting.push({ seq: item.seq, message, attempts: item.attempts });
          continue;
        }
        // One item no code can read (a schema of an older deploy, a damaged write) would otherwise stop
        // every later drain of this user's queue at the same place: it goes, the rest is answered.
        options.onUnreadable?.(userId, item.seq);
        await entity.build(DeleteItemCommand).key({ userId, seq: item.seq }).send();
      }
      return waiting;
    },

    /**
     * Every user with waiting messages and the oldest of them, from the sparse index (one Query however
     * many users there are): the watchdog's way to find a queue nobody is answering.
     */
    async listWaitingUsers(): Promise<{ userId: string; oldestSeq: string }[]> {
      const { Items = [] } = await storage.table
        .build(QueryCommand)
        .entities(entity)
        .query({ index: ACTIVE_TASKS_INDEX, partition: QUEUED_MESSAGE_MARK })
        .options({ maxPages: Number.POSITIVE_INFINITY })
        .send();
      const nowSeconds = epochSeconds(now());
      const oldest = new Map<string, string>();
      for (const item of Items) {
        if (item.expiresAt <= nowSeconds) continue;
        const seen = oldest.get(item.userId);
        if (seen === undefined || item.seq < seen) oldest.set(item.userId, item.seq);
      }
      return [...oldest].map(([userId, oldestSeq]) => ({ userId, oldestSeq }));
    },

    /**
     * Counts one more attempt at a message, before a task hands it to the agent; a count past the retry
     * limit means earlier attempts crashed mid-turn.
     * @returns the new count, or undefined when the message is no longer queued (already answered)
     */
    async markAttempt(userId: string, seq: string): Promise<number | undefined> {
      try {
        const { Attributes } = await entity
          .build(UpdateItemCommand)
          .item({ userId, seq, attempts: $add(1) })
          // Without the condition an update of a removed message would re-create it half-empty.
          .options({ condition: { attr: 'seq', exists: true }, returnValues: 'ALL_NEW' })
          .send();
        return Attributes?.attempts;
      } catch (error) {
        if (isConditionalCheckFailure(error)) return undefined;
        throw error;
      }
    },

    /**
     * Takes back the attempt counted by `markAttempt` for a turn that was interrupted on purpose (the task
     * was told to stop) rather than crashed, so a Spot interruption does not use up a retry.
     */
    async releaseAttempt(userId: string, seq: string): Promise<void> {
      try {
        await entity
          .build(UpdateItemCommand)
          .item({ userId, seq, attempts: $add(-1) })
          .options({
            condition: {
              and: [
                { attr: 'seq', exists: true },
                { attr: 'attempts', gt: 0 },
              ],
            },
          })
          .send();
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
      }
    },

    /** Removes an answered (or given-up) message. Removing one that is gone is fine. */
    async remove(userId: string, seq: string): Promise<void> {
      await entity.build(DeleteItemCommand).key({ userId, seq }).send();
    },
  };
}

/** The queue `createPendingMessages` returns. */
export type PendingMessages = ReturnType<typeof createPendingMessages>;
