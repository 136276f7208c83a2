import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReceived, ReplyCompleted } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createHistoryStore, TITLE_CHARS, titleOf } from './store.ts';

let users = 0;
const nextUser = () => `history-user-${++users}`;

function message(
  userId: string,
  conversationId: string,
  messageId: string,
  at: string,
  text = `hi ${messageId}`,
) {
  return {
    userId,
    conversationId,
    messageId,
    text,
    receivedAt: at,
    replyTo: { channel: 'web', address: { connectionId: 'c1' } },
  } satisfies MessageReceived;
}

function reply(userId: string, conversationId: string, inReplyTo: string, text = `re ${inReplyTo}`) {
  return {
    userId,
    conversationId,
    inReplyTo,
    seq: 3,
    status: 'ok',
    text,
    replyTo: { channel: 'web', address: { connectionId: 'c1' } },
  } satisfies ReplyCompleted;
}

describe('the conversation history store', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  const clock = { now: Date.parse('2026-07-01T12:00:00Z') };
  let history: ReturnType<typeof createHistoryStore>;
  beforeAll(async () => {
    aws = await startLocalAws();
    history = createHistoryStore(aws.storage, () => clock.now);
  });
  afterAll(() => aws.close());

  it('keeps a message and its reply as one turn, whichever arrives first, and counts redeliveries once', async () => {
    // Prepare
    const userId = nextUser();
    // Act: reply first, then the message, then both again (at-least-once delivery)
    await history.recordReply(reply(userId, 'conv-a', 'm1'), '2026-07-01T10:00:05.000Z');
    await history.recordMessage(message(userId, 'conv-a', 'm1', '2026-07-01T10:00:00.000Z', 'Plan my\ntrip'));
    await history.recordMessage(message(userId, 'conv-a', 'm1', '2026-07-01T10:00:00.000Z', 'Plan my\ntrip'));
    await history.recordReply(reply(userId, 'conv-a', 'm1'), '2026-07-01T10:00:05.000Z');
    // Assess
    const conversation = await history.get(userId, 'conv-a');
    expect(conversation).toMatchObject({
      conversationId: 'conv-a',
      title: 'Plan my trip',
      channel: 'web',
      createdAt: '2026-07-01T10:00:00.000Z',
      updatedAt: '2026-07-01T10:00:05.000Z',
      messageCount: 2,
    });
    expect(conversation?.messages).toEqual([
      { role: 'user', messageId: 'm1', text: 'Plan my\ntrip', at: '2026-07-01T10:00:00.000Z' },
      { role: 'assistant', messageId: 'm1', text: 're m1', at: '2026-07-01T10:00:05.000Z', status: 'ok' },
    ]);
  });

  it('takes the title from the earliest message and updatedAt from the latest, in any arrival order', async () => {
    const userId = nextUser();
    await history.recordMessage(message(userId, 'conv-b', 'm2', '2026-07-01T11:00:00.000Z', 'second'));
    await history.recordMessage(message(userId, 'conv-b', 'm1', '2026-07-01T10:00:00.000Z', 'first'));
    await history.recordReply(reply(userId, 'conv-b', 'm1'), '2026-07-01T10:00:01.000Z');
    const conversation = await history.get(userId, 'conv-b');
    expect(conversation).toMatchObject({
      title: 'first',
      createdAt: '2026-07-01T10:00:00.000Z',
      updatedAt: '2026-07-01T11:00:00.000Z',
      messageCount: 3,
    });
    expect(conversation?.messages.map((m) => `${m.role}:${m.messageId}`)).toEqual([
      'user:m1',
      'assistant:m1',
      'user:m2',
    ]);
  });

  it('lists newest first in pages, and hides a conversation that has only replies so far', async () => {
    const userId = nextUser();
    for (let i = 1; i <= 5; i++) {
      await history.recordMessage(message(userId, `conv-${i}`, `m${i}`, `2026-07-01T10:0${i}:00.000Z`));
    }
    await history.recordReply(reply(userId, 'conv-orphan', 'mx'), '2026-07-01T11:00:00.000Z');
    const first = await history.list(userId, 2);
    expect(first.conversations.map((c) => c.conversationId)).toEqual(['conv-5', 'conv-4']);
    const second = await history.list(userId, 2, first.next);
    expect(second.conversations.map((c) => c.conversationId)).toEqual(['conv-3', 'conv-2']);
    const third = await history.list(userId, 2, second.next);
    expect(third.conversations.map((c) => c.conversationId)).toEqual(['conv-1']);
    expect(third.next).toBeUndefined();
    expect(await history.get(userId, 'conv-orphan')).toBeUndefined();
  });

  it("never shows one user another user's conversation", async () => {
    const owner = nextUser();
    const other = nextUser();
    await history.recordMessage(message(owner, 'conv-private', 'm1', '2026-07-01T10:00:00.000Z'));
    expect(await history.get(other, 'conv-private')).toBeUndefined();
    expect((await history.list(other, 10)).conversations).toEqual([]);
    expect(await history.delete(other, 'conv-private')).toBe(false);
    expect(await history.get(owner, 'conv-private')).toBeDefined();
  });

  it('deletes a conversation with its turns, and late events from before the delete do not bring it back', async () => {
    const userId = nextUser();
    await history.recordMessage(message(userId, 'conv-del', 'm1', '2026-07-01T10:00:00.000Z'));
    await history.recordReply(reply(userId, 'conv-del', 'm1'), '2026-07-01T10:00:02.000Z');
    clock.now = Date.parse('2026-07-01T12:00:00Z');
    expect(await history.delete(userId, 'conv-del')).toBe(true);
    // Late: a redelivered message and a reply from before the delete
    expect(await history.recordMessage(message(userId, 'conv-del', 'm1', '2026-07-01T10:00:00.000Z'))).toBe(
      'deleted',
    );
    expect(await history.recordReply(reply(userId, 'conv-del', 'm1'), '2026-07-01T10:00:02.000Z')).toBe(
      'deleted',
    );
    expect(await history.get(userId, 'conv-del')).toBeUndefined();
    expect((await history.list(userId, 10)).conversations).toEqual([]);
    // A reply completing after the delete leaves at most a hidden half record; listing still works
    await history.recordReply(reply(userId, 'conv-del', 'm2'), '2026-07-01T12:00:05.000Z');
    expect((await history.list(userId, 10)).conversations).toEqual([]);
    // The same conversation id used again later (a chat's conversation) is history again
    await history.recordMessage(message(userId, 'conv-del', 'm3', '2026-07-01T12:01:00.000Z', 'again'));
    expect((await history.get(userId, 'conv-del'))?.title).toBe('again');
  });

  it('shortens a title to one line of at most 80 characters', () => {
    expect(titleOf('  a\n\tb  ')).toBe('a b');
    const long = titleOf('x'.repeat(200));
    expect(long).toHaveLength(TITLE_CHARS);
    expect(long.endsWith('…')).toBe(true);
  });
});
