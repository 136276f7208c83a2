import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { $add, $get, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import type { z } from 'zod';
import type {
  ConversationSchema,
  ConversationSummarySchema,
  HistoryMessageSchema,
} from '../../schemas/api.ts';
import {
  type MessageReceived,
  type ReplyCompleted,
  ReplyStatusSchema,
  UserFacingErrorSchema,
} from '../../schemas/index.ts';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';

export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;
export type Conversation = z.infer<typeof ConversationSchema>;
export type HistoryMessage = z.infer<typeof HistoryMessageSchema>;

/** Longest title, from the first user message shortened to one line. */
export const TITLE_CHARS = 80;

/**
 * How long a deleted conversation's tombstone drops late events: longer than any event's retry window
 * (the history target's events are retried for at most an hour).
 */
export const TOMBSTONE_SECONDS = 24 * 60 * 60;

/** The first line of a message, at most {@link TITLE_CHARS} characters. */
export function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1)}…`;
}

/** A page of summaries and where the next one starts. */
export interface ConversationPage {
  conversations: ConversationSummary[];
  /** The last summary's sort position, for the cursor; absent on the last page. */
  next?: { updatedAt: string; conversationId: string };
}

/**
 * The conversation history in DynamoDB: written by the history consumer from bus events, read and
 * deleted by the conversations API. Every write is keyed by the user id, so one user can never reach
 * another's conversation.
 */
export function createHistoryStore(storage: Storage, now: () => number = Date.now) {
  const { ConversationEntity: conversations, ConversationTurnEntity: turns } = storage;

  /** Sets `attr` to `value` only when it is unset or compares `keep` (earlier/later) to the value. */
  async function setIfBetter(
    key: { userId: string; conversationId: string },
    fields: Record<string, string>,
    attr: 'createdAt' | 'updatedAt',
    comparison: 'gt' | 'lt',
  ): Promise<void> {
    const value = fields[attr] as string;
    try {
      await conversations
        .build(UpdateItemCommand)
        .item({ ...key, ...fields })
        .options({
          condition: {
            or: [
              { attr, exists: false },
              { attr, [comparison]: value },
            ],
          } as never,
        })
        .send();
    } catch (error) {
      // Another event already set an earlier start (or a later update): nothing to do.
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }

  /**
   * One write per event to the summary: `fields` (set additions, `if_not_exists` defaults) and `updatedAt`
   * raised to `at`, conditional on `at` being the latest. When a later event already moved `updatedAt`, the
   * same write goes again without it. Returns the written attributes as stored after the write when
   * `returnValues` asks for them (`UPDATED_NEW`: not the other id set, which grows with the conversation).
   */
  async function touchSummary(
    key: { userId: string; conversationId: string },
    fields: Record<string, unknown>,
    at: string,
    returnValues: 'UPDATED_NEW' | 'NONE' = 'NONE',
  ): Promise<{ createdAt?: string } | undefined> {
    try {
      const { Attributes } = await conversations
        .build(UpdateItemCommand)
        .item({ ...key, ...fields, updatedAt: at } as never)
        .options({
          condition: {
            or: [
              { attr: 'updatedAt', exists: false },
              { attr: 'updatedAt', lt: at },
            ],
          },
          returnValues,
        })
        .send();
      return Attributes;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    const { Attributes } = await conversations
      .build(UpdateItemCommand)
      .item({ ...key, ...fields } as never)
      .options({ returnValues })
      .send();
    return Attributes;
  }

  /** True when the user deleted this conversation after `at`: the event is a late one, dropped. */
  async function deletedSince(userId: string, conversationId: string, at: string): Promise<boolean> {
    const { Item } = await storage.ConversationDeletedEntity.build(GetItemCommand)
      .key({ userId, conversationId })
      .send();
    return Item !== undefined && Item.expiresAt > epochSeconds(now()) && Item.deletedAt >= at;
  }

  async function readSummary(userId: string, conversationId: string) {
    const { Item } = await conversations
      .build(GetItemCommand)
      .key({ userId, conversationId })
      .options({ consistent: true })
      .send();
    return Item;
  }

  type SummaryItem = NonNullable<Awaited<ReturnType<typeof readSummary>>>;

  /** The API's view of a stored summary; undefined for a half record (replies seen, no message yet). */
  function toSummary(item: SummaryItem): ConversationSummary | undefined {
    if (!item.createdAt || !item.channel || item.title === undefined) return undefined;
    return {
      conversationId: item.conversationId,
      title: item.title,
      channel: item.channel,
      createdAt: item.createdAt,
      updatedAt: item.updatedAt && item.updatedAt > item.createdAt ? item.updatedAt : item.createdAt,
      messageCount: (item.userMessageIds?.size ?? 0) + (item.replyIds?.size ?? 0),
    };
  }

  return {
    /** Records a user message (idempotent: a redelivery writes the same values). */
    async recordMessage(message: MessageReceived): Promise<'stored' | 'deleted'> {
      const { userId, conversationId, messageId, receivedAt: at } = message;
      if (await deletedSince(userId, conversationId, at)) return 'deleted';
      await turns
        .build(UpdateItemCommand)
        .item({ userId, conversationId, messageId, userText: message.text, userAt: at })
        .send();
      const key = { userId, conversationId };
      const first = { createdAt: at, title: titleOf(message.text), channel: message.replyTo.channel };
      // The title and channel belong to the earliest message: set here when none is stored yet...
      const stored = await touchSummary(
        key,
        {
          userMessageIds: $add(new Set([messageId])),
          createdAt: $get('createdAt', first.createdAt),
          title: $get('title', first.title),
          channel: $get('channel', first.channel),
        },
        at,
        'UPDATED_NEW',
      );
      // ...and replaced, conditionally, in the rare case that a later message got there first.
      if (stored?.createdAt && stored.createdAt > at) await setIfBetter(key, first, 'createdAt', 'gt');
      return 'stored';
    },

    /** Records a completed reply next to its user message; `at` is when it completed (the event's time). */
    async recordReply(reply: ReplyCompleted, at: string): Promise<'stored' | 'deleted'> {
      const { userId, conversationId, inReplyTo: messageId } = reply;
      if (await deletedSince(userId, conversationId, at)) return 'deleted';
      await turns
        .build(UpdateItemCommand)
        .item({
          userId,
          conversationId,
          messageId,
          replyText: reply.text,
          replyAt: at,
          status: reply.status,
          error: reply.error ? JSON.stringify(reply.error) : undefined,
        })
        .send();
      await touchSummary({ userId, conversationId }, { replyIds: $add(new Set([messageId])) }, at);
      return 'stored';
    },

    /**
     * The user's conversations, newest `updatedAt` first, starting after `after`. Reads all of the user's
     * summaries (small items, a few hundred bytes each) and sorts them: DynamoDB cannot sort by a value
     * that changes without an index per user.
     */
    async list(
      userId: string,
      limit: number,
      after?: { updatedAt: string; conversationId: string },
    ): Promise<ConversationPage> {
      const { Items = [] } = await storage.table
        .build(QueryCommand)
        .entities(conversations)
        .query({ partition: `USER#${userId}`, range: { beginsWith: 'CONV#' } })
        .options({ maxPages: Number.POSITIVE_INFINITY })
        .send();
      const order = (a: ConversationSummary, b: ConversationSummary) =>
        b.updatedAt.localeCompare(a.updatedAt) || a.conversationId.localeCompare(b.conversationId);
      const all = Items.map(toSummary)
        .filter((summary): summary is ConversationSummary => summary !== undefined)
        .sort(order);
      const start = after
        ? all.findIndex(
            (summary) =>
              order(summary, {
                ...summary,
                updatedAt: after.updatedAt,
                conversationId: after.conversationId,
              }) > 0,
          )
        : 0;
      const page = start < 0 ? [] : all.slice(start, start + limit);
      const last = page.at(-1);
      const more = start >= 0 && start + limit < all.length;
      return {
        conversations: page,
        ...(more && last ? { next: { updatedAt: last.updatedAt, conversationId: last.conversationId } } : {}),
      };
    },

    /** One conversation with its messages, oldest first; undefined when the user has no such conversation. */
    async get(userId: string, conversationId: string): Promise<Conversation | undefined> {
      const item = await readSummary(userId, conversationId);
      const summary = item && toSummary(item);
      if (!summary) return undefined;
      const { Items = [] } = await storage.table
        .build(QueryCommand)
        .entities(turns)
        .query({ partition: `USER#${userId}`, range: { beginsWith: `CONVTURN#${conversationId}#` } })
        .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY })
        .send();
      const sorted = Items.filter((turn) => turn.conversationId === conversationId).sort((a, b) =>
        (a.userAt ?? a.replyAt ?? '').localeCompare(b.userAt ?? b.replyAt ?? ''),
      );
      const messages: HistoryMessage[] = [];
      for (const turn of sorted) {
        if (turn.userText !== undefined && turn.userAt) {
          messages.push({ role: 'user', messageId: turn.messageId, text: turn.userText, at: turn.userAt });
        }
        if (turn.replyText !== undefined && turn.replyAt) {
          const status = ReplyStatusSchema.safeParse(turn.status);
          const error = turn.error ? UserFacingErrorSchema.safeParse(safeJson(turn.error)) : undefined;
          messages.push({
            role: 'assistant',
            messageId: turn.messageId,
            text: turn.replyText,
            // The event's time has only seconds on EventBridge: never before the message it answers.
            at: turn.userAt && turn.userAt > turn.replyAt ? turn.userAt : turn.replyAt,
            ...(status.success ? { status: status.data } : {}),
            ...(error?.success ? { error: error.data } : {}),
          });
        }
      }
      return { ...summary, messages };
    },

    /**
     * Deletes a conversation and its turns, leaving a tombstone first so events still in flight do not
     * bring it back. False when the user has no such conversation (nothing is written then).
     */
    async delete(userId: string, conversationId: string): Promise<boolean> {
      const item = await readSummary(userId, conversationId);
      if (!item || !toSummary(item)) return false;
      const deletedAt = new Date(now()).toISOString();
      await storage.ConversationDeletedEntity.build(PutItemCommand)
        .item({ userId, conversationId, deletedAt, expiresAt: epochSeconds(now()) + TOMBSTONE_SECONDS })
        .send();
      const { Items = [] } = await storage.table
        .build(QueryCommand)
        .entities(turns)
        .query({ partition: `USER#${userId}`, range: { beginsWith: `CONVTURN#${conversationId}#` } })
        .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY })
        .send();
      for (const turn of Items) {
        await turns
          .build(DeleteItemCommand)
          .key({ userId, conversationId, messageId: turn.messageId })
          .send();
      }
      await conversations.build(DeleteItemCommand).key({ userId, conversationId }).send();
      return true;
    },
  };
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
