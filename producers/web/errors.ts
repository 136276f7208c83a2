import type { z } from 'zod';
import type { ErrorFrameSchema } from '../../schemas/index.ts';

type ErrorFrame = z.infer<typeof ErrorFrameSchema>;

/**
 * A request the client got wrong (or we cannot take right now). It becomes an `error` frame with a
 * 4xx-style status; the message is written for the person at the keyboard and never echoes input.
 */
export class WebRequestError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly clientMessageId: string | undefined;
  constructor(statusCode: number, code: string, message: string, clientMessageId?: string) {
    super(message);
    this.name = 'WebRequestError';
    this.statusCode = statusCode;
    this.code = code;
    this.clientMessageId = clientMessageId;
  }

  toFrame(): ErrorFrame {
    return {
      type: 'error',
      code: this.code,
      message: this.message,
      ...(this.clientMessageId ? { clientMessageId: this.clientMessageId } : {}),
    };
  }
}
