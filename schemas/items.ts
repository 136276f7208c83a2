import { z } from 'zod';
import { IsoDateTimeSchema, LlmSettingsSchema, UserIdSchema } from './common.ts';
import { RuntimePreferenceSchema } from './events.ts';

/** What we keep about one open web socket. Written on `$connect`, deleted on `$disconnect` or a 410. */
export const ConnectionItemSchema = z.object({
  connectionId: z.string().min(1).max(128),
  userId: UserIdSchema,
  connectedAt: IsoDateTimeSchema,
  /** Epoch seconds; API Gateway closes a connection after 2 hours, so the record expires then too. */
  expiresAt: z.number().int(),
});

/** One user's settings. The API key is stored as a secret elsewhere; only its reference is here. */
export const UserSettingsItemSchema = z.object({
  userId: UserIdSchema,
  llm: LlmSettingsSchema.optional(),
  runtime: RuntimePreferenceSchema.default('lambda'),
  updatedAt: IsoDateTimeSchema,
});

/**
 * The per-user session lock: a lease, not a flag. A holder that dies stops renewing and another turn
 * takes the lock once `leaseExpiresAt` (epoch ms) has passed.
 */
export const SessionLockItemSchema = z.object({
  userId: UserIdSchema,
  owner: z.string().min(1),
  leaseExpiresAt: z.number().int(),
});
