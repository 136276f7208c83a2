import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity } from '../../producers/shared/identity.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createLinkCodesHandler } from './link-codes.ts';

const event = (sub?: unknown) =>
  ({
    requestContext: { authorizer: { jwt: { claims: sub === undefined ? {} : { sub } } } },
  }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;

const silent = { warn() {}, info() {} };

describe('POST /v1/link-codes', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  it('mints a code that links a channel account to the signed-in user, once', async () => {
    // Prepare
    const identity = createIdentity({ storage: aws.storage });
    const createLinkCode = createLinkCodesHandler({ identity, logger: silent });

    // Act
    const response = (await createLinkCode(event('web-9'))) as { statusCode: number; body: string };
    const { code, expiresInSeconds } = JSON.parse(response.body) as {
      code: string;
      expiresInSeconds: number;
    };
    const linked = await identity.link('telegram', '99', code);

    // Assess
    expect(response.statusCode).toBe(201);
    expect(expiresInSeconds).toBe(300);
    expect(linked).toEqual({ linked: true, userId: 'web-9' });
  });

  it.each([
    ['no subject', undefined],
    ['a subject that is not an id', 'a b#c'],
  ])('refuses %s with 401', async (_name, sub) => {
    // Prepare
    const createLinkCode = createLinkCodesHandler({
      identity: createIdentity({ storage: aws.storage }),
      logger: silent,
    });

    // Act
    const response = (await createLinkCode(event(sub))) as { statusCode: number };

    // Assess
    expect(response.statusCode).toBe(401);
  });
});
