import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIATE_AUTH_TARGET } from './cognito-endpoint.ts';
import { createLocalAuth, LOCAL_CLIENT_ID, type LocalAuth } from './local-auth.ts';

const decode = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('the local issuer (Cognito InitiateAuth protocol, JWKS, shared verifier)', () => {
  let dir: string;
  let server: Server;
  let baseUrl: string;
  let auth: LocalAuth;
  const make = (env: NodeJS.ProcessEnv = { LOCAL_USERS: 'alice:s3cret:with:colons,bob:other' }) =>
    createLocalAuth({
      dir,
      baseUrl,
      env,
      logger: new Logger({ logLevel: 'SILENT' }),
      acceptRequest: (request) => request.headers.origin === undefined || request.headers.origin === baseUrl,
      failureDelayMs: 150,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openclaw-auth-'));
    server = createServer(async (req, res) => {
      if (!(await auth.handleRequest(req, res))) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    auth = await make();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  /** One InitiateAuth call, exactly as the AWS SDK (and the sign-in element) sends it. */
  const initiateAuth = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(auth.config.endpoint, {
      method: 'POST',
      headers: {
        'X-Amz-Target': INITIATE_AUTH_TARGET,
        'Content-Type': 'application/x-amz-json-1.1',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const passwordAuth = (USERNAME: string, PASSWORD: string) =>
    initiateAuth({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: LOCAL_CLIENT_ID,
      AuthParameters: { USERNAME, PASSWORD },
    });
  const expectCognitoError = async (response: Response, status: number, type: string, message?: RegExp) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('x-amzn-errortype')).toBe(`${type}:`);
    const body = (await response.json()) as { __type: string; message: string };
    expect(body.__type).toBe(type);
    if (message) expect(body.message).toMatch(message);
  };

  it('signs in with user name and password and returns Cognito-shaped tokens the shared verifier accepts', async () => {
    // Act
    const response = await passwordAuth('alice', 's3cret:with:colons');

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    const { AuthenticationResult: result, ChallengeParameters } = (await response.json()) as {
      AuthenticationResult: Record<string, string | number>;
      ChallengeParameters: object;
    };
    expect(ChallengeParameters).toEqual({});
    expect(result).toMatchObject({ ExpiresIn: 3600, TokenType: 'Bearer' });
    const id = decode(String(result.IdToken));
    expect(id).toMatchObject({
      iss: auth.config.issuer,
      aud: LOCAL_CLIENT_ID,
      sub: 'local-alice',
      token_use: 'id',
      'cognito:username': 'alice',
    });
    expect(Number(id.exp) - Number(id.iat)).toBe(3600);
    expect(decode(String(result.AccessToken))).toMatchObject({
      token_use: 'access',
      client_id: LOCAL_CLIENT_ID,
    });
    expect(await auth.verifier.verify(String(result.IdToken))).toEqual({
      sub: 'local-alice',
      username: 'alice',
    });
    // The access token is for Cognito's own APIs, not ours; the refresh token is no JWT at all.
    await expect(auth.verifier.verify(String(result.AccessToken))).rejects.toThrow();
    await expect(auth.verifier.verify(String(result.RefreshToken))).rejects.toThrow();
  });

  it('refuses a wrong password and an unknown user alike, after a delay', async () => {
    // Act
    const started = Date.now();
    const wrong = await passwordAuth('bob', 'not-it');
    const unknown = await passwordAuth('mallory', 'other');

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 150 - 20);
    await expectCognitoError(wrong, 400, 'NotAuthorizedException', /^Incorrect username or password\.$/);
    await expectCognitoError(unknown, 400, 'NotAuthorizedException', /^Incorrect username or password\.$/);
  });

  it('locks a user name after five wrong passwords, even against the right one', async () => {
    // Prepare
    for (let i = 0; i < 5; i++) await passwordAuth('locked-out', `guess-${i}`);

    // Act
    const fresh = await make({ LOCAL_USERS: 'locked-out:right' });
    auth = fresh;
    const afterRestart = await passwordAuth('locked-out', 'right');
    auth = await make();
    for (let i = 0; i < 5; i++) await passwordAuth('bob', `guess-${i}`);
    const locked = await passwordAuth('bob', 'other');

    // Assess: the count lives in memory (a restart clears it); within a process the sixth try is refused
    expect(afterRestart.status).toBe(200);
    await expectCognitoError(locked, 400, 'NotAuthorizedException', /Password attempts exceeded/);
  });

  it('refreshes with REFRESH_TOKEN_AUTH (no new refresh token, as Cognito) and refuses a forged refresh token', async () => {
    // Prepare
    const signedIn = (await (await passwordAuth('alice', 's3cret:with:colons')).json()) as {
      AuthenticationResult: { RefreshToken: string };
    };
    const refreshToken = signedIn.AuthenticationResult.RefreshToken;
    const refresh = (REFRESH_TOKEN: string) =>
      initiateAuth({
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: LOCAL_CLIENT_ID,
        AuthParameters: { REFRESH_TOKEN },
      });

    // Act
    const refreshed = await refresh(refreshToken);
    const [payload] = refreshToken.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'local-bob' }),
    ).toString('base64url');
    const forged = await refresh(`${forgedPayload}.${refreshToken.split('.')[1]}`);

    // Assess
    expect(refreshed.status).toBe(200);
    const { AuthenticationResult: result } = (await refreshed.json()) as {
      AuthenticationResult: Record<string, string>;
    };
    expect(result.RefreshToken).toBeUndefined();
    expect((await auth.verifier.verify(result.IdToken!)).sub).toBe('local-alice');
    await expectCognitoError(forged, 400, 'NotAuthorizedException', /Invalid Refresh Token/);
  });

  it.each([
    [
      'an unknown flow',
      { AuthFlow: 'USER_SRP_AUTH', ClientId: LOCAL_CLIENT_ID, AuthParameters: {} },
      {},
      400,
      'InvalidParameterException',
      /USER_SRP_AUTH is not supported/,
    ],
    [
      'another client id',
      { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'someone-else', AuthParameters: {} },
      {},
      400,
      'ResourceNotFoundException',
      /someone-else does not exist/,
    ],
    [
      'a missing password',
      { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: LOCAL_CLIENT_ID, AuthParameters: { USERNAME: 'alice' } },
      {},
      400,
      'InvalidParameterException',
      /PASSWORD/,
    ],
    ['a body of the wrong shape', { AuthFlow: 42 }, {}, 400, 'InvalidParameterException', /AuthFlow/],
    ['a malformed body', '{"AuthFlow":', {}, 400, 'SerializationException', /not valid JSON/],
    [
      'another operation',
      {},
      { 'X-Amz-Target': 'AWSCognitoIdentityProviderService.SignUp' },
      400,
      'UnknownOperationException',
      /implements only/,
    ],
    [
      'another content type',
      {},
      { 'Content-Type': 'text/plain' },
      400,
      'SerializationException',
      /x-amz-json-1.1/,
    ],
    ['an oversized body', 'x'.repeat(64 * 1024), {}, 413, 'InvalidParameterException', /larger than/],
  ])('answers %s with a Cognito error', async (_name, body, headers, status, type, message) => {
    await expectCognitoError(
      await initiateAuth(body, headers as Record<string, string>),
      status,
      type,
      message,
    );
  });

  it('refuses sign-in from a page of another origin', async () => {
    const response = await initiateAuth({}, { Origin: 'https://evil.example' });
    expect(response.status).toBe(403);
  });

  it('serves its public key as a JWKS, and keeps the key across a restart so old tokens still verify', async () => {
    // Prepare
    const before = (await (await passwordAuth('alice', 's3cret:with:colons')).json()) as {
      AuthenticationResult: { IdToken: string };
    };

    // Act
    auth = await make();
    const jwks = (await (await fetch(auth.config.jwksUri)).json()) as { keys: Record<string, string>[] };

    // Assess
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect((await auth.verifier.verify(before.AuthenticationResult.IdToken)).sub).toBe('local-alice');
    expect((await stat(join(dir, 'issuer-key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('gives the default user `local` (id local-user) a generated password, kept with mode 0600', async () => {
    // Act
    auth = await make({});
    const again = await make({});
    auth = again;
    const response = await passwordAuth('local', again.users.generatedPassword!.password);

    // Assess
    const file = join(dir, 'local-password');
    expect(again.users.generatedPassword).toEqual({ password: (await readFile(file, 'utf8')).trim(), file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(response.status).toBe(200);
    const { AuthenticationResult } = (await response.json()) as { AuthenticationResult: { IdToken: string } };
    expect((await auth.verifier.verify(AuthenticationResult.IdToken)).sub).toBe('local-user');
  });

  it('takes LOCAL_PASSWORD for the default user, and refuses a LOCAL_USERS entry without a password', async () => {
    auth = await make({ LOCAL_PASSWORD: 'chosen-one' });
    expect((await passwordAuth('local', 'chosen-one')).status).toBe(200);
    expect(auth.users.generatedPassword).toBeUndefined();
    await expect(make({ LOCAL_USERS: 'alice' })).rejects.toThrow(/give alice a password/);
  });
});
