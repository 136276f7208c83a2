import { z } from 'zod';
import { UserIdSchema } from './common.ts';
import { MessageReceivedSchema } from './events.ts';

/**
 * What the runtime selector asks of the agent on Lambda (an asynchronous invoke on AWS, a function call
 * locally): run one message's turn, or answer a user's queued messages in order after their Fargate task
 * could not start.
 */
export const AgentInvocationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('turn'), message: MessageReceivedSchema }),
  z.object({ kind: z.literal('drain-pending'), userId: UserIdSchema }),
]);

export type AgentInvocation = z.infer<typeof AgentInvocationSchema>;
