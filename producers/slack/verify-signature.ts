import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack signs with the request time; older (or later) requests are refused so a captured one cannot be replayed. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface SlackSignatureInput {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp`: epoch seconds. */
  timestamp: string | undefined;
  /** `X-Slack-Signature`: `v0=` + hex HMAC-SHA256. */
  signature: string | undefined;
  /** The body exactly as Slack sent it. */
  rawBody: string;
  nowMs: number;
}

/** Why a request was not taken for Slack's. Logged, never shown to the caller in detail. */
export type SignatureFailure = 'missing-headers' | 'bad-timestamp' | 'stale-timestamp' | 'bad-signature';

/**
 * Checks Slack's request signature: `v0=` + HMAC-SHA256(signing secret, `v0:{timestamp}:{rawBody}`), in
 * constant time, and that the timestamp is within five minutes of now (either way).
 * @example verifySlackSignature({ signingSecret, timestamp, signature, rawBody, nowMs: Date.now() })
 */
export function verifySlackSignature(
  input: SlackSignatureInput,
): { ok: true } | { ok: false; reason: SignatureFailure } {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad-timestamp' };
  if (Math.abs(input.nowMs / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, reason: 'stale-timestamp' };
  }
  const expected = Buffer.from(
    `v0=${createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:${input.rawBody}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  // The expected length is public (v0= and 64 hex digits): checking it first leaks nothing.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  return { ok: true };
}
