import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createMeHandler } from './me.ts';

const event = (sub?: unknown) =>
  ({
    requestContext: { authorizer: { jwt: { claims: sub === undefined ? {} : { sub } } } },
  }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;

describe('GET /v1/me', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let me: ReturnType<typeof createMeHandler>;
  beforeAll(async () => {
    aws = await startLocalAws();
    me = createMeHandler({ storage: aws.storage, logger: new Logger({ logLevel: 'SILENT' }) });
  });
  afterAll(() => aws.close());

  it('returns the user and their settings, never the key itself', async () => {
    await aws.storage.UserSettingsEntity.build(PutItemCommand)
      .item({
        userId: 'user-7',
        runtime: 'auto',
        updatedAt: new Date().toISOString(),
        llm: JSON.stringify({
          provider: 'anthropic',
          api: 'anthropic-messages',
          model: 'claude-x',
          apiKeyRef: 'ANTHROPIC_API_KEY',
        }),
      })
      .send();
    const response = (await me(event('user-7'))) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      userId: 'user-7',
      runtime: 'auto',
      llm: { provider: 'anthropic', model: 'claude-x', apiKey: 'set' },
    });
    expect(response.body).not.toContain('ANTHROPIC_API_KEY');
  });

  it('answers a user without settings with the defaults', async () => {
    const response = (await me(event('fresh-user'))) as { statusCode: number; body: string };
    expect(JSON.parse(response.body)).toEqual({ userId: 'fresh-user', runtime: 'lambda', llm: null });
  });

  it.each([
    ['no subject', undefined],
    ['a subject that is not an id', 'a b#c'],
    ['a non-string subject', 42],
  ])('refuses %s with 401', async (_name, sub) => {
    const response = (await me(event(sub))) as { statusCode: number };
    expect(response.statusCode).toBe(401);
  });
});
