import {
  CLIENT_ACTIONS,
  type ClientFrame,
  ClientFrameSchema,
  MAX_WEB_SOCKET_FRAME_BYTES,
} from '../../schemas/index.ts';
import { WebRequestError } from './errors.ts';

/**
 * Turns a raw WebSocket frame into a typed client frame, or throws a WebRequestError that says what
 * is wrong: too large, not JSON, unknown action, or which field failed. Never throws anything else.
 */
export function parseClientFrame(body: string | undefined, isBase64Encoded = false): ClientFrame {
  const raw = isBase64Encoded && body ? Buffer.from(body, 'base64').toString('utf8') : (body ?? '');
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > MAX_WEB_SOCKET_FRAME_BYTES) {
    throw new WebRequestError(
      413,
      'MESSAGE_TOO_LARGE',
      `The message is ${Math.ceil(bytes / 1024)} KB; the limit is ${MAX_WEB_SOCKET_FRAME_BYTES / 1024} KB.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new WebRequestError(400, 'INVALID_JSON', 'The message is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebRequestError(400, 'INVALID_MESSAGE', 'The message must be a JSON object with an "action".');
  }
  const record = json as Record<string, unknown>;
  const clientMessageId =
    typeof record.clientMessageId === 'string' ? record.clientMessageId.slice(0, 64) : undefined;
  if (typeof record.action !== 'string' || !(CLIENT_ACTIONS as readonly string[]).includes(record.action)) {
    throw new WebRequestError(
      400,
      'UNKNOWN_ACTION',
      `Unknown action; expected one of: ${CLIENT_ACTIONS.join(', ')}.`,
      clientMessageId,
    );
  }
  const parsed = ClientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'message';
    throw new WebRequestError(
      400,
      'INVALID_MESSAGE',
      `Invalid "${field}": ${issue?.message}.`,
      clientMessageId,
    );
  }
  return parsed.data;
}
