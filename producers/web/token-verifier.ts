import { JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';

/** What a verified id token tells us about its holder. */
export interface VerifiedToken {
  /** The subject: our internal user id. */
  sub: string;
  /** `cognito:username`, when the token carries one. */
  username?: string;
}

/** Verifies a bearer token and returns its subject; throws on anything it does not trust. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** Options of {@link createIdTokenVerifier}. */
export interface IdTokenVerifierOptions {
  /** The expected `iss`: a Cognito user pool's issuer URL, or the local issuer's. */
  issuer: string;
  /** The expected `aud`: the app client id. */
  audience: string;
  /** Where the signing keys are published. @default `${issuer}/.well-known/jwks.json` (as Cognito does) */
  jwksUri?: string;
  /**
   * Downloads the JWKS. aws-jwt-verify's own fetcher speaks HTTPS only; the local issuer serves plain
   * HTTP on 127.0.0.1, so local mode passes one built on `fetch`. @default aws-jwt-verify's HTTPS fetcher
   */
  fetcher?: Fetcher;
}

/** The issuer URL of a Cognito user pool, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC`. */
export function cognitoIssuer(userPoolId: string): string {
  // The pool id starts with its region (`eu-west-1_AbC`), as aws-jwt-verify's Cognito verifier assumes too.
  const region = /^([a-z]{2}-[a-z]+-\d)_[A-Za-z0-9]+$/.exec(userPoolId)?.[1];
  if (!region)
    throw new Error(`'${userPoolId}' is not a Cognito user pool id (expected e.g. eu-west-1_AbC123)`);
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

/**
 * Verifies id tokens the way a Cognito app expects them: RS256 signature against the issuer's JWKS,
 * `iss`, `aud` (the client id), `exp`, and `token_use: 'id'`, so an access or refresh token is refused
 * even when it is signed by the same key. One function for AWS (the user pool) and local mode (the local
 * issuer); only the configuration differs.
 * @example createIdTokenVerifier({ issuer: cognitoIssuer(poolId), audience: clientId })
 */
export function createIdTokenVerifier(options: IdTokenVerifierOptions): TokenVerifier {
  const jwksUri = options.jwksUri ?? `${options.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
  const verifier = JwtVerifier.create(
    {
      issuer: options.issuer,
      audience: options.audience,
      jwksUri,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new TokenUseError();
      },
    },
    options.fetcher ? { jwksCache: new SimpleJwksCache({ fetcher: options.fetcher }) } : undefined,
  );
  return {
    async verify(token) {
      const payload = await verifier.verify(token);
      if (typeof payload.sub !== 'string') throw new TokenUseError('the token has no subject');
      const username = payload['cognito:username'];
      return { sub: payload.sub, ...(typeof username === 'string' ? { username } : {}) };
    },
  };
}

/** A token that verified but is not an id token (or has no subject). */
export class TokenUseError extends Error {
  constructor(message = 'not an id token') {
    super(message);
    this.name = 'TokenUseError';
  }
}

/**
 * Why a token was refused, fit for a log line: the error's class (`JwtExpiredError`, …). aws-jwt-verify's
 * errors keep `name` as 'Error', and their messages may quote claims, so neither is logged.
 */
export function refusalReason(error: unknown): string {
  if (error instanceof TokenUseError) return error.name;
  return (error as object | undefined)?.constructor?.name ?? 'unknown';
}

/**
 * A JWKS fetcher on the platform's `fetch`, for the local issuer's plain-HTTP JWKS. It fetches from one
 * origin only (the local server's own), so a token cannot make it reach anywhere else.
 * @example createIdTokenVerifier({ issuer, audience, fetcher: createOriginJwksFetcher('http://127.0.0.1:8787') })
 */
export function createOriginJwksFetcher(origin: string): Fetcher {
  const allowed = new URL(origin).origin;
  return {
    async fetch(uri) {
      if (new URL(uri).origin !== allowed) throw new Error(`this fetcher only fetches from ${allowed}`);
      // Generous: in local mode the server fetches from itself, and a busy event loop (a cold agent
      // start on a small machine) must not turn a good token into a refusal.
      const response = await fetch(uri, { signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) throw new Error(`JWKS fetch returned ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

/** A verifier for the app's Cognito user pool, from COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID. */
export function cognitoVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const userPoolId = env.COGNITO_USER_POOL_ID;
  const clientId = env.COGNITO_CLIENT_ID;
  if (!userPoolId || !clientId) throw new Error('Set COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID');
  return createIdTokenVerifier({ issuer: cognitoIssuer(userPoolId), audience: clientId });
}
