import type { Conversation, ServerFrame } from '../schemas/index.ts';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** One bubble in the chat. Arrays of these are replaced, never mutated, so Lit sees every change. */
export interface ChatMessage {
  /** Stable render key: the clientMessageId for user messages, `reply:<inReplyTo>` for replies. */
  key: string;
  role: 'user' | 'assistant';
  text: string;
  /** User messages: the id we chose. */
  clientMessageId?: string;
  /** User messages: the id the server gave in its ack. */
  messageId?: string;
  /** Assistant messages: the user message this answers. */
  inReplyTo?: string;
  /** Assistant messages: highest `seq` applied so far. */
  seq: number;
  /** Assistant messages: set by `completed`; later deltas are ignored. */
  done: boolean;
  /** Assistant messages: the `completed` status. */
  status?: 'ok' | 'error' | 'aborted';
  /** What went wrong, in words for the user. */
  error?: string;
  /** Assistant messages: the reply's images (`image` frames), in arrival order. */
  images?: ChatImage[];
}

/** An image of a reply: a URL the server made (checked again here: http(s) only) and its alt text. */
export interface ChatImage {
  url: string;
  alt: string;
  width?: number;
  height?: number;
}

/** Most images one reply shows; the server sends no more (schemas/reply-media.ts MAX_REPLY_IMAGES). */
const MAX_IMAGES_PER_REPLY = 4;

/** Appends the user's own message. */
export function addUserMessage(log: ChatMessage[], clientMessageId: string, text: string): ChatMessage[] {
  return [...log, { key: clientMessageId, role: 'user', text, clientMessageId, seq: 0, done: true }];
}

/** Records the server's messageId on the user message the ack is for. */
export function applyAck(log: ChatMessage[], frame: Frame<'ack'>): ChatMessage[] {
  return log.map((m) =>
    m.role === 'user' && m.clientMessageId === frame.clientMessageId
      ? { ...m, messageId: frame.messageId, error: undefined }
      : m,
  );
}

/** Marks the user message an error frame names as failed. Unnamed errors leave the log as it is. */
export function applyError(log: ChatMessage[], frame: Frame<'error'>): ChatMessage[] {
  if (!frame.clientMessageId) return log;
  return log.map((m) =>
    m.role === 'user' && m.clientMessageId === frame.clientMessageId ? { ...m, error: frame.message } : m,
  );
}

/**
 * Applies a streamed piece. Delta text is cumulative and the bus does not keep order, so only a
 * higher `seq` than the one shown replaces the text, and nothing changes once the reply is completed.
 */
export function applyDelta(log: ChatMessage[], frame: Frame<'delta'>): ChatMessage[] {
  const reply = findReply(log, frame.inReplyTo);
  if (!reply) return insertReply(log, { ...newReply(frame.inReplyTo), seq: frame.seq, text: frame.text });
  if (reply.done || frame.seq <= reply.seq) return log;
  return log.map((m) => (m === reply ? { ...m, seq: frame.seq, text: frame.text } : m));
}

/** Applies the final frame of a reply: its text, status and error replace whatever streamed before. */
export function applyCompleted(log: ChatMessage[], frame: Frame<'completed'>): ChatMessage[] {
  const final: Partial<ChatMessage> = {
    text: frame.text,
    seq: frame.seq,
    done: true,
    status: frame.status,
    error:
      frame.status === 'error'
        ? (frame.error?.message ?? 'The agent could not finish this reply.')
        : undefined,
  };
  const reply = findReply(log, frame.inReplyTo);
  if (!reply) return insertReply(log, { ...newReply(frame.inReplyTo), ...final });
  if (reply.done) return log;
  return log.map((m) => (m === reply ? { ...m, ...final } : m));
}

/**
 * Adds an image to its reply. Only an http(s) URL is kept: the `<img>` must never load a `javascript:`,
 * `data:` or other scheme, whatever reached the socket. The same URL twice (a redelivery) is shown once.
 */
