import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalHttpApi } from './http-api.ts';

describe('the local HTTP API (API Gateway v2 events for the same handlers)', () => {
  let server: Server;
  let base: string;
  const seen: APIGatewayProxyEventV2[] = [];

  beforeAll(async () => {
    const api = createLocalHttpApi({
      routes: [
        {
          method: 'POST',
          path: '/webhooks/test',
          handler: async (event) => {
            seen.push(event);
            return { statusCode: 202, headers: { 'x-seen': 'yes' }, body: 'accepted' };
          },
        },
        {
          method: 'GET',
          path: '/v1/me',
          signedIn: true,
          handler: async (event) => ({
            statusCode: 200,
            body: JSON.stringify((event.requestContext as { authorizer?: unknown }).authorizer),
          }),
        },
        {
          method: 'POST',
          path: '/v1/things/{thingId}/pause',
          handler: async (event) => ({
            statusCode: 200,
            body: JSON.stringify({ routeKey: event.routeKey, pathParameters: event.pathParameters }),
          }),
        },
        {
          method: 'POST',
          path: '/webhooks/broken',
          handler: async () => {
            throw new Error('boom');
          },
        },
      ],
      // The stack's real authorizer verifies bearer tokens (test/local-auth.test.ts); here a header stands in.
      authorize: async (request) => {
        const sub = request.headers['x-test-user'] as string | undefined;
        return sub ? { sub, 'cognito:username': sub } : undefined;
      },
      maxBodyBytes: 1024,
    });
    server = createServer(async (req, res) => {
      if (!(await api(req, res))) res.writeHead(404).end('no route');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('passes a JSON body as text with lower-case headers and returns the handler result', async () => {
    // Act
    const response = await fetch(`${base}/webhooks/test?x=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 's3cret' },
      body: '{"update_id":1}',
    });

    // Assess
    expect(response.status).toBe(202);
    expect(response.headers.get('x-seen')).toBe('yes');
    expect(await response.text()).toBe('accepted');
    const event = seen.at(-1)!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/test',
      rawPath: '/webhooks/test',
      rawQueryString: 'x=1',
      body: '{"update_id":1}',
      isBase64Encoded: false,
      headers: { 'x-telegram-bot-api-secret-token': 's3cret', 'content-type': 'application/json' },
    });
  });

  it('base64-encodes a binary body, as API Gateway does', async () => {
    // Act
    await fetch(`${base}/webhooks/test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: 'raw bytes',
    });

    // Assess
    const event = seen.at(-1)!;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').toString()).toBe('raw bytes');
  });

  it('refuses an oversized body with 413 before the handler runs', async () => {
    // Prepare
    const before = seen.length;

    // Act
    const response = await fetch(`${base}/webhooks/test`, { method: 'POST', body: 'x'.repeat(2048) });

    // Assess
    expect(response.status).toBe(413);
    expect(seen.length).toBe(before);
  });

  it('answers 413 to a much larger body on a keep-alive connection, and the connection serves the next request', async () => {
    // Prepare: one socket, kept alive
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: Buffer) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const request = httpRequest(`${base}/webhooks/test`, { method: 'POST', agent }, (response) => {
          response
            .resume()
            .on('end', () => resolve({ status: response.statusCode!, reused: request.reusedSocket }));
        });
        request.on('error', reject).end(body);
      });

    // Act: a body 1000x the limit, sent in many chunks, then a small one
    const oversized = await post(Buffer.alloc(1024 * 1024, 'x'));
    const next = await post(Buffer.from('small'));
    agent.destroy();

    // Assess
    expect(oversized).toEqual({ status: 413, reused: false });
    expect(next).toEqual({ status: 202, reused: true });
  });

  it('answers 413 and closes the connection when the body goes on past what it will read', async () => {
    // Act: more than the 16 MiB it drains
    const body = Buffer.alloc(20 * 1024 * 1024, 'x');
    const response = await fetch(`${base}/webhooks/test`, { method: 'POST', body });

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
  });

  it('gives signed-in routes the user as JWT claims, and refuses anonymous callers with 401', async () => {
    // Act
    const anonymous = await fetch(`${base}/v1/me`);
    const signedIn = await fetch(`${base}/v1/me`, { headers: { 'x-test-user': 'user-1' } });

    // Assess
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringContaining('Bearer'),
    });
    expect(await signedIn.json()).toEqual({
      jwt: { claims: { sub: 'user-1', 'cognito:username': 'user-1' }, scopes: [] },
    });
  });

  it('matches path parameters as API Gateway does, and names the route as declared', async () => {
    // Act
    const matched = await fetch(`${base}/v1/things/a%20b/pause`, { method: 'POST' });
    const tooShort = await fetch(`${base}/v1/things//pause`, { method: 'POST' });

    // Assess
    expect(await matched.json()).toEqual({
      routeKey: 'POST /v1/things/{thingId}/pause',
      pathParameters: { thingId: 'a b' },
    });
    expect(tooShort.status).toBe(404);
  });

  it('answers a throwing handler with a bare 500 and leaves unknown routes to the caller', async () => {
    // Act
    const broken = await fetch(`${base}/webhooks/broken`, { method: 'POST' });
    const unknown = await fetch(`${base}/webhooks/none`, { method: 'POST' });

    // Assess
    expect(broken.status).toBe(500);
    expect(await broken.text()).not.toContain('boom');
    expect(unknown.status).toBe(404);
  });
});
