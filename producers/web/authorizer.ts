import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { observe } from '../../bus/observability.ts';
import { IdSchema } from '../../schemas/index.ts';
import { cognitoVerifierFromEnv, refusalReason, type TokenVerifier } from './token-verifier.ts';

export type { TokenVerifier } from './token-verifier.ts';

/** Browsers cannot set headers on a WebSocket, so the token rides in the query string (`?token=`). */
export const TOKEN_QUERY_PARAMETER = 'token';

/** JWTs are a few KB; anything far larger is not a token and is refused before parsing. */
export const MAX_TOKEN_CHARS = 8 * 1024;

export interface WebSocketAuthorizerDeps {
  verifier: TokenVerifier;
  logger: Logger;
}

function policy(effect: 'Allow' | 'Deny', resource: string, userId: string): APIGatewayAuthorizerResult {
  return {
    principalId: userId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    // The web producer reads the user from here on `$connect`; it is never taken from the client.
    context: { userId },
  };
}

/**
 * The `$connect` authorizer of the WebSocket API: verifies the id token from the query string with the
 * shared verifier (signature, issuer, audience, expiry, token use) and passes the user id on. Local mode's
 * WebSocket gateway runs this same function with the local issuer's verifier. Missing, expired and
 * foreign tokens are refused with 401 by API Gateway (we throw `Unauthorized`), and logged without the token.
 */
export function createWebSocketAuthorizer(deps: WebSocketAuthorizerDeps) {
  const { verifier, logger } = deps;
  return async function authorize(
    event: APIGatewayRequestAuthorizerEvent,
  ): Promise<APIGatewayAuthorizerResult> {
    const token = event.queryStringParameters?.[TOKEN_QUERY_PARAMETER];
    if (!token || token.length > MAX_TOKEN_CHARS) {
      logger.warn('connect refused: no token', { reason: token ? 'too long' : 'missing' });
      throw new Error('Unauthorized');
    }
    let sub: string;
    try {
      ({ sub } = await verifier.verify(token));
    } catch (error) {
      logger.warn('connect refused: token not valid', { reason: refusalReason(error) });
      throw new Error('Unauthorized');
    }
    if (!IdSchema.safeParse(sub).success) {
      logger.warn('connect refused: unusable subject');
      throw new Error('Unauthorized');
    }
    return policy('Allow', event.methodArn, sub);
  };
}

let defaultAuthorizer: ReturnType<typeof createWebSocketAuthorizer> | undefined;

/** Lambda entry. The verifier caches the pool's JWKS across invocations of a warm container. */
async function entry(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  defaultAuthorizer ??= createWebSocketAuthorizer({
    verifier: cognitoVerifierFromEnv(),
    logger: new Logger({ serviceName: 'web-authorizer' }),
  });
  return defaultAuthorizer(event);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
