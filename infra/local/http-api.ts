import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

/** A handler as API Gateway's HTTP API (payload format 2.0) calls it. */
export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

export interface LocalHttpRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As in API Gateway: literal segments and `{name}` parameters, e.g. `/v1/schedules/{jobId}`. */
  path: string;
  handler: HttpApiHandler;
  /** Behind the JWT authorizer on AWS: locally the user comes from `authorize`, else 401. */
  signedIn?: boolean;
}

/** The verified JWT claims of a signed-in request (at least `sub`), as API Gateway passes them on. */
export type LocalJwtClaims = { sub: string } & Record<string, string>;

export interface LocalHttpApiOptions {
  routes: readonly LocalHttpRoute[];
  /**
   * Local mode's stand-in for the Cognito JWT authorizer: the verified claims of a request's bearer token,
   * or undefined (401). Runs only for `signedIn` routes.
   */
  authorize: (request: IncomingMessage) => Promise<LocalJwtClaims | undefined> | LocalJwtClaims | undefined;
  /** Bodies above this are refused with 413 before any handler runs. @default 1 MiB */
  maxBodyBytes?: number;
}

/** Content types API Gateway passes as text; anything else arrives base64-encoded. */
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml)|[^;]*\+json)/i;

/**
 * How much of an oversized body is read and dropped before the 413. A server that answers and closes
 * with the client's bytes still unread makes the kernel reset the connection, and the client often sees
 * the reset instead of the 413; reading the rest lets the answer arrive and the connection stay usable.
 * Past this, the client is sending far more than any route takes: it gets the 413 and a closed connection.
 */
const MAX_DRAINED_BYTES = 16 * 1024 * 1024;

type BodyRead = { body: Buffer } | { tooLarge: true; drained: boolean };

/** The request's body, or that it is over `limit` (without buffering what is over). */
function readBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit + MAX_DRAINED_BYTES) {
        // Not destroy(): that would tear down the socket before the 413 is written.
        request.off('data', onData).off('end', onEnd).pause();
        resolve({ tooLarge: true, drained: false });
      }
    };
    const onEnd = () =>
      resolve(size > limit ? { tooLarge: true, drained: true } : { body: Buffer.concat(chunks) });
    request.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/**
 * Local mode's HTTP API: turns a Node request into the API Gateway v2 event the same handlers get on AWS
 * (lower-case headers, raw body as text or base64, JWT claims for signed-in routes) and writes their
 * result back. Webhook routes are public, as on AWS: the handlers verify the platforms' signatures.
 */
export function createLocalHttpApi(options: LocalHttpApiOptions) {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;

  /** The route for a request and its path parameters, matched segment by segment like API Gateway. */
  function match(method: string, pathname: string) {
    const segments = pathname.split('/');
    for (const route of options.routes) {
      if (route.method !== method) continue;
      const pattern = route.path.split('/');
      if (pattern.length !== segments.length) continue;
      const parameters: Record<string, string> = {};
      const matches = pattern.every((part, i) => {
        const segment = segments[i] ?? '';
        const name = /^\{(\w+)\}$/.exec(part)?.[1];
        if (!name) return part === segment;
        if (!segment) return false;
        parameters[name] = decodeURIComponent(segment);
        return true;
      });
      if (matches) return { route, parameters };
    }
    return undefined;
  }

  /** @returns false when no route matches, so the caller can serve something else */
  return async function handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const found = match(request.method ?? 'GET', url.pathname);
    if (!found) return false;
    const { route, parameters } = found;
    // API Gateway's routeKey names the route as declared, parameters and all.
    const routeKey = `${route.method} ${route.path}`;

    const send = (status: number, body: string) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    const claims = route.signedIn
      ? await Promise.resolve(options.authorize(request)).catch(() => undefined)
      : undefined;
    if (route.signedIn && !claims?.sub) {
      send(
        401,
        JSON.stringify({
          code: 'UNAUTHORIZED',
          message: 'Sign in first: send Authorization: Bearer <id token>.',
        }),
      );
      return true;
    }
    const read = await readBody(request, maxBodyBytes);
    if (!('body' in read)) {
      if (!read.drained) response.setHeader('connection', 'close');
      send(413, JSON.stringify({ message: 'Request Entity Too Large' }));
      return true;
    }
    const { body } = read;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const isText = TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
    const now = new Date();
    const event = {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
      ...(Object.keys(parameters).length > 0 ? { pathParameters: parameters } : {}),
      ...(body.length > 0
        ? { body: isText ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !isText }
        : { isBase64Encoded: false }),
      requestContext: {
        accountId: 'local',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method: request.method ?? 'GET',
          path: url.pathname,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey,
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
        ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
      },
    } as APIGatewayProxyEventV2;

    let result: APIGatewayProxyResultV2;
    try {
      result = await route.handler(event);
    } catch (error) {
      // As on AWS, an exception is a 500 with no detail; the handler's logs have the rest.
      console.error(`[local] ${routeKey} failed`, error);
      send(500, JSON.stringify({ message: 'Internal Server Error' }));
      return true;
    }
    if (typeof result === 'string') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(result);
      return true;
    }
    const responseBody = result.body ?? '';
    response
      .writeHead(result.statusCode ?? 200, result.headers as Record<string, string> | undefined)
      .end(result.isBase64Encoded ? Buffer.from(responseBody, 'base64') : responseBody);
    return true;
  };
}
