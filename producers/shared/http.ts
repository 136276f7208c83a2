import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * Small helpers for webhook handlers behind the HTTP API (API Gateway payload format 2.0), which local
 * mode builds too. Signatures must be checked over the body exactly as the platform sent it.
 */

/** Largest webhook body we read; platform payloads are a few KB. API Gateway itself allows 10 MB. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/** The body as the platform sent it, undoing API Gateway's base64 for binary content types. */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** A request header, whatever case the client or the gateway used for its name. */
export function header(event: Pick<APIGatewayProxyEventV2, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function textResponse(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}
