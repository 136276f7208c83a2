/** Errors of the bus: what a caller needs to act on a failed publish or a bad routing table. */

export interface FailedEntry {
  detailType: string;
  errorCode: string;
  errorMessage: string;
}

/** Some entries were still rejected after every retry. `failed` lists them; the rest were published. */
export class PublishError extends Error {
  readonly failed: FailedEntry[];
  constructor(message: string, failed: FailedEntry[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
    this.failed = failed;
  }
}

/** One event is larger than EventBridge accepts (256 KB) or fails its schema. Retrying cannot help. */
export class InvalidEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEventError';
  }
}

/** Turns any thrown value into an Error, so logging and `cause` chains always have a message. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
