import { AgentInvocationSchema } from '../schemas/agent-invocation.ts';
import type { OrderedTurn } from './runtime/ordered-turn.ts';
import type { PendingDrain } from './runtime/pending-drain.ts';

/** The few logger methods the handler uses; the Powertools logger fits. */
interface InvocationLogger {
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/**
 * The agent's entry, shared by the Lambda handler and local mode: validates what the runtime selector
 * sent and runs it by `deadlineAt` — one message (answered at once, or queued behind the user's turn in
 * progress, oldest first: `runtime/ordered-turn.ts`), or the in-order drain of a user's queue. A malformed
 * request is logged (without any message text) and dropped, since no retry can fix it.
 */
export function createInvocationHandler(deps: {
  answerMessage: OrderedTurn;
  drainPending: PendingDrain['drainPending'];
  logger: InvocationLogger;
}) {
  return async function handleInvocation(request: unknown, deadlineAt: number): Promise<void> {
    const parsed = AgentInvocationSchema.safeParse(request);
    if (!parsed.success) {
      deps.logger.error('malformed agent invocation dropped', {
        field: parsed.error.issues[0]?.path.join('.'),
        problem: parsed.error.issues[0]?.code,
      });
      return;
    }
    const invocation = parsed.data;
    if (invocation.kind === 'turn') await deps.answerMessage(invocation.message, deadlineAt);
    else await deps.drainPending(invocation.userId, deadlineAt);
  };
}
