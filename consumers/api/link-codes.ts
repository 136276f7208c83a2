import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { observe } from '../../bus/observability.ts';
import { createIdentity, type Identity, LINK_CODE_TTL_SECONDS } from '../../producers/shared/identity.ts';
import { IdSchema } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';

const json = (statusCode: number, body: unknown): APIGatewayProxyResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/**
 * `POST /v1/link-codes`: a one-time code the signed-in user sends to a bot (`/link CODE` on Telegram,
 * `/link` on Discord, `/openclaw link CODE` on Slack) to talk to the same agent from there. It mints codes
 * with the same identity module the producers check them with, so their format and lifetime cannot drift.
 */
export function createLinkCodesHandler(deps: { identity: Identity; logger: Pick<Logger, 'warn' | 'info'> }) {
  return async function createLinkCode(
    event: APIGatewayProxyEventV2WithJWTAuthorizer,
  ): Promise<APIGatewayProxyResultV2> {
    const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
    if (typeof sub !== 'string' || !IdSchema.safeParse(sub).success) {
      deps.logger.warn('link code refused: no usable subject');
      return json(401, { code: 'UNAUTHORIZED', message: 'Sign in again.' });
    }
    const { code, expiresAt } = await deps.identity.createLinkCode(sub);
    deps.logger.info('link code created', { userId: sub });
    return json(201, {
      code,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      expiresInSeconds: LINK_CODE_TTL_SECONDS,
      howTo: `Send "/link ${code}" to the bot within ${LINK_CODE_TTL_SECONDS / 60} minutes. The code works once.`,
    });
  };
}

let defaultHandler: ReturnType<typeof createLinkCodesHandler> | undefined;

/** Lambda entry (TABLE_NAME from the environment). */
const entry = middy<APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2>().handler((event) => {
  defaultHandler ??= createLinkCodesHandler({
    identity: createIdentity({ storage: createStorage() }),
    logger: new Logger({ serviceName: 'api-link-codes' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
