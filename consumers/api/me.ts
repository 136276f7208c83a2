import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { observe } from '../../bus/observability.ts';
import { IdSchema, LlmSettingsSchema } from '../../schemas/index.ts';
import { createStorage, type Storage } from '../../schemas/table.ts';

const json = (statusCode: number, body: unknown): APIGatewayProxyResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * `GET /v1/me`: who the signed-in user is and their current settings. The user id comes only from the
 * verified JWT (the HTTP API's Cognito authorizer); the API key is never returned, only whether a
 * reference to one is set.
 */
export function createMeHandler(deps: { storage: Storage; logger: Logger }) {
  return async function me(event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyResultV2> {
    const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
    if (typeof sub !== 'string' || !IdSchema.safeParse(sub).success) {
      deps.logger.warn('request without a usable subject');
      return json(401, { code: 'UNAUTHORIZED', message: 'Sign in again.' });
    }
    const { Item } = await deps.storage.UserSettingsEntity.build(GetItemCommand).key({ userId: sub }).send();
    const llm = Item?.llm ? LlmSettingsSchema.safeParse(JSON.parse(Item.llm)) : undefined;
    return json(200, {
      userId: sub,
      runtime: Item?.runtime ?? 'lambda',
      llm: llm?.success
        ? {
            provider: llm.data.provider,
            model: llm.data.model,
            baseUrl: llm.data.baseUrl,
            apiKey: llm.data.apiKeyRef ? 'set' : 'not set',
          }
        : null,
    });
  };
}

let defaultHandler: ReturnType<typeof createMeHandler> | undefined;

/** Lambda entry (TABLE_NAME from the environment). */
const entry = middy<APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2>().handler((event) => {
  defaultHandler ??= createMeHandler({
    storage: createStorage(),
    logger: new Logger({ serviceName: 'api-me' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
