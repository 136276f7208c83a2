import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationListSchema, ConversationSchema } from '../../schemas/api.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createHistoryConsumer } from '../history/handler.ts';
import { createHistoryStore } from '../history/store.ts';
import { createConversationsHandler, encodeCursor } from './conversations.ts';
import { apiEvent, bodyOf, recordingLogger } from './test-fixtures.ts';

const envelope = (detailType: BusEnvelope['detail-type'], detail: unknown, time: string) =>
  ({
    version: '0',
    id: `e-${Math.random()}`,
    'detail-type': detailType,
    source: 'test',
    account: '1',
    time,
    region: 'x',
    resources: [],
    detail,
  }) as BusEnvelope;

describe('the conversations API (/v1/conversations) fed by the history consumer', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let api: ReturnType<typeof createConversationsHandler>;
  const log = recordingLogger();
  beforeAll(async () => {
    aws = await startLocalAws();
    const history = createHistoryStore(aws.storage);
    api = createConversationsHandler({ history, logger: log.logger });
    const consume = createHistoryConsumer({ history, logger: log.logger });
    const replyTo = { channel: 'web', address: { connectionId: 'c1' } };
    for (let i = 1; i <= 3; i++) {
      const base = { userId: 'user-1', conversationId: `conv-${i}`, replyTo };
      await consume(
        envelope(
          'MessageReceived.v1',
          { ...base, messageId: `m${i}`, text: `question ${i}`, receivedAt: `2026-07-01T10:0${i}:00.000Z` },
          `2026-07-01T10:0${i}:00Z`,
        ),
      );
      await consume(
        envelope(
          'ReplyCompleted.v1',
          { ...base, inReplyTo: `m${i}`, seq: 1, status: 'ok', text: `answer ${i}` },
          `2026-07-01T10:0${i}:09Z`,
        ),
      );
    }
    // A malformed event is dropped with a warning, not retried forever
    await consume(envelope('MessageReceived.v1', { userId: 'user-1' }, '2026-07-01T10:00:00Z'));
  });
  afterAll(() => aws.close());

  it('lists newest first with an opaque cursor, in pages no larger than asked', async () => {
    const first = await api(apiEvent('GET /v1/conversations', { query: { limit: '2' } }));
    expect(first).toMatchObject({ statusCode: 200 });
    const page = ConversationListSchema.parse(bodyOf(first));
    expect(page.conversations.map((c) => c.conversationId)).toEqual(['conv-3', 'conv-2']);
    expect(page.conversations[0]).toMatchObject({ title: 'question 3', messageCount: 2, channel: 'web' });
    const second = ConversationListSchema.parse(
      bodyOf(
        await api(apiEvent('GET /v1/conversations', { query: { limit: '2', cursor: page.nextCursor! } })),
      ),
    );
    expect(second.conversations.map((c) => c.conversationId)).toEqual(['conv-1']);
    expect(second.nextCursor).toBeUndefined();
    expect(log.lines.some((l) => l.message === 'malformed message dropped')).toBe(true);
  });

  it('opens one conversation with its messages', async () => {
    const answer = await api(
      apiEvent('GET /v1/conversations/{conversationId}', { pathParameters: { conversationId: 'conv-2' } }),
    );
    const conversation = ConversationSchema.parse(bodyOf(answer));
    expect(conversation.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'question 2'],
      ['assistant', 'answer 2'],
    ]);
  });

  it.each([
    [{ limit: '0' }, 'INVALID_LIMIT'],
    [{ limit: '101' }, 'INVALID_LIMIT'],
    [{ limit: 'ten' }, 'INVALID_LIMIT'],
    [{ cursor: 'not a cursor!' }, 'INVALID_CURSOR'],
    [{ cursor: Buffer.from('{"u":1}').toString('base64url') }, 'INVALID_CURSOR'],
    [{ cursor: Buffer.from('[[[').toString('base64url') }, 'INVALID_CURSOR'],
  ])('refuses the query %j with 400 %s', async (query, code) => {
    const answer = await api(apiEvent('GET /v1/conversations', { query }));
    expect(answer).toMatchObject({ statusCode: 400 });
    expect(bodyOf(answer).code).toBe(code);
  });

  it("answers another user's conversation id with 404, for reading and deleting alike", async () => {
    const request = { sub: 'user-2', pathParameters: { conversationId: 'conv-1' } };
    const read = await api(apiEvent('GET /v1/conversations/{conversationId}', request));
    const remove = await api(apiEvent('DELETE /v1/conversations/{conversationId}', request));
    expect([read, remove].map((a) => (a as { statusCode: number }).statusCode)).toEqual([404, 404]);
    expect(bodyOf(read)).toEqual({ code: 'NOT_FOUND', message: 'No conversation with this id.' });
    const list = ConversationListSchema.parse(
      bodyOf(await api(apiEvent('GET /v1/conversations', { sub: 'user-2' }))),
    );
    expect(list.conversations).toEqual([]);
  });

  it('deletes a conversation (204), after which it is gone from the list and reads 404', async () => {
    const request = { pathParameters: { conversationId: 'conv-1' } };
    expect(await api(apiEvent('DELETE /v1/conversations/{conversationId}', request))).toMatchObject({
      statusCode: 204,
    });
    expect(await api(apiEvent('GET /v1/conversations/{conversationId}', request))).toMatchObject({
      statusCode: 404,
    });
    expect(await api(apiEvent('DELETE /v1/conversations/{conversationId}', request))).toMatchObject({
      statusCode: 404,
    });
    const list = ConversationListSchema.parse(bodyOf(await api(apiEvent('GET /v1/conversations'))));
    expect(list.conversations.map((c) => c.conversationId)).not.toContain('conv-1');
  });

  it('refuses a bad id in the path and a request without a signed-in user', async () => {
    const bad = await api(
      apiEvent('GET /v1/conversations/{conversationId}', { pathParameters: { conversationId: 'a#b' } }),
    );
    expect(bad).toMatchObject({ statusCode: 400 });
    expect(await api(apiEvent('GET /v1/conversations', { sub: undefined }))).toMatchObject({
      statusCode: 401,
    });
    // A cursor the API minted for a position that is not there any more just ends the list
    const stale = encodeCursor({ updatedAt: '2020-01-01T00:00:00.000Z', conversationId: 'gone' });
    const page = bodyOf(await api(apiEvent('GET /v1/conversations', { query: { cursor: stale } })));
    expect(page.conversations).toEqual([]);
  });
});
