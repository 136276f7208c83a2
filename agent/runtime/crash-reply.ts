import type { Publisher } from '../../bus/index.ts';
import { EventSources, type MessageReceived, type ReplyCompleted } from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import { republishStoredReply, storeReply } from '../turn-records.ts';

/** What the user reads when runtimes died mid-turn on their message every time it was tried. */
const CRASHED_EVERY_ATTEMPT = {
  code: 'AGENT_CRASHED',
  message:
    'The agent crashed twice on this message and gave up on it. Please try again, perhaps with a smaller request.',
};

/**
 * Answers a queued message that crashed the agent on every attempt with an explicit error instead of a
 * third try. Stored like any reply, so a later pass over the same message republishes it rather than
 * producing a second error.
 */
export function createCrashReply(deps: { storage: Storage; publisher: Publisher }) {
  return async function answerWithError(message: MessageReceived): Promise<void> {
    // An attempt that did finish after all (counted twice by a race) keeps its real answer.
    if (await republishStoredReply(deps.storage, deps.publisher, message.messageId)) return;
    const detail: ReplyCompleted = {
      userId: message.userId,
      conversationId: message.conversationId,
      replyTo: message.replyTo,
      inReplyTo: message.messageId,
      seq: 0,
      status: 'error',
      text: '',
      error: CRASHED_EVERY_ATTEMPT,
    };
    await storeReply(deps.storage, detail);
    await deps.publisher.publish({ source: EventSources.agent, detailType: 'ReplyCompleted.v1', detail });
  };
}

/**
 * A turn's attempt `attempts` (this one included): runs it, or, past `maxAttempts` (earlier attempts
 * died mid-turn), logs why and answers with the crash error instead.
 */
export async function runUnlessCrashedTooOften(
  attempt: { message: MessageReceived; attempts: number; maxAttempts: number },
  deps: {
    answerWithError: (message: MessageReceived) => Promise<void>;
    logger: { error(message: string, ...extra: Record<string, unknown>[]): void };
  },
  run: () => Promise<unknown>,
): Promise<void> {
  const { message, attempts, maxAttempts } = attempt;
  if (attempts <= maxAttempts) {
    await run();
    return;
  }
  deps.logger.error('message failed every attempt; answering with an error', {
    userId: message.userId,
    messageId: message.messageId,
    attempts,
  });
  await deps.answerWithError(message);
}
