import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtParseError,
} from 'aws-jwt-verify/error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cognitoIssuer,
  createIdTokenVerifier,
  createOriginJwksFetcher,
  TokenUseError,
  type TokenVerifier,
} from './token-verifier.ts';

const AUDIENCE = 'web-client';
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RSA key and a signer, so tokens are real RS256 JWTs. */
function makeKey(kid: string = randomUUID()) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
    sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid, ...header })}.${b64(claims)}`;
      return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
    },
  };
}

describe('the shared id token verifier (aws-jwt-verify, JWKS fetched over HTTP)', () => {
  const key = makeKey();
  let server: Server;
  let issuer: string;
  let verifier: TokenVerifier;
  let jwksRequests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      jwksRequests += 1;
      if (req.url === '/pool/.well-known/jwks.json') res.end(JSON.stringify({ keys: [key.jwk] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    issuer = `${origin}/pool`;
    verifier = createIdTokenVerifier({
      issuer,
      audience: AUDIENCE,
      fetcher: createOriginJwksFetcher(origin),
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const claims = () => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuer,
      aud: AUDIENCE,
      sub: 'user-123',
      token_use: 'id',
      'cognito:username': 'alice',
      iat: now,
      exp: now + 3600,
    };
  };

  it('accepts a valid id token, returning its subject and user name, and fetches the JWKS once', async () => {
    // Act
    const first = await verifier.verify(key.sign(claims()));
    const second = await verifier.verify(key.sign(claims()));

    // Assess
    expect(first).toEqual({ sub: 'user-123', username: 'alice' });
    expect(second.sub).toBe('user-123');
    expect(jwksRequests).toBe(1);
  });

  const tampered = () => {
    const [head, , signature] = key.sign(claims()).split('.');
    return `${head}.${b64({ ...claims(), sub: 'admin' })}.${signature}`;
  };
  const expired = () => key.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 10 });
  const unsigned = () => `${b64({ alg: 'none', typ: 'JWT', kid: key.jwk.kid })}.${b64(claims())}.`;
  const cases: [string, () => string, new (...args: never[]) => Error][] = [
    ['an expired token', expired, JwtExpiredError],
    [
      'a token from another issuer',
      () => key.sign({ ...claims(), iss: 'https://evil.test/pool' }),
      JwtInvalidIssuerError,
    ],
    [
      'a token for another client',
      () => key.sign({ ...claims(), aud: 'someone-else' }),
      JwtInvalidAudienceError,
    ],
    // Cognito's access tokens carry `client_id`, not `aud`.
    [
      'an access token',
      () => key.sign({ ...claims(), token_use: 'access', aud: undefined }),
      JwtInvalidAudienceError,
    ],
    [
      'an access token naming our client as audience',
      () => key.sign({ ...claims(), token_use: 'access' }),
      TokenUseError,
    ],
    ['a token without a token use', () => key.sign({ ...claims(), token_use: undefined }), TokenUseError],
    ['a tampered payload', tampered, JwtInvalidSignatureError],
    // Same key id as the real key, so only the signature tells them apart.
    [
      'a token signed by a foreign key',
      () => makeKey(String(key.jwk.kid)).sign(claims()),
      JwtInvalidSignatureError,
    ],
    ['an unsigned token (alg none)', unsigned, JwtParseError],
    ['alg none with a signature part', () => `${unsigned()}c2ln`, JwtInvalidSignatureAlgorithmError],
    [
      'an HMAC token (alg confusion)',
      () => key.sign(claims(), { alg: 'HS256' }),
      JwtInvalidSignatureAlgorithmError,
    ],
    ['garbage', () => 'not-a-jwt', JwtParseError],
  ];
  it.each(cases)('refuses %s', async (_name, token, errorClass) => {
    await expect(verifier.verify(token())).rejects.toBeInstanceOf(errorClass);
  });

  it('refuses to fetch a JWKS from any origin but the one it was given', async () => {
    // Prepare: a verifier whose issuer (and so its JWKS) lives elsewhere
    const elsewhere = createIdTokenVerifier({
      issuer: 'http://169.254.169.254/pool',
      audience: AUDIENCE,
      fetcher: createOriginJwksFetcher(issuer),
    });

    // Act / Assess
    await expect(
      elsewhere.verify(key.sign({ ...claims(), iss: 'http://169.254.169.254/pool' })),
    ).rejects.toThrow(/only fetches from/);
  });

  it('derives the Cognito issuer URL from a user pool id, and refuses what is not one', () => {
    expect(cognitoIssuer('eu-west-1_AbC123')).toBe(
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
    );
    expect(() => cognitoIssuer('https://evil.test/')).toThrow(/not a Cognito user pool id/);
  });
});
