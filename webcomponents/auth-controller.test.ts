import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiRequestError } from './api-client.ts';
import { AUTH_STORAGE_KEY, OpenclawAuth, refreshDelayMs } from './auth-controller.ts';
import { AuthError } from './cognito-client.ts';

/** A loopback fake of the Cognito JSON API plus one REST route that wants the current id token. */
class FakeIssuer {
  calls: { target: string; body: Record<string, unknown> }[] = [];
  tokenNo = 0;
  currentIdToken = '';
  revoked = false;
  newPasswordFor = new Set<string>();

  async handle(req: IncomingMessage, body: string): Promise<[number, unknown]> {
    if (req.url === '/v1/me') {
      return req.headers.authorization === `Bearer ${this.currentIdToken}`
        ? [200, { ok: true }]
        : [401, { code: 'UNAUTHORIZED', message: 'Sign in.' }];
    }
    const target = String(req.headers['x-amz-target']).split('.').pop() ?? '';
    const parsed = JSON.parse(body) as {
      AuthFlow?: string;
      AuthParameters: Record<string, string>;
    };
    this.calls.push({ target, body: parsed });
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return [400, { __type: 'BadType' }];
    if (target === 'RespondToAuthChallenge') return [200, this.#tokens(true)];
    if (parsed.AuthFlow === 'REFRESH_TOKEN_AUTH') {
      if (this.revoked || parsed.AuthParameters.REFRESH_TOKEN !== 'refresh-1') {
        return [400, { __type: 'NotAuthorizedException', message: 'Refresh Token has been revoked' }];
      }
      return [200, this.#tokens(false)];
    }
    const { USERNAME, PASSWORD } = parsed.AuthParameters;
    if (PASSWORD !== 'right')
      return [400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' }];
    if (this.newPasswordFor.has(USERNAME ?? ''))
      return [200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'sess-1' }];
    return [200, this.#tokens(true)];
  }

  #tokens(withRefresh: boolean) {
    this.tokenNo += 1;
    this.currentIdToken = `id-${this.tokenNo}`;
    return {
      AuthenticationResult: {
        IdToken: this.currentIdToken,
        AccessToken: `access-${this.tokenNo}`,
        ExpiresIn: 3600,
        TokenType: 'Bearer',
        ...(withRefresh ? { RefreshToken: 'refresh-1' } : {}),
      },
    };
  }
}

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

describe('refreshDelayMs', () => {
  it('refreshes the margin before expiry, but not in the first half of a short token', () => {
    expect(refreshDelayMs(3600, 300_000)).toBe(3_300_000);
    expect(refreshDelayMs(400, 300_000)).toBe(200_000);
    expect(refreshDelayMs(0, 300_000)).toBe(0);
  });
});

describe('OpenclawAuth against a loopback issuer', () => {
  let server: Server;
  let endpoint: string;
  let issuer: FakeIssuer;
  let clock: number;
  const made: OpenclawAuth[] = [];

  function auth(storage = memoryStorage()) {
    const a = new OpenclawAuth({ endpoint, clientId: 'client-1', storage, now: () => clock });
    made.push(a);
    return a;
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        const [status, answer] = await issuer.handle(req, body);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    for (const a of made) a.signOut();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    issuer = new FakeIssuer();
    clock = 1_000_000;
  });

  it('signs in with USER_PASSWORD_AUTH, keeps the id token in memory and the refresh token in storage', async () => {
    // Prepare
    const storage = memoryStorage();
    const a = auth(storage);
    const events: string[] = [];
    a.addEventListener('openclaw-signed-in', () => events.push('in'));

    // Act
    const result = await a.signIn('ana', 'right');

    // Assess
    expect(result).toEqual({ signedIn: true });
    expect(issuer.calls[0]).toEqual({
      target: 'InitiateAuth',
      body: {
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: 'client-1',
        AuthParameters: { USERNAME: 'ana', PASSWORD: 'right' },
      },
    });
    expect(await a.getToken()).toBe('id-1');
    expect(JSON.parse(storage.map.get(AUTH_STORAGE_KEY)!)).toEqual({
      refreshToken: 'refresh-1',
      username: 'ana',
    });
    expect(storage.map.get(AUTH_STORAGE_KEY)).not.toContain('id-1');
    expect(events).toEqual(['in']);
  });

  it('rejects a wrong password with the issuer message', async () => {
    const error = await auth()
      .signIn('ana', 'wrong')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({
      code: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
  });

  it('completes a NEW_PASSWORD_REQUIRED challenge with its session', async () => {
    issuer.newPasswordFor.add('new');
    const a = auth();
    expect(await a.signIn('new', 'right')).toEqual({ challenge: 'NEW_PASSWORD_REQUIRED' });
    expect(await a.getToken()).toBeUndefined();
    expect(await a.completeNewPassword('n3w-Passw0rd')).toEqual({ signedIn: true });
    expect(issuer.calls[1]).toEqual({
      target: 'RespondToAuthChallenge',
      body: {
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        ClientId: 'client-1',
        Session: 'sess-1',
        ChallengeResponses: { USERNAME: 'new', NEW_PASSWORD: 'n3w-Passw0rd' },
      },
    });
    expect(await a.getToken()).toBe('id-1');
  });

  it('refreshes with REFRESH_TOKEN_AUTH once the token is within the margin of expiry, and keeps the refresh token', async () => {
    const storage = memoryStorage();
    const a = auth(storage);
    await a.signIn('ana', 'right');
    clock += 54 * 60_000;
    expect(await a.getToken()).toBe('id-1');
    clock += 2 * 60_000; // 56 min: inside the 5-minute margin
    const [t1, t2] = await Promise.all([a.getToken(), a.getToken()]);
    expect([t1, t2]).toEqual(['id-2', 'id-2']);
    expect(issuer.calls.map((c) => c.body.AuthFlow)).toEqual(['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH']);
    expect(issuer.calls[1]!.body.AuthParameters).toEqual({ REFRESH_TOKEN: 'refresh-1' });
    expect(JSON.parse(storage.map.get(AUTH_STORAGE_KEY)!).refreshToken).toBe('refresh-1');
  });

  it('restores a session from storage after a reload, and signs out when the refresh token is refused', async () => {
    const storage = memoryStorage();
    await auth(storage).signIn('ana', 'right');
    const reloaded = auth(storage);
    expect(await reloaded.restore()).toBe(true);
    expect(await reloaded.getToken()).toBe('id-2');
    expect(reloaded.username).toBe('ana');

    issuer.revoked = true;
    const out: string[] = [];
    reloaded.addEventListener('openclaw-signed-out', () => out.push('out'));
    await expect(reloaded.getToken({ forceRefresh: true })).rejects.toMatchObject({
      code: 'NotAuthorizedException',
    });
    expect(out).toEqual(['out']);
    expect(storage.map.has(AUTH_STORAGE_KEY)).toBe(false);
    expect(await reloaded.getToken()).toBeUndefined();
  });

  it('ApiClient sends the bearer token and retries once with a refreshed token after a 401', async () => {
    const a = auth();
    await a.signIn('ana', 'right');
    const api = new ApiClient({ baseUrl: endpoint, auth: a });
    expect((await api.request('GET', '/v1/me')).data).toEqual({ ok: true });
    issuer.currentIdToken = 'rotated-elsewhere'; // the server no longer accepts id-1
    const retried = await api.request('GET', '/v1/me');
    // The 401 made the client refresh (the fake then accepts the new id-2) and send again.
    expect(issuer.calls.at(-1)!.body.AuthFlow).toBe('REFRESH_TOKEN_AUTH');
    expect(retried).toEqual({ status: 200, data: { ok: true }, etag: undefined });
  });

  it('ApiClient turns a {code, message} answer into ApiRequestError', async () => {
    const api = new ApiClient({ baseUrl: endpoint });
    const error = await api.request('GET', '/v1/me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: 'Sign in.' });
  });
});
