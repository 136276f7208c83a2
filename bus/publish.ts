import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type BusEvent, EventCatalog } from '../schemas/index.ts';
import { type FailedEntry, InvalidEventError, PublishError, toError } from './errors.ts';
import { traced } from './observability.ts';

/** EventBridge PutEvents limits: 10 entries and 256 KB (262,144 bytes) per call. */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_BYTES_PER_CALL = 256 * 1024;

export interface PublisherOptions {
  /** @default a client for the region and endpoint in the environment (`AWS_ENDPOINT_URL_EVENTBRIDGE` in local mode) */
  client?: EventBridgeClient;
  /** @default process.env.EVENT_BUS_NAME */
  eventBusName?: string;
  /** Attempts per entry, including the first. @default 4 */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with full jitter. @default 50 */
  baseDelayMs?: number;
}

export interface Publisher {
  /**
   * Validates each event against its schema and puts them on the bus, batching ≤ 10 entries and
   * ≤ 256 KB a call and retrying entries EventBridge rejects. Throws `PublishError` listing what
   * still failed; `InvalidEventError` (before anything is sent) for an event that can never pass.
   * @example await publisher.publish({ source: EventSources.web, detailType: 'MessageReceived.v1', detail })
   */
  publish(events: BusEvent | readonly BusEvent[]): Promise<void>;
}

/** EventBridge's own size formula for an entry: UTF-8 bytes of Source, DetailType, Detail, Resources (+14 for Time). */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = 0;
  for (const part of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (part) size += Buffer.byteLength(part, 'utf8');
  }
  if (entry.Time) size += 14;
  return size;
}

/** Splits entries into PutEvents calls that respect both limits, keeping their order. */
export function batchEntries(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (
      current.length === MAX_ENTRIES_PER_CALL ||
      (current.length > 0 && currentBytes + size > MAX_BYTES_PER_CALL)
    ) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function toEntry(event: BusEvent, eventBusName: string): PutEventsRequestEntry {
  const schema = EventCatalog[event.detailType];
  if (!schema) throw new InvalidEventError(`Unknown detail-type "${event.detailType}"`);
  const parsed = schema.safeParse(event.detail);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidEventError(
      `${event.detailType} is invalid at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'bad detail'}`,
      { cause: parsed.error },
    );
  }
  const entry: PutEventsRequestEntry = {
    EventBusName: eventBusName,
    Source: event.source,
    DetailType: event.detailType,
    Detail: JSON.stringify(parsed.data),
  };
  if (entrySize(entry) > MAX_BYTES_PER_CALL) {
    throw new InvalidEventError(
      `${event.detailType} is ${entrySize(entry)} bytes; EventBridge accepts 256 KB`,
    );
  }
  return entry;
}

/** PutEvents entry error codes that no retry can fix. Anything else (InternalFailure, throttling) is retried. */
const PERMANENT_ENTRY_ERRORS = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a publisher bound to one bus. Handlers create one at module scope and reuse it. */
export function createPublisher(options: PublisherOptions = {}): Publisher {
  const eventBusName = options.eventBusName ?? process.env.EVENT_BUS_NAME;
  if (!eventBusName) {
    throw new Error('No event bus: set EVENT_BUS_NAME or pass { eventBusName } to createPublisher()');
  }
  // A hung PutEvents must not eat a Lambda's remaining time: fail fast and let the retry loop decide.
  const client =
    options.client ??
    traced(new EventBridgeClient({ requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } }));
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 50;

  async function sendBatch(batch: PutEventsRequestEntry[]): Promise<FailedEntry[]> {
    let pending = batch;
    let lastFailures: FailedEntry[] = [];
    for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 2));
      let results: { ErrorCode?: string; ErrorMessage?: string }[];
      try {
        const response = await client.send(new PutEventsCommand({ Entries: pending }));
        results = response.Entries ?? [];
        if ((response.FailedEntryCount ?? 0) > 0 && results.length < pending.length) {
          // Failures reported without per-entry results: we cannot tell which, so all are retried.
          results = pending.map(() => ({
            ErrorCode: 'InternalFailure',
            ErrorMessage: 'unattributed failure',
          }));
        }
      } catch (error) {
        // The whole call failed (network, throttling the SDK gave up on): every entry is retried.
        const cause = toError(error);
        results = pending.map(() => ({ ErrorCode: cause.name, ErrorMessage: cause.message }));
      }
      // The response lists one result per entry, in order; an ErrorCode marks a rejected entry.
      const retry: PutEventsRequestEntry[] = [];
      lastFailures = [];
      pending.forEach((entry, index) => {
        const result = results[index];
        if (result?.ErrorCode) {
          retry.push(entry);
          lastFailures.push({
            detailType: entry.DetailType ?? '',
            errorCode: result.ErrorCode,
            errorMessage: result.ErrorMessage ?? '',
          });
        }
      });
      pending = retry;
      // Entries EventBridge refuses for what they are (bad detail, no permission) fail the same way again.
      if (lastFailures.every((failure) => PERMANENT_ENTRY_ERRORS.has(failure.errorCode))) break;
    }
    return pending.length > 0 ? lastFailures : [];
  }

  return {
    async publish(events) {
      const list = Array.isArray(events) ? events : [events as BusEvent];
      const entries = list.map((event) => toEntry(event, eventBusName));
      const failed: FailedEntry[] = [];
      for (const batch of batchEntries(entries)) failed.push(...(await sendBatch(batch)));
      if (failed.length > 0) {
        throw new PublishError(
          `${failed.length} of ${entries.length} events were not published after ${maxAttempts} attempts`,
          failed,
        );
      }
    },
  };
}
