import type { IncomingMessage } from 'node:http';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MAX_TOKEN_CHARS } from '../../../producers/web/authorizer.ts';
import { refusalReason, type TokenVerifier } from '../../../producers/web/token-verifier.ts';
import { IdSchema } from '../../../schemas/index.ts';
import type { LocalJwtClaims } from '../http-api.ts';

/**
 * Local mode's stand-in for API Gateway's JWT authorizer on the REST routes: takes `Authorization: Bearer
 * <id token>`, verifies it with the shared verifier and returns the claims, or undefined (401). Each
 * refusal is logged with its reason, never with the token.
 */
export function createBearerAuthorizer(deps: { verifier: TokenVerifier; logger: Logger }) {
  const { verifier, logger } = deps;
  return async function authorize(request: IncomingMessage): Promise<LocalJwtClaims | undefined> {
    const header = request.headers.authorization;
    const token = /^Bearer +(\S+)$/i.exec(header ?? '')?.[1];
    if (!token || token.length > MAX_TOKEN_CHARS) {
      logger.warn('request refused: no bearer token', {
        path: request.url?.split('?')[0],
        reason: header ? 'not a bearer token' : 'missing',
      });
      return undefined;
    }
    try {
      const { sub, username } = await verifier.verify(token);
      if (!IdSchema.safeParse(sub).success) throw new Error('unusable subject');
      return { sub, ...(username ? { 'cognito:username': username } : {}) };
    } catch (error) {
      logger.warn('request refused: token not valid', {
        path: request.url?.split('?')[0],
        reason: refusalReason(error),
      });
      return undefined;
    }
  };
}
