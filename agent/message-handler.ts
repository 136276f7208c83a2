import type { Logger } from '@aws-lambda-powertools/logger';
import { type BusEnvelope, MessageReceivedSchema } from '../schemas/index.ts';
import type { TurnRunner } from './turn-runner.ts';

/**
 * The agent's bus target, shared by the Lambda entry and local mode: validates the `MessageReceived`
 * and runs its turn by `deadlineAt`. A malformed event is logged (without its text) and dropped, since
 * no retry can fix it.
 */
export function createMessageHandler(deps: { runTurn: TurnRunner; logger: Logger }) {
  return async function handleMessageReceived(envelope: BusEnvelope, deadlineAt: number): Promise<void> {
    const parsed = MessageReceivedSchema.safeParse(envelope.detail);
    if (!parsed.success) {
      deps.logger.error('malformed MessageReceived dropped', {
        eventId: envelope.id,
        field: parsed.error.issues[0]?.path.join('.'),
      });
      return;
    }
    await deps.runTurn(parsed.data, { deadlineAt });
  };
}
