import { z } from 'zod';

/**
 * Where a Telegram reply goes: `replyTo.address` of a message the Telegram producer published. Only this
 * consumer reads it; the producer writes the same fields.
 */
export const TelegramAddressSchema = z.object({
  chatId: z.union([z.number().int(), z.string().regex(/^-?\d{1,20}$/)]),
  /** The forum topic the message was written in (supergroups with topics). */
  messageThreadId: z.number().int().positive().optional(),
  /** The user's message, quoted by the first message of the reply when `quote` is set. */
  replyToMessageId: z.number().int().positive().optional(),
  /** Quote the user's message: set in groups, where several conversations interleave. */
  quote: z.boolean().optional(),
});

export type TelegramAddress = z.infer<typeof TelegramAddressSchema>;
