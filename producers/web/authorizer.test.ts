import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebSocketAuthorizer, type TokenVerifier } from './authorizer.ts';
import { createIdTokenVerifier, createOriginJwksFetcher } from './token-verifier.ts';

const ISSUER = 'https://issuer.test/pool';
const AUDIENCE = 'web-client';

/** An RSA key pair and a JWT signer, so tokens are verified by aws-jwt-verify for real. */
function makeIssuer(kid: string = randomUUID()) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    jwks: { keys: [jwk] },
    sign(claims: Record<string, unknown>) {
      const head = b64({ alg: 'RS256', typ: 'JWT', kid });
      const body = b64(claims);
      const signature = createSign('RSA-SHA256')
        .update(`${head}.${body}`)
        .sign(privateKey)
        .toString('base64url');
      return `${head}.${body}.${signature}`;
    },
  };
}

/** The shared verifier, its JWKS served from a loopback server as Cognito serves it. */
async function verifierFor(jwks: { keys: object[] }): Promise<{ verifier: TokenVerifier; close(): void }> {
  const server = createServer((_req, res) => res.end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const verifier = createIdTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${origin}/.well-known/jwks.json`,
    fetcher: createOriginJwksFetcher(origin),
  });
  return { verifier, close: () => server.close() };
}

const event = (token?: string) =>
  ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/prod/$connect',
    queryStringParameters: token === undefined ? {} : { token },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('the WebSocket $connect authorizer', () => {
  const issuer = makeIssuer();
  let authorize: ReturnType<typeof createWebSocketAuthorizer>;
  let close: () => void;
  beforeAll(async () => {
    const built = await verifierFor(issuer.jwks);
    close = built.close;
    authorize = createWebSocketAuthorizer({
      verifier: built.verifier,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
  });
  afterAll(() => close());
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-123', token_use: 'id', iat: now, exp: now + 3600 };

  it('allows a valid token and passes its subject on as the user id', async () => {
    const result = await authorize(event(issuer.sign(claims)));
    expect(result.principalId).toBe('user-123');
    expect(result.context).toEqual({ userId: 'user-123' });
    expect(result.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: event().methodArn,
    });
  });

  it.each([
    ['a missing token', undefined],
    ['an empty token', ''],
    ['garbage', 'not-a-jwt'],
    ['an expired token', issuer.sign({ ...claims, exp: now - 10 })],
    ['a token for another client', issuer.sign({ ...claims, aud: 'someone-else' })],
    ['a token from another issuer', issuer.sign({ ...claims, iss: 'https://evil.test' })],
    // Same key id as the real key, so only the signature check can tell them apart.
    ['a token signed by a foreign key', makeIssuer(issuer.jwks.keys[0]!.kid).sign(claims)],
    ['an oversized token', 'a'.repeat(20_000)],
    ['an access token', issuer.sign({ ...claims, token_use: 'access' })],
    ['a subject that cannot be a user id', issuer.sign({ ...claims, sub: 'USER#1 x' })],
  ])('refuses %s with Unauthorized', async (_name, token) => {
    await expect(authorize(event(token))).rejects.toThrow('Unauthorized');
  });
});
