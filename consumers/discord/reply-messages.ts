import type { ReplyCompleted } from '../../schemas/index.ts';
import { DISCORD_MESSAGE_LIMIT, splitMessage } from './split-message.ts';

/** One Discord message to send: text, for very long replies the whole reply as a file, and images. */
export interface OutgoingMessage {
  content: string;
  file?: { name: string; text: string };
  /** Image files attached to the message (the reply's screenshots, on its last message). */
  images?: { name: string; data: Buffer; contentType: string }[];
}

/**
 * Most messages one reply becomes. Each is a request against Discord's webhook rate limit (a few per
 * second); past this the reply's first chunks are sent and the whole text follows as a file.
 */
export const MAX_MESSAGES_PER_REPLY = 5;

/** What the user reads for a completed reply: the text, and for a failed turn what went wrong. */
export function completedText(reply: Pick<ReplyCompleted, 'status' | 'text' | 'error'>): string {
  const text = reply.text.trim();
  if (reply.status === 'ok') return text || '(The agent finished without saying anything.)';
  const problem =
    reply.error?.message ??
    (reply.status === 'aborted' ? 'The agent stopped before finishing.' : 'Something went wrong.');
  return text ? `${text}\n\n⚠️ ${problem}` : `⚠️ ${problem}`;
}

/** The messages a completed reply is sent as, in order. The same text always gives the same plan. */
export function planMessages(text: string): OutgoingMessage[] {
  const chunks = splitMessage(text);
  if (chunks.length <= MAX_MESSAGES_PER_REPLY) return chunks.map((content) => ({ content }));
  return [
    ...chunks.slice(0, MAX_MESSAGES_PER_REPLY - 1).map((content) => ({ content })),
    {
      content: `The reply is ${text.length} characters long; all of it is in the attached file.`,
      file: { name: 'reply.md', text },
    },
  ];
}

/** A streaming preview fits one message: the start of the reply so far, marked as unfinished. */
export function previewText(text: string): string {
  const trimmed = text.trimEnd();
  if (trimmed.length <= DISCORD_MESSAGE_LIMIT) return trimmed;
  let end = DISCORD_MESSAGE_LIMIT - 2;
  // Never end on half an emoji (a lone high surrogate).
  const code = trimmed.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${trimmed.slice(0, end).trimEnd()} …`;
}
