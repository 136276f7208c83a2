import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { $get, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';

/** How far one reply has been shown on a chat platform that streams by editing messages. */
export interface ReplyProgress {
  /** The platform's ids of the messages posted for this reply, in order (long replies take several). */
  messageIds: string[];
  /** The highest `seq` claimed: deltas at or below it are stale. */
  seq: number;
  /** The completed reply has been claimed: no delta may change the messages any more. */
  completed: boolean;
  /** Epoch ms of the last claim, for the platform's edit rate. */
  editedAt: number;
  /** This claim was the reply's first: nothing had been posted or claimed before it. */
  first: boolean;
}

/** Kept a day: long enough for any redelivery of a reply event. */
const PROGRESS_TTL_SECONDS = 24 * 60 * 60;

/**
 * Ordering for channels that stream a reply by editing messages. EventBridge does not keep order and
 * delivers at least once, and each delivery may run in its own Lambda, so every step first *claims* its
 * `seq` with a conditional write: only a newer step than any before it (and nothing after the completed
 * reply) may touch the platform's messages. The claim returns the progress before it, so the claimer
 * knows which messages to edit, or that it must post the first one.
 */
export function createReplyProgress(storage: Storage, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const entity = storage.ChannelReplyEntity;

  async function get(inReplyTo: string): Promise<ReplyProgress | undefined> {
    const { Item } = await entity
      .build(GetItemCommand)
      .key({ inReplyTo })
      .options({ consistent: true })
      .send();
    if (!Item) return undefined;
    return {
      messageIds: JSON.parse(Item.messageIds) as string[],
      seq: Item.seq,
      completed: Item.completed,
      editedAt: Item.editedAt,
      first: false,
    };
  }

  return {
    get,

    /**
     * Claims the right to show `seq` (the completed reply: `final`). A delta is refused when a step at or
     * above its `seq`, or the completed reply, got there first; the completed reply only when it was
     * claimed already (a redelivery).
     * @returns the progress before the claim (`messageIds` empty when nothing was posted yet), or
     * undefined when refused
     */
    async claim(inReplyTo: string, seq: number, final: boolean): Promise<ReplyProgress | undefined> {
      try {
        const { Attributes } = await entity
          .build(UpdateItemCommand)
          .item({
            inReplyTo,
            seq,
            completed: final,
            editedAt: now(),
            // Kept as they are when the record exists; `[]` for the first claim.
            messageIds: $get('messageIds', '[]'),
            expiresAt: epochSeconds(now()) + PROGRESS_TTL_SECONDS,
          })
          .options({
            condition: {
              or: [
                { attr: 'seq', exists: false },
                // The completed reply wins over any delta, whatever its seq: a retried turn (a Spot
                // hand-back, a Lambda retry) numbers its deltas from 1 again, and its answer must show.
                final
                  ? { attr: 'completed', eq: false }
                  : {
                      and: [
                        { attr: 'seq', lt: seq },
                        { attr: 'completed', eq: false },
                      ],
                    },
              ],
            },
            returnValues: 'ALL_OLD',
          })
          .send();
        if (!Attributes) return { messageIds: [], seq: 0, completed: false, editedAt: 0, first: true };
        return {
          messageIds: JSON.parse(Attributes.messageIds) as string[],
          seq: Attributes.seq,
          completed: Attributes.completed,
          editedAt: Attributes.editedAt,
          first: false,
        };
      } catch (error) {
        if (isConditionalCheckFailure(error)) return undefined;
        throw error;
      }
    },

    /** Records the messages now showing the reply, after posting or splitting. */
    async saveMessageIds(inReplyTo: string, messageIds: string[]): Promise<void> {
      await entity
        .build(UpdateItemCommand)
        .item({ inReplyTo, messageIds: JSON.stringify(messageIds) })
        .options({ condition: { attr: 'seq', exists: true } })
        .send();
    },

    /**
     * The messages of a reply whose first message another delivery is posting right now: waits (briefly)
     * until it has recorded them, so the completed reply edits them instead of posting a second copy.
     */
    async waitForMessageIds(inReplyTo: string, timeoutMs = 5_000): Promise<string[]> {
      const giveUpAt = now() + timeoutMs;
      for (;;) {
        const progress = await get(inReplyTo);
        if (progress && progress.messageIds.length > 0) return progress.messageIds;
        if (now() >= giveUpAt) return [];
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}

export type ReplyProgressStore = ReturnType<typeof createReplyProgress>;
