import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { ApiLogger } from './http.ts';

/** What a test sends to an API handler. */
export interface ApiTestRequest {
  /** The JWT subject; a `sub` key set to undefined means "no subject". @default 'user-1' */
  sub?: unknown;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** JSON-encoded unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** An HTTP API (v2) event as API Gateway builds it behind the JWT authorizer. */
export function apiEvent(
  routeKey: string,
  request: ApiTestRequest = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const sub = 'sub' in request ? request.sub : 'user-1';
  const { body, rawBody, headers = {} } = request;
  return {
    routeKey,
    headers: { 'content-type': 'application/json', ...headers },
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.query ? { queryStringParameters: request.query } : {}),
    ...(rawBody !== undefined ? { body: rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    isBase64Encoded: false,
    requestContext: { authorizer: { jwt: { claims: sub === undefined ? {} : { sub } } } },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** A logger that records every line, so tests can assert what was (and was not) logged. */
export function recordingLogger() {
  const lines: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      void lines.push({ level, message, extra });
  const logger: ApiLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

/** A handler's answer as the tests read it. */
export interface ApiAnswer {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

/** The answer's JSON body. */
export const bodyOf = (answer: unknown) => JSON.parse((answer as ApiAnswer).body ?? 'null');
