import { createHash, timingSafeEqual } from 'node:crypto';

/** The header Telegram sends with every webhook call, holding the `secret_token` given to `setWebhook`. */
export const SECRET_TOKEN_HEADER = 'x-telegram-bot-api-secret-token';

/** What Telegram accepts as a secret token: 1–256 of `A-Z a-z 0-9 _ -`. */
export const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether the header holds our webhook secret, compared in constant time. Both sides are hashed first so
 * the comparison takes the same time whatever the lengths: neither the length nor a prefix of the secret
 * can be learnt by timing.
 */
export function isValidSecretToken(provided: string | undefined, expected: string): boolean {
  if (provided === undefined || expected.length === 0) return false;
  return timingSafeEqual(digest(provided), digest(expected));
}
