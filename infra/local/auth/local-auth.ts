import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  createIdTokenVerifier,
  createOriginJwksFetcher,
  type TokenVerifier,
} from '../../../producers/web/token-verifier.ts';
import { createCognitoEndpoint } from './cognito-endpoint.ts';
import { loadOrCreateSigningKey } from './signing-key.ts';
import { createTokenMinter } from './tokens.ts';
import { type LocalUser, type ResolvedLocalUsers, resolveLocalUsers } from './users.ts';

/** Where the local issuer lives on the local server. */
export const LOCAL_AUTH_PATH = '/local/auth';
const JWKS_PATH = `${LOCAL_AUTH_PATH}/.well-known/jwks.json`;

/** The app client id of local mode (Cognito's is the user pool client's id). */
export const LOCAL_CLIENT_ID = 'openclaw-local';

/** What a client needs to sign in against the local issuer, and what the verifier checks. */
export interface LocalAuthConfig {
  /** POST Cognito's InitiateAuth here (the page's `auth.endpoint`). */
  endpoint: string;
  /** The page's `auth.clientId`. */
  clientId: string;
  /** `iss` of local tokens: like Cognito's, the JWKS sits under it at `/.well-known/jwks.json`. */
  issuer: string;
  jwksUri: string;
}

export interface LocalAuthOptions {
  /** Keeps the signing key (and a generated password) here, so tokens survive a restart. */
  dir: string;
  /** The local server's URL, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** Reads LOCAL_USERS / LOCAL_PASSWORD. */
  env: NodeJS.ProcessEnv;
  /** @default from `env` (see resolveLocalUsers) */
  users?: readonly LocalUser[];
  logger: Logger;
  /** Whether a sign-in request may be answered (local mode: same origin only). */
  acceptRequest: (request: IncomingMessage) => boolean;
  /** @default 500 */
  failureDelayMs?: number;
}

/** The local issuer, its verifier and its routes. */
export interface LocalAuth {
  config: LocalAuthConfig;
  verifier: TokenVerifier;
  users: ResolvedLocalUsers;
  /** Serves the JWKS and the sign-in endpoint; false for any other path. */
  handleRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
}

/**
 * Local mode's Cognito: an RSA key under `dir`, a JWKS, a sign-in endpoint with Cognito's protocol, and
 * a verifier that checks local tokens with the very function the AWS authorizer uses (fetching the JWKS
 * over HTTP from this server, as aws-jwt-verify fetches Cognito's).
 */
export async function createLocalAuth(options: LocalAuthOptions): Promise<LocalAuth> {
  const baseUrl = options.baseUrl.replace(/\/$/, '');
  const issuer = `${baseUrl}${LOCAL_AUTH_PATH}`;
  const config: LocalAuthConfig = {
    endpoint: issuer,
    clientId: LOCAL_CLIENT_ID,
    issuer,
    jwksUri: `${baseUrl}${JWKS_PATH}`,
  };
  const key = await loadOrCreateSigningKey(options.dir);
  const users = options.users
    ? { users: [...options.users] }
    : await resolveLocalUsers(options.env, options.dir);
  const minter = createTokenMinter({ key, issuer, clientId: LOCAL_CLIENT_ID });
  const signIn = createCognitoEndpoint({
    users: users.users,
    minter,
    clientId: LOCAL_CLIENT_ID,
    logger: options.logger,
    ...(options.failureDelayMs !== undefined ? { failureDelayMs: options.failureDelayMs } : {}),
  });
  const verifier = createIdTokenVerifier({
    issuer,
    audience: LOCAL_CLIENT_ID,
    jwksUri: config.jwksUri,
    fetcher: createOriginJwksFetcher(baseUrl),
  });
  const jwks = JSON.stringify({ keys: [key.publicJwk] });

  return {
    config,
    verifier,
    users,
    async handleRequest(request, response) {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (request.method === 'GET' && path === JWKS_PATH) {
        response
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
          .end(jwks);
        return true;
      }
      if (path !== LOCAL_AUTH_PATH && path !== `${LOCAL_AUTH_PATH}/`) return false;
      if (request.method !== 'POST') {
        response.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ __type: 'UnknownOperationException', message: 'POST InitiateAuth here.' }),
        );
        return true;
      }
      if (!options.acceptRequest(request)) {
        options.logger.warn('sign-in refused: request from another origin', {
          origin: request.headers.origin,
        });
        response.writeHead(403, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            __type: 'NotAuthorizedException',
            message: 'Sign in from this server’s own page.',
          }),
        );
        return true;
      }
      await signIn(request, response);
      return true;
    },
  };
}
