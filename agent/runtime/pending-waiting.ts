import type { Publisher } from '../../bus/index.ts';
import { EventSources, type PendingMessagesWaiting } from '../../schemas/index.ts';

/**
 * Tells the runtime selector that a user's queued messages have nobody to answer them (see
 * `PendingMessagesWaiting.v1`).
 */
export function announcePendingWaiting(
  publisher: Publisher,
  userId: string,
  reason: PendingMessagesWaiting['reason'],
): Promise<void> {
  return publisher
    .publish({
      source: EventSources.agent,
      detailType: 'PendingMessagesWaiting.v1',
      detail: { userId, reason },
    })
    .then(() => undefined);
}
