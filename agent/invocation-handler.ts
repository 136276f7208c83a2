import { AgentInvocationSchema } from '../schemas/agent-invocation.ts';
import type { PendingDrain } from './runtime/pending-drain.ts';
import type { TurnRunner } from './turn-runner.ts';

/** The few logger methods the handler uses; the Powertools logger fits. */
interface InvocationLogger {
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/**
 * The agent's entry, shared by the Lambda handler and local mode: validates what the runtime selector
 * sent and runs it by `deadlineAt` — one turn, or the in-order drain of a user's queue. A malformed
 * request is logged (without any message text) and dropped, since no retry can fix it.
 */
export function createInvocationHandler(deps: {
  runTurn: TurnRunner;
  drainPending: PendingDrain;
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
    if (invocation.kind === 'turn') await deps.runTurn(invocation.message, { deadlineAt });
    else await deps.drainPending(invocation.userId, deadlineAt);
  };
}
