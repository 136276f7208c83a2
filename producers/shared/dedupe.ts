import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { epochSeconds, type Storage } from '../../schemas/table.ts';

/** How long we remember a message id: longer than any client or platform retries. @default 24 h */
export const DEDUPE_TTL_SECONDS = 24 * 60 * 60;

export type ClaimResult = { claimed: true } | { claimed: false; existingMessageId: string };

function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Claims `dedupeKey` for `messageId` with a conditional write: the first caller wins, later callers
 * learn the id the first one used. An expired claim (dynalite never deletes by TTL) counts as free.
 */
export async function claimMessage(
  storage: Storage,
  dedupeKey: string,
  messageId: string,
  now = Date.now(),
): Promise<ClaimResult> {
  try {
    await storage.MessageDedupeEntity.build(PutItemCommand)
      .item({ dedupeKey, messageId, expiresAt: epochSeconds(now) + DEDUPE_TTL_SECONDS })
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
    const { Item } = await storage.MessageDedupeEntity.build(GetItemCommand)
      .key({ dedupeKey })
      .options({ consistent: true })
      .send();
    return { claimed: false, existingMessageId: Item?.messageId ?? messageId };
  }
}

/** Gives a claim back, so a message whose publish failed can be sent again. */
export async function releaseClaim(storage: Storage, dedupeKey: string): Promise<void> {
  await storage.MessageDedupeEntity.build(DeleteItemCommand).key({ dedupeKey }).send();
}