export function applyImage(log: ChatMessage[], frame: Frame<'image'>): ChatMessage[] {
  if (!isWebUrl(frame.url)) return log;
  const image: ChatImage = {
    url: frame.url,
    alt: frame.alt,
    ...(frame.width ? { width: frame.width } : {}),
    ...(frame.height ? { height: frame.height } : {}),
  };
  const reply = findReply(log, frame.inReplyTo);
  if (!reply) return insertReply(log, { ...newReply(frame.inReplyTo), images: [image] });
  const images = reply.images ?? [];
  if (images.length >= MAX_IMAGES_PER_REPLY || images.some((i) => i.url === image.url)) return log;
  return log.map((m) => (m === reply ? { ...m, images: [...images, image] } : m));
}

function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function findReply(log: ChatMessage[], inReplyTo: string): ChatMessage | undefined {
  return log.find((m) => m.role === 'assistant' && m.inReplyTo === inReplyTo);
}

function newReply(inReplyTo: string): ChatMessage {
  return { key: `reply:${inReplyTo}`, role: 'assistant', text: '', inReplyTo, seq: -1, done: false };
}

/** Puts a reply right under the message it answers, so concurrent turns do not interleave. */
function insertReply(log: ChatMessage[], reply: ChatMessage): ChatMessage[] {
  const at = log.findIndex((m) => m.role === 'user' && m.messageId === reply.inReplyTo);
  if (at < 0) return [...log, reply];
  return [...log.slice(0, at + 1), reply, ...log.slice(at + 1)];
}

/**
 * The messages of a stored conversation as a log: read-only bubbles the chat then continues. A reply sits
 * under the message it answers because both carry the user message's id.
 */
export function logFromHistory(conversation: Pick<Conversation, 'messages'>): ChatMessage[] {
  return conversation.messages.map(
    (m): ChatMessage =>
      m.role === 'user'
        ? {
            key: `history:${m.messageId}`,
            role: 'user',
            text: m.text,
            messageId: m.messageId,
            seq: 0,
            done: true,
          }
        : {
            key: `reply:${m.messageId}`,
            role: 'assistant',
            text: m.text,
            inReplyTo: m.messageId,
            seq: Number.MAX_SAFE_INTEGER,
            done: true,
            status: m.status ?? 'ok',
            error:
              m.status === 'error'
                ? (m.error?.message ?? 'The agent could not finish this reply.')
                : undefined,
          },
  );
}

/**
 * The user message whose reply is still running (acked, and its reply not completed), newest first; what
 * the Stop button stops. Messages whose send failed do not count.
 */
export function replyInProgress(log: ChatMessage[]): ChatMessage | undefined {
  for (let i = log.length - 1; i >= 0; i -= 1) {
    const m = log[i]!;
    if (m.role !== 'user' || !m.messageId || m.error) continue;
    const reply = findReply(log, m.messageId);
    if (!reply?.done) return m;
  }
  return undefined;
}

/** Clears the error of a user message about to be sent again (same clientMessageId). */
export function clearSendError(log: ChatMessage[], clientMessageId: string): ChatMessage[] {
  return log.map((m) => (m.clientMessageId === clientMessageId ? { ...m, error: undefined } : m));
}

/**
 * The server's id of the latest user message sent from this page and acked before the one with
 * `clientMessageId` (before the end of the log when it is not there): sent with a message as
 * `afterMessageId`, so the agent answers the two in the order they were sent even when the bus delivers
 * them the other way round.
 */
export function lastAckedMessageId(log: ChatMessage[], clientMessageId?: string): string | undefined {
  const at = clientMessageId === undefined ? -1 : log.findIndex((m) => m.clientMessageId === clientMessageId);
  for (let i = (at === -1 ? log.length : at) - 1; i >= 0; i -= 1) {
    const m = log[i]!;
    // Only messages sent from this page: a stored one was answered long ago, and its reply record may
    // have expired (2 days), which would make the agent wait for it in vain.
    if (m.role === 'user' && m.messageId && m.clientMessageId) return m.messageId;
  }
  return undefined;
}
