import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { IdSchema } from '../../schemas/index.ts';

/*
 * What the management API handlers share: JSON responses, the `{code, message}` refusal, the signed-in
 * user from the verified JWT, and a size-capped JSON body reader.
 */

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ApiResponse = APIGatewayProxyResultV2;

/** The logging the API handlers need; Powertools' Logger fits. */
export interface ApiLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A JSON response nobody caches (it is one user's data). */
export const json = (statusCode: number, body: unknown): ApiResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export const noContent = (): ApiResponse => ({ statusCode: 204, headers: { 'cache-control': 'no-store' } });

/** A request we refuse: carries its status and the `{code, message}` body (`ApiErrorSchema`). */
export class ApiRequestError extends Error {
  readonly statusCode: number;
  readonly code: string;

  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'ApiRequestError';
    this.statusCode = statusCode;
    this.code = code;
  }

  toResponse(): ApiResponse {
    return json(this.statusCode, { code: this.code, message: this.message });
  }
}

/** The user id, only ever from the verified JWT's `sub`; undefined when there is no usable one. */
export function userIdOf(event: ApiEvent): string | undefined {
  const sub = event.requestContext?.authorizer?.jwt?.claims?.sub;
  return typeof sub === 'string' && IdSchema.safeParse(sub).success ? sub : undefined;
}

/** A path parameter that must be an id (letters, digits, `_ . : -`). */
export function idParam(event: ApiEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || !IdSchema.safeParse(value).success) {
    throw new ApiRequestError(400, 'INVALID_PATH', `The ${name} in the path is not a valid id.`);
  }
  return value;
}

/** Reads a JSON object body of at most `maxBytes`, without throwing anything but {@link ApiRequestError}. */
export function readJsonBody(event: ApiEvent, maxBytes: number): unknown {
  const type = event.headers?.['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiRequestError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  const raw = event.body ?? '';
  // Checked before decoding too, so a huge body is never copied.
  if (raw.length > (event.isBase64Encoded ? Math.ceil(maxBytes / 3) * 4 : maxBytes)) {
    throw new ApiRequestError(413, 'BODY_TOO_LARGE', `The body may be at most ${maxBytes} bytes.`);
  }
  const bytes = Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > maxBytes) {
    throw new ApiRequestError(413, 'BODY_TOO_LARGE', `The body may be at most ${maxBytes} bytes.`);
  }
  if (bytes.length === 0) throw new ApiRequestError(400, 'INVALID_JSON', 'Send a JSON object as the body.');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ApiRequestError(400, 'INVALID_JSON', 'The body is not valid JSON.');
  }
}

/** Runs one request: 401 without a user, `ApiRequestError` as its 4xx, anything else a logged 500. */
export async function handleApiRequest(
  event: ApiEvent,
  logger: ApiLogger,
  route: (userId: string) => Promise<ApiResponse>,
): Promise<ApiResponse> {
  const userId = userIdOf(event);
  if (!userId) {
    logger.warn('request without a usable subject', { routeKey: event.routeKey });
    return json(401, { code: 'UNAUTHORIZED', message: 'Sign in again.' });
  }
  try {
    return await route(userId);
  } catch (error) {
    if (error instanceof ApiRequestError) {
      logger.warn('request refused', {
        userId,
        routeKey: event.routeKey,
        status: error.statusCode,
        code: error.code,
      });
      return error.toResponse();
    }
    logger.error('request failed', { userId, routeKey: event.routeKey, error: error as Error });
    return json(500, { code: 'INTERNAL', message: 'Something went wrong on our side; try again.' });
  }
}
