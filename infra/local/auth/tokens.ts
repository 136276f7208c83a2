import { createHmac, createSign, randomUUID } from 'node:crypto';
import type { SigningKey } from './signing-key.ts';
import { secretsEqual } from './users.ts';

/** Cognito's defaults for our app client: id and access tokens for an hour, refresh tokens for 30 days. */
export const ID_TOKEN_SECONDS = 3600;
export const REFRESH_TOKEN_SECONDS = 30 * 24 * 3600;

/** The tokens of one sign-in, named as in Cognito's `AuthenticationResult`. */
export interface IssuedTokens {
  IdToken: string;
  AccessToken: string;
  RefreshToken?: string;
  ExpiresIn: number;
  TokenType: 'Bearer';
}

/** Who a refresh token was issued to. */
export interface RefreshClaims {
  sub: string;
  username: string;
  /** When the user signed in with their password (seconds), carried into refreshed tokens as Cognito does. */
  authTime: number;
}

export interface TokenMinterOptions {
  key: SigningKey;
  /** `iss` of every token. */
  issuer: string;
  /** `aud` of id tokens and `client_id` of access tokens. */
  clientId: string;
  /** @default Date.now */
  now?: () => number;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Mints Cognito-shaped tokens: RS256 JWTs for the id token (`token_use: 'id'`, `aud`, `cognito:username`)
 * and access token (`token_use: 'access'`, `client_id`, no `aud`), and an opaque refresh token. The
 * refresh token is not a JWT (two parts, HMAC under a key derived from the signing key), so no JWT
 * verifier can ever take it for an id token, and it stays valid across restarts without a store.
 */
export function createTokenMinter(options: TokenMinterOptions) {
  const { key, issuer, clientId } = options;
  const now = options.now ?? Date.now;
  const refreshKey = createHmac('sha256', key.privateKey.export({ format: 'der', type: 'pkcs8' }))
    .update('openclaw-local-refresh-token')
    .digest();

  function sign(claims: Record<string, unknown>): string {
    const signingInput = `${b64({ alg: 'RS256', kid: key.kid, typ: 'JWT' })}.${b64(claims)}`;
    const signature = createSign('RSA-SHA256')
      .update(signingInput)
      .sign(key.privateKey)
      .toString('base64url');
    return `${signingInput}.${signature}`;
  }

  const mac = (payload: string) => createHmac('sha256', refreshKey).update(payload).digest('base64url');

  return {
    /** The tokens for a user who just proved who they are; `withRefresh: false` for a refresh flow, as Cognito omits it. */
    issue(user: RefreshClaims, withRefresh = true): IssuedTokens {
      const iat = Math.floor(now() / 1000);
      const exp = iat + ID_TOKEN_SECONDS;
      const common = { sub: user.sub, iss: issuer, iat, exp, auth_time: user.authTime };
      const IdToken = sign({
        ...common,
        aud: clientId,
        token_use: 'id',
        'cognito:username': user.username,
        jti: randomUUID(),
      });
      const AccessToken = sign({
        ...common,
        client_id: clientId,
        token_use: 'access',
        scope: 'aws.cognito.signin.user.admin',
        username: user.username,
        jti: randomUUID(),
      });
      let RefreshToken: string | undefined;
      if (withRefresh) {
        const payload = b64({
          sub: user.sub,
          u: user.username,
          at: user.authTime,
          exp: iat + REFRESH_TOKEN_SECONDS,
        });
        RefreshToken = `${payload}.${mac(payload)}`;
      }
      return {
        IdToken,
        AccessToken,
        ...(RefreshToken ? { RefreshToken } : {}),
        ExpiresIn: ID_TOKEN_SECONDS,
        TokenType: 'Bearer',
      };
    },

    /** The user a refresh token was issued to, or undefined when it is forged, malformed or expired. */
    readRefreshToken(token: string): RefreshClaims | undefined {
      const [payload, signature, extra] = token.split('.');
      if (!payload || !signature || extra !== undefined || !secretsEqual(signature, mac(payload)))
        return undefined;
      try {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
          string,
          unknown
        >;
        const { sub, u, at, exp } = claims;
        if (
          typeof sub !== 'string' ||
          typeof u !== 'string' ||
          typeof at !== 'number' ||
          typeof exp !== 'number'
        ) {
          return undefined;
        }
        if (exp * 1000 <= now()) return undefined;
        return { sub, username: u, authTime: at };
      } catch {
        return undefined;
      }
    },
  };
}

export type TokenMinter = ReturnType<typeof createTokenMinter>;
