import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';

/** How long we remember a message id: longer than any client or platform retries. @default 24 h */
export const DEDUPE_TTL_SECONDS = 24 * 60 * 60;
/**
 * How long a claim may stay `pending`: longer than a producer takes to publish (its function times out
 * first), so a claim whose producer died before publishing frees itself and the platform's retry gets
 * through instead of being told "in flight" for a day.
 */
export const PENDING_CLAIM_SECONDS = 60;

export type ClaimResult =
  | { claimed: true }
  /** Someone took this message first: `published` (safe to acknowledge) or still `pending` (ask to retry). */
  | { claimed: false; existingMessageId: string; state: 'pending' | 'published' };

/**
 * Claims `dedupeKey` for `messageId` with a conditional write: the first caller wins (state `pending`),
 * later callers learn the id and state the first one recorded. An expired claim (dynalite never deletes
 * by TTL) counts as free. Call `markPublished` once the event is on the bus, or `releaseClaim` if not.
 */
export async function claimMessage(
  storage: Storage,
  dedupeKey: string,
  messageId: string,
  now = Date.now(),
): Promise<ClaimResult> {
  // Two tries: a claim released between our failed put and our read leaves nothing to report.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await storage.MessageDedupeEntity.build(PutItemCommand)
        .item({
          dedupeKey,
          messageId,
          state: 'pending',
          expiresAt: epochSeconds(now) + PENDING_CLAIM_SECONDS,
        })
        .options({
          condition: {
            or: [
              { attr: 'dedupeKey', exists: false },
              { attr: 'expiresAt', lt: epochSeconds(now) },
            ],
          },
        })
        .send();
      return { claimed: true };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    const { Item } = await storage.MessageDedupeEntity.build(GetItemCommand)
      .key({ dedupeKey })
      .options({ consistent: true })
      .send();
    if (Item) return { claimed: false, existingMessageId: Item.messageId, state: Item.state };
  }
  throw new Error(`dedupe claim for ${dedupeKey} kept changing; retry later`);
}

/** Records that the claimed message is on the bus: duplicates may now be acknowledged, for a day. */
export async function markPublished(storage: Storage, dedupeKey: string, now = Date.now()): Promise<void> {
  await storage.MessageDedupeEntity.build(UpdateItemCommand)
    .item({ dedupeKey, state: 'published', expiresAt: epochSeconds(now) + DEDUPE_TTL_SECONDS })
    .send();
}

/** Gives a claim back, so a message whose publish failed can be sent again. */
export async function releaseClaim(storage: Storage, dedupeKey: string): Promise<void> {
  await storage.MessageDedupeEntity.build(DeleteItemCommand).key({ dedupeKey }).send();
}
