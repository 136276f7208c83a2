import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../infra/local/stack.ts';
import {
  bearer,
  resignWithStackKey,
  type SignedIn,
  signIn,
  signWithForeignKey,
  TEST_USER_LIST,
  withToken,
} from './fixtures/local-auth.ts';
import { connectTestSocket } from './fixtures/ws-client.ts';

/** Local sign-in end to end: the stack's issuer, its WebSocket gateway and its REST API, in one process. */
describe('sign-in in local mode: the WebSocket and the REST API want a token from this stack’s issuer', () => {
  const stacks: LocalStack[] = [];
  const dirs: string[] = [];
  let stack: LocalStack;
  let dataDir: string;
  let fresh: SignedIn;
  const tokens: Record<string, string> = {};

  const start = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openclaw-signin-'));
    dirs.push(dir);
    const started = await startLocalStack({
      dataDir: dir,
      port: 0,
      logLevel: 'SILENT',
      preloadAgent: false,
      users: TEST_USER_LIST,
      signInFailureDelayMs: 10,
      schedulerTickMs: 0,
    });
    stacks.push(started);
    return { stack: started, dir };
  };

  beforeAll(async () => {
    ({ stack, dataDir } = await start().then(({ stack, dir }) => ({ stack, dataDir: dir })));
    const other = await start();
    fresh = await signIn(stack.url, 'local');
    const now = Math.floor(Date.now() / 1000);
    tokens['an expired token'] = await resignWithStackKey(dataDir, fresh.idToken, {
      iat: now - 7200,
      exp: now - 60,
    });
    tokens['a token of another local stack (other issuer, other key)'] = (
      await signIn(other.stack.url, 'local')
    ).idToken;
    tokens['a token claiming another issuer, signed by our key'] = await resignWithStackKey(
      dataDir,
      fresh.idToken,
      {
        iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other',
      },
    );
    tokens['a token signed by a foreign key'] = signWithForeignKey(fresh.idToken);
    tokens['an access token'] = fresh.accessToken;
    tokens['a refresh token'] = fresh.refreshToken;
  }, 120_000);

  afterAll(async () => {
    for (const started of stacks) await started.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('accepts a fresh id token on the WebSocket (as user local-user) and on REST', async () => {
    // Act
    const socket = await connectTestSocket(withToken(stack.wsUrl, fresh.idToken), { Origin: stack.url });
    socket.send({ action: 'ping' });
    const pong = await socket.waitFor((frame) => frame.type === 'pong', 10_000);
    const me = await fetch(`${stack.url}/v1/me`, { headers: bearer(fresh.idToken) });

    // Assess
    expect(pong.type).toBe('pong');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ userId: 'local-user' });
    await socket.close();
  });

  it('gives each local user their own id', async () => {
    const alice = await signIn(stack.url, 'alice');
    const me = await fetch(`${stack.url}/v1/me`, { headers: bearer(alice.idToken) });
    expect(await me.json()).toMatchObject({ userId: 'local-alice' });
  });

  it('refuses a WebSocket upgrade without a token, and with ?user= (the old stand-in)', async () => {
    await expect(connectTestSocket(stack.wsUrl)).rejects.toThrow('upgrade refused: 401');
    await expect(connectTestSocket(`${stack.wsUrl}?user=local-user`)).rejects.toThrow('upgrade refused: 401');
  });

  it('refuses REST calls without a token, with a non-bearer header, and with ?user=', async () => {
    for (const init of [{}, { headers: { authorization: `Basic ${fresh.idToken}` } }]) {
      const response = await fetch(`${stack.url}/v1/me?user=local-user`, init);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.any(String) });
    }
  });

  const refused = [
    'an expired token',
    'a token of another local stack (other issuer, other key)',
    'a token claiming another issuer, signed by our key',
    'a token signed by a foreign key',
    'an access token',
    'a refresh token',
  ];
  it.each(refused)('refuses %s on the WebSocket (401) and on REST (401 UNAUTHORIZED)', async (name) => {
    // Prepare
    const token = tokens[name]!;

    // Act
    const upgrade = connectTestSocket(withToken(stack.wsUrl, token), { Origin: stack.url });
    const response = await fetch(`${stack.url}/v1/me`, { headers: bearer(token) });

    // Assess
    await expect(upgrade).rejects.toThrow('upgrade refused: 401');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('still refuses a valid token on a WebSocket opened by another site', async () => {
    await expect(
      connectTestSocket(withToken(stack.wsUrl, fresh.idToken), { Origin: 'https://evil.example' }),
    ).rejects.toThrow('upgrade refused: 401');
  });

  it('refuses sign-in from another site, and a wrong password with Cognito’s error', async () => {
    await expect(signIn(stack.url, 'local', 'wrong')).rejects.toThrow(/400 NotAuthorizedException/);
    const response = await fetch(`${stack.url}/local/auth`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(response.status).toBe(403);
  });
});
