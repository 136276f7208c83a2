import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/** What the `$connect` authorizer returns for an accepted connection. */
export interface AuthorizerResult {
  userId: string;
}

export type WebSocketHandler = (event: APIGatewayProxyWebsocketEventV2) => Promise<APIGatewayProxyResultV2>;

export interface WebSocketGatewayOptions {
  handler: WebSocketHandler;
  /** Plays the `$connect` authorizer: undefined rejects the upgrade with 401. */
  authorize: (request: IncomingMessage, query: URLSearchParams) => Promise<AuthorizerResult | undefined>;
  /** Route keys besides `$connect`, `$disconnect` and `$default`, picked by `$request.body.action`. */
  routeKeys: readonly string[];
  /** @default 'local' */
  stage?: string;
  /**
   * Frames above this are refused by the socket itself (close 1009). Larger than API Gateway's 128 KB so
   * that the handler's own size check, the one that also runs on AWS, is what a client sees. @default 2 MiB
   */
  maxFrameBytes?: number;
}

const newConnectionId = () => `${randomBytes(9).toString('base64url')}=`;

/**
 * The local stand-in for an API Gateway WebSocket API: upgrades on `/ws`, runs the authorizer on
 * `$connect`, builds the same Lambda events per route (route selection on `action`), sends a handler's
 * response body back as the route response, and serves the `@connections` management API that
 * `ApiGatewayManagementApiClient` posts to.
 */
export function createWebSocketGateway(options: WebSocketGatewayOptions) {
  const stage = options.stage ?? 'local';
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 2 * 1024 * 1024 });
  const connections = new Map<
    string,
    { socket: WebSocket; connectedAt: number; chain: Promise<void>; identity: AuthorizerResult }
  >();
  /** `$disconnect` invocations still running: close() waits for them, so they never outlive the table. */
  const disconnecting = new Set<Promise<unknown>>();

  function baseContext(
    connectionId: string,
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    host: string,
  ) {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      connectionId,
      messageId: randomUUID(),
      extendedRequestId: randomUUID(),
      requestId: randomUUID(),
      requestTime: new Date(now).toUTCString(),
      requestTimeEpoch: now,
      messageDirection: 'IN' as const,
      stage,
      connectedAt: connections.get(connectionId)?.connectedAt ?? now,
      domainName: host,
      apiId: 'local',
      // API Gateway hands the $connect authorizer's context to every later route of the connection.
      ...(connections.has(connectionId) ? { authorizer: connections.get(connectionId)?.identity } : {}),
    };
  }

  function routeKeyFor(body: string): string {
    try {
      const action = (JSON.parse(body) as { action?: unknown }).action;
      if (typeof action === 'string' && options.routeKeys.includes(action)) return action;
    } catch {
      // Not JSON: API Gateway falls back to $default, and so do we.
    }
    return '$default';
  }

  async function invoke(event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> {
    try {
      return await options.handler(event);
    } catch (error) {
      console.error('[gateway] handler threw', error);
      return { statusCode: 500 };
    }
  }

  function onMessage(connectionId: string, host: string, data: RawData, isBinary: boolean) {
    const entry = connections.get(connectionId);
    if (!entry) return;
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const body = isBinary ? buffer.toString('base64') : buffer.toString('utf8');
    // One connection's frames are handled in order, as a client would expect from a single socket.
    entry.chain = entry.chain.then(async () => {
      const result = await invoke({
        requestContext: baseContext(connectionId, isBinary ? '$default' : routeKeyFor(body), 'MESSAGE', host),
        body,
        isBase64Encoded: isBinary,
      } as APIGatewayProxyWebsocketEventV2);
      const responseBody = typeof result === 'object' && result ? result.body : undefined;
      if (responseBody && entry.socket.readyState === WebSocket.OPEN) entry.socket.send(responseBody);
    });
  }

  return {
    /** Handles an HTTP upgrade on `/ws`: authorize, `$connect`, then accept or refuse. */
    async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const host = request.headers.host ?? 'localhost';
      const refuse = (status: number, text: string) => {
        socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      };
      const identity = await options.authorize(request, url.searchParams).catch(() => undefined);
      if (!identity) return refuse(401, 'Unauthorized');
      const connectionId = newConnectionId();
      const result = await invoke({
        requestContext: { ...baseContext(connectionId, '$connect', 'CONNECT', host), authorizer: identity },
        headers: request.headers,
        queryStringParameters: Object.fromEntries(url.searchParams),
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyWebsocketEventV2);
      const status = typeof result === 'object' && result ? (result.statusCode ?? 200) : 200;
      if (status !== 200) return refuse(status, 'Forbidden');
      wss.handleUpgrade(request, socket, head, (ws) => {
        connections.set(connectionId, {
          socket: ws,
          connectedAt: Date.now(),
          chain: Promise.resolve(),
          identity,
        });
        ws.on('message', (data, isBinary) => onMessage(connectionId, host, data, isBinary));
        ws.on('error', () => ws.terminate());
        ws.on('close', () => {
          const entry = connections.get(connectionId);
          connections.delete(connectionId);
          const disconnect: Promise<unknown> = (entry?.chain ?? Promise.resolve())
            .then(() =>
              invoke({
                requestContext: baseContext(connectionId, '$disconnect', 'DISCONNECT', host),
                isBase64Encoded: false,
              } as APIGatewayProxyWebsocketEventV2),
            )
            .then(() => {
              disconnecting.delete(disconnect);
            });
          disconnecting.add(disconnect);
        });
      });
    },

    /** Serves `POST|GET|DELETE /{stage}/@connections/{id}`; returns false for other paths. */
    async handleManagementRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const match = /^\/(?:[^/]+\/)?@connections\/([^/?]+)/.exec(req.url ?? '');
      if (!match?.[1]) return false;
      const connectionId = decodeURIComponent(match[1]);
      const entry = connections.get(connectionId);
      if (!entry || entry.socket.readyState !== WebSocket.OPEN) {
        res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
        res.end(JSON.stringify({ message: 'Gone' }));
        return true;
      }
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        entry.socket.send(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end();
      } else if (req.method === 'DELETE') {
        entry.socket.close(1000, 'closed by server');
        res.writeHead(204).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ connectedAt: new Date(entry.connectedAt).toISOString() }));
      }
      return true;
    },

    /** Open connections, for tests and the shutdown path. */
    get connectionCount(): number {
      return connections.size;
    },

    /** Closes every socket (as a restart would) and stops accepting new ones. */
    async close(): Promise<void> {
      for (const { socket } of connections.values()) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      while (disconnecting.size > 0) await Promise.allSettled([...disconnecting]);
    },
  };
}
