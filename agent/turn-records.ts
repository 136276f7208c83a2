import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { $add, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import type { Publisher } from '../bus/index.ts';
import { EventSources, type ReplyCompleted, ReplyCompletedSchema } from '../schemas/index.ts';
import { epochSeconds, type Storage } from '../schemas/table.ts';

/** A turn's stored reply is kept this long: longer than EventBridge keeps retrying an event. */
export const TURN_RECORD_TTL_SECONDS = 2 * 24 * 60 * 60;

/**
 * Stores the final reply to a message before it is published. EventBridge delivers at least once: a
 * message delivered again finds its reply here and gets it republished, without a second LLM call.
 */
export async function storeReply(storage: Storage, reply: ReplyCompleted): Promise<void> {
  await storage.TurnRecordEntity.build(PutItemCommand)
    .item({
      messageId: reply.inReplyTo,
      reply: JSON.stringify(reply),
      expiresAt: epochSeconds() + TURN_RECORD_TTL_SECONDS,
    })
    .send();
}

/**
 * Counts one more Lambda invocation taking `messageId` to answer it at once, the way a queued message's
 * attempts are counted in the queue: an invocation that dies mid-turn (out of memory, its timeout) is
 * retried by Lambda, and the count lets the last retry answer with an error instead of the user never
 * hearing back. A stored reply later replaces the record, count and all.
 * @returns the attempts so far, this one included
 */
export async function countDirectAttempt(storage: Storage, messageId: string): Promise<number> {
  const { Attributes } = await storage.TurnRecordEntity.build(UpdateItemCommand)
    .item({ messageId, attempts: $add(1), expiresAt: epochSeconds() + TURN_RECORD_TTL_SECONDS })
    .options({ returnValues: 'ALL_NEW' })
    .send();
  return Attributes?.attempts ?? 1;
}

/** The reply already given to `messageId`, if any (expired records count as none). */
export async function findStoredReply(
  storage: Storage,
  messageId: string,
): Promise<ReplyCompleted | undefined> {
  const { Item } = await storage.TurnRecordEntity.build(GetItemCommand)
    .key({ messageId })
    .options({ consistent: true })
    .send();
  if (!Item?.reply || Item.expiresAt < epochSeconds()) return undefined;
  return ReplyCompletedSchema.parse(JSON.parse(Item.reply));
}

/**
 * Publishes the reply already given to `messageId` again, for a message delivered (or tried) again.
 * @returns false when there is none, and the message still needs an answer
 */
export async function republishStoredReply(
  storage: Storage,
  publisher: Publisher,
  messageId: string,
): Promise<boolean> {
  const detail = await findStoredReply(storage, messageId);
  if (!detail) return false;
  await publisher.publish({ source: EventSources.agent, detailType: 'ReplyCompleted.v1', detail });
  return true;
}
