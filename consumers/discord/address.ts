import { z } from 'zod';

/** Discord lets an app answer an interaction through its token for this long after it arrived. */
export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;

// Stop using the token a little early: a request sent at 14:59 may arrive after it lapsed.
const EXPIRY_MARGIN_MS = 30_000;

const SnowflakeSchema = z.string().regex(/^\d{1,20}$/);

/**
 * Where a Discord reply goes, as the Discord producer wrote it into `replyTo.address`. Checked again here:
 * the token and ids end up in URL paths, so only digits and URL-safe token characters pass.
 */
export const DiscordAddressSchema = z.object({
  applicationId: SnowflakeSchema,
  /** A credential for the interaction's webhook: never logged. */
  interactionToken: z
    .string()
    .max(2048)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._~+=-]*$/),
  channelId: SnowflakeSchema,
  interactionAt: z.number().int().positive(),
});

export type DiscordAddress = z.infer<typeof DiscordAddressSchema>;

/** Whether the interaction token can no longer be used (replies then go to the channel with the bot token). */
export function tokenExpired(address: DiscordAddress, nowMs: number): boolean {
  return nowMs >= address.interactionAt + INTERACTION_TOKEN_LIFETIME_MS - EXPIRY_MARGIN_MS;
}
