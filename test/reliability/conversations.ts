import type { ServerFrame } from '../../schemas/index.ts';
import { signIn, withToken } from '../fixtures/local-auth.ts';
import { connectTestSocket, type TestSocket } from '../fixtures/ws-client.ts';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** One conversation on its own socket: what was sent, in order, and what came back. */
export interface Conversation {
  conversationId: string;
  socket: TestSocket;
  /** Message ids from the acks, in send order, with the text sent. */
  sent: { messageId: string; text: string }[];
  /** Send failures the user was told about (an error frame instead of an ack). */
  refused: Frame<'error'>[];
}

export async function openConversation(
  wsUrl: string,
  stackUrl: string,
  username: string,
  password: string,
  conversationId: string,
): Promise<Conversation> {
  const { idToken } = await signIn(stackUrl, username, password);
  return {
    conversationId,
    socket: await connectTestSocket(withToken(wsUrl, idToken)),
    sent: [],
    refused: [],
  };
}

let nextClientId = 0;
/**
 * Sends one message and waits for its ack (or the error frame that refuses it), not for the reply. Like the
 * web chat, it names the conversation's latest acked message as the one it comes after.
 */
export async function send(conversation: Conversation, text: string): Promise<void> {
  const clientMessageId = `rel-${process.pid}-${++nextClientId}`;
  const afterMessageId = conversation.sent.at(-1)?.messageId;
  conversation.socket.send({
    action: 'sendMessage',
    conversationId: conversation.conversationId,
    clientMessageId,
    text,
    ...(afterMessageId ? { afterMessageId } : {}),
  });
  const answer = await conversation.socket.waitFor(
    (frame) => (frame.type === 'ack' || frame.type === 'error') && frame.clientMessageId === clientMessageId,
    60_000,
  );
  if (answer.type === 'ack') conversation.sent.push({ messageId: answer.messageId, text });
  else conversation.refused.push(answer as Frame<'error'>);
}

/** The `completed` frames of a conversation, in arrival order. */
export const completedOf = (conversation: Conversation) =>
  conversation.socket.frames.filter(
    (frame): frame is Frame<'completed'> =>
      frame.type === 'completed' && frame.conversationId === conversation.conversationId,
  );

/** Waits until every acked message has a `completed` frame, or the deadline passes. */
export async function awaitAnswers(conversations: Conversation[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const conversation of conversations) {
    for (const { messageId } of conversation.sent) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await conversation.socket
        .waitFor((frame) => frame.type === 'completed' && frame.inReplyTo === messageId, left)
        .catch(() => undefined);
    }
  }
}

/** Lost (no answer), duplicated (answered more than once) and out-of-order answers of each conversation. */
export function judge(conversations: Conversation[]) {
  let lost = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let errors = 0;
  for (const conversation of conversations) {
    const completed = completedOf(conversation);
    const order = completed.map((frame) => frame.inReplyTo);
    for (const { messageId } of conversation.sent) {
      const answers = order.filter((id) => id === messageId).length;
      if (answers === 0) lost++;
      if (answers > 1) duplicates += answers - 1;
    }
    errors += completed.filter((frame) => frame.status !== 'ok').length;
    const expected = conversation.sent.map((message) => message.messageId).filter((id) => order.includes(id));
    const firstSeen = order.filter((id, i) => order.indexOf(id) === i);
    if (JSON.stringify(firstSeen) !== JSON.stringify(expected)) outOfOrder++;
  }
  return { lost, duplicates, outOfOrder, errors };
}
