import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * Discord signs every interaction it sends with the application's Ed25519 key: the signature
 * (`X-Signature-Ed25519`, hex) covers `X-Signature-Timestamp` followed by the raw body. Discord also sends
 * badly signed requests on purpose and disables an endpoint that accepts them.
 */

/** How far a request's timestamp may be from our clock; older (or future) requests are refused as replays. */
export const MAX_TIMESTAMP_SKEW_SECONDS = 5 * 60;

// DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Thrown at start-up for a public key that is not the 64 hex characters the Developer Portal shows. */
export class InvalidPublicKeyError extends Error {
  constructor() {
    super('DISCORD_PUBLIC_KEY must be the 64 hex characters of "Public Key" in the Developer Portal');
    this.name = 'InvalidPublicKeyError';
  }
}

/** Turns the application's public key (hex, as the Developer Portal shows it) into a key node:crypto verifies with. */
export function publicKeyFromHex(hex: string): KeyObject {
  const trimmed = hex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) throw new InvalidPublicKeyError();
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(trimmed, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}

/** Why a request was refused, for the log (never the values themselves). */
export type SignatureFailure =
  | 'malformed-signature'
  | 'malformed-timestamp'
  | 'bad-signature'
  | 'stale-timestamp';

export interface SignedRequest {
  signature: string;
  timestamp: string;
  /** The body exactly as Discord sent it. */
  body: string;
}

/**
 * Verifies a request's signature, then its timestamp (a signed request replayed later is refused too).
 * @returns undefined when the request is genuine and fresh, else why not
 */
export function checkSignature(
  key: KeyObject,
  request: SignedRequest,
  nowMs: number,
  maxSkewSeconds = MAX_TIMESTAMP_SKEW_SECONDS,
): SignatureFailure | undefined {
  if (!/^[0-9a-fA-F]{128}$/.test(request.signature)) return 'malformed-signature';
  if (!/^\d{1,12}$/.test(request.timestamp)) return 'malformed-timestamp';
  let valid = false;
  try {
    valid = verify(
      null,
      Buffer.from(request.timestamp + request.body, 'utf8'),
      key,
      Buffer.from(request.signature, 'hex'),
    );
  } catch {
    valid = false;
  }
  if (!valid) return 'bad-signature';
  if (Math.abs(nowMs / 1000 - Number(request.timestamp)) > maxSkewSeconds) return 'stale-timestamp';
  return undefined;
}
