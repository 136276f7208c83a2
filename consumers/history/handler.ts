import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { observe } from '../../bus/observability.ts';
import { type BusEnvelope, parseDetail } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';
import type { HistoryStore } from './store.ts';
import { createHistoryStore } from './store.ts';

/** The logging the consumer needs; Powertools' Logger fits. */
export interface HistoryLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

/**
 * The history consumer (routing-table target `history`): keeps every `MessageReceived.v1` and
 * `ReplyCompleted.v1` in the user's conversation history. Events are validated again here (a rule is no
 * type check); a malformed one is logged and dropped rather than retried, since a retry cannot fix it.
 * Storage failures throw, so the bus retries, and the writes are idempotent.
 */
export function createHistoryConsumer(deps: { history: HistoryStore; logger: HistoryLogger }) {
  const { history, logger } = deps;
  return async function recordHistory(envelope: BusEnvelope): Promise<void> {
    const detailType = envelope['detail-type'];
    if (detailType === 'MessageReceived.v1') {
      const parsed = safeParse(() => parseDetail('MessageReceived.v1', envelope.detail));
      if (!parsed) return logger.warn('malformed message dropped', { eventId: envelope.id });
      const outcome = await history.recordMessage(parsed);
      if (outcome === 'deleted') logger.info('message of a deleted conversation dropped', ids(parsed));
      return;
    }
    if (detailType === 'ReplyCompleted.v1') {
      const parsed = safeParse(() => parseDetail('ReplyCompleted.v1', envelope.detail));
      if (!parsed) return logger.warn('malformed reply dropped', { eventId: envelope.id });
      const at = isoOr(envelope.time, new Date().toISOString());
      const outcome = await history.recordReply(parsed, at);
      if (outcome === 'deleted') logger.info('reply of a deleted conversation dropped', ids(parsed));
      return;
    }
    logger.warn('unexpected event ignored', { detailType, eventId: envelope.id });
  };
}

const ids = (detail: { userId: string; conversationId: string }) => ({
  userId: detail.userId,
  conversationId: detail.conversationId,
});

function safeParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** The envelope's time in ISO form (EventBridge sends `2026-01-01T10:00:00Z`); `fallback` when unusable. */
function isoOr(value: string | undefined, fallback: string): string {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
}

let defaultHandler: ReturnType<typeof createHistoryConsumer> | undefined;

/** Lambda entry (TABLE_NAME from the environment). */
const entry = middy<BusEnvelope, void>().handler((event) => {
  defaultHandler ??= createHistoryConsumer({
    history: createHistoryStore(createStorage()),
    logger: new Logger({ serviceName: 'history' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
