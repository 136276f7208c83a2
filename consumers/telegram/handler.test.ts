import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Api } from 'grammy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusEnvelope } from '../../schemas/index.ts';
import { type FakeTelegramApi, startFakeTelegramApi } from '../../test/fixtures/fake-telegram-api.ts';
import { tinyPng } from '../../test/fixtures/images.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { TelegramRateLimitError } from './bot-calls.ts';
import { createTelegramConsumer, type TelegramConsumerDeps } from './handler.ts';

const TOKEN = '123456:TEST-token_abc';

const envelope = (detailType: string, detail: Record<string, unknown>): BusEnvelope =>
  ({
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'openclaw.agent',
    account: '000000000000',
    time: '2026-11-24T10:00:00Z',
    region: 'local',
    resources: [],
    detail,
  }) as unknown as BusEnvelope;

let nextChat = 1_000;

/** A fresh chat and reply for each test: the fake keeps messages per chat. */
function conversation(address: Record<string, unknown> = {}) {
  const chatId = nextChat++;
  const inReplyTo = `msg-${randomUUID()}`;
  const base = {
    userId: 'user-1',
    conversationId: 'conv-1',
    replyTo: { channel: 'telegram', address: { chatId, replyToMessageId: 7, ...address } },
    inReplyTo,
  };
  return {
    chatId,
    delta: (seq: number, text: string) => envelope('ReplyDelta.v1', { ...base, seq, text }),
    completed: (seq: number, text: string, extra: Record<string, unknown> = {}) =>
      envelope('ReplyCompleted.v1', { ...base, seq, status: 'ok', text, ...extra }),
    status: (status: string, message: string) =>
      envelope('AgentStatusChanged.v1', { ...base, status, message }),
  };
}

describe('the Telegram consumer against a fake Bot API (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let fake: FakeTelegramApi;

  beforeAll(async () => {
    aws = await startLocalAws();
    fake = await startFakeTelegramApi({ token: TOKEN });
  });
  afterAll(async () => {
    await fake.close();
    await aws.close();
  });
  beforeEach(() => fake.reset());

  const consumer = (overrides: Partial<TelegramConsumerDeps> = {}) =>
    createTelegramConsumer({
      storage: aws.storage,
      api: new Api(TOKEN, { apiRoot: fake.apiRoot }),
      logger: new Logger({ logLevel: 'SILENT' }),
      editIntervalMs: 200,
      ...overrides,
    });

  it('posts the first delta, edits it with later ones, and ends with the completed reply as HTML', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();

    // Act
    await deliver(chat.delta(1, 'Hello'));
    await deliver(chat.delta(2, 'Hello **wor'));
    await deliver(chat.completed(3, 'Hello **world** & <you>'));

    // Assess
    expect(fake.calls.map((call) => call.method)).toEqual([
      'sendMessage',
      'editMessageText',
      'editMessageText',
    ]);
    const [message] = fake.messagesIn(chat.chatId);
    expect(fake.messagesIn(chat.chatId)).toHaveLength(1);
    expect(message).toMatchObject({
      text: 'Hello <b>world</b> &amp; &lt;you&gt;',
      visibleText: 'Hello world & <you>',
      parseMode: 'HTML',
    });
    expect(fake.callsOf('editMessageText').at(-1)?.params).toMatchObject({
      chat_id: chat.chatId,
      message_id: message!.messageId,
      parse_mode: 'HTML',
    });
  });

  it('posts a reply without deltas as one message, quoting the user only in groups', async () => {
    // Prepare
    const deliver = consumer();
    const privateChat = conversation();
    const group = conversation({ quote: true, messageThreadId: 12 });

    // Act
    await deliver(privateChat.completed(1, 'Hi there'));
    await deliver(group.completed(1, 'Hi all'));

    // Assess
    expect(fake.messagesIn(privateChat.chatId)).toEqual([
      expect.objectContaining({ visibleText: 'Hi there' }),
    ]);
    expect(fake.messagesIn(privateChat.chatId)[0]).not.toHaveProperty('replyToMessageId');
    expect(fake.messagesIn(group.chatId)).toEqual([
      expect.objectContaining({ visibleText: 'Hi all', replyToMessageId: 7, messageThreadId: 12 }),
    ]);
  });

  it('splits a reply longer than 4096 characters: the streamed message becomes the first part', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();
    const paragraph = (n: number) => `Paragraph ${n}: ${'word '.repeat(150).trim()}.`;
    const text = Array.from({ length: 12 }, (_, i) => paragraph(i)).join('\n\n');
    expect(text.length).toBeGreaterThan(2 * 4096);

    // Act
    await deliver(chat.delta(1, 'Paragraph 0: word'));
    await deliver(chat.completed(2, text));

    // Assess
    const messages = fake.messagesIn(chat.chatId);
    expect(messages).toHaveLength(3);
    expect(messages[0]!.edits).toBe(1);
    expect(messages.every((message) => message.visibleText.length <= 4096)).toBe(true);
    expect(messages.map((message) => message.visibleText).join('\n\n')).toBe(text);
  });

  it('falls back to plain text when Telegram refuses the HTML', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();
    fake.rejectHtml(1);

    // Act
    await deliver(chat.completed(1, 'Some **bold** claim'));

    // Assess
    expect(fake.callsOf('sendMessage').map((call) => call.params.parse_mode)).toEqual(['HTML', undefined]);
    expect(fake.messagesIn(chat.chatId)).toEqual([expect.objectContaining({ text: 'Some **bold** claim' })]);
    expect(fake.messagesIn(chat.chatId)[0]).not.toHaveProperty('parseMode');
  });

  it('waits out a 429 for its retry_after and then delivers once', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();
    fake.failNext('sendMessage', {
      status: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });

    // Act
    await deliver(chat.completed(1, 'After the wait'));

    // Assess
    const attempts = fake.callsOf('sendMessage');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(fake.messagesIn(chat.chatId)).toEqual([
      expect.objectContaining({ visibleText: 'After the wait' }),
    ]);
  });

  it('throws when the 429 outlasts its budget, and the redelivery posts the reply exactly once', async () => {
    // Prepare
    // The redelivery waits this long for a first message an earlier delivery might be posting.
    const deliver = consumer({ rateLimitBudgetMs: 500, firstMessageWaitMs: 300 });
    const chat = conversation();
    const completed = chat.completed(1, 'Eventually');
    fake.failNext('sendMessage', {
      status: 429,
      description: 'Too Many Requests: retry after 30',
      parameters: { retry_after: 30 },
    });

    // Act
    const first = deliver(completed);
    await expect(first).rejects.toBeInstanceOf(TelegramRateLimitError);
    await deliver(completed);
    await deliver(completed);

    // Assess
    expect(fake.messagesIn(chat.chatId)).toEqual([expect.objectContaining({ visibleText: 'Eventually' })]);
  });

  it('sends reply images as photos after the text, the bytes from S3, and a redelivery sends none again', async () => {
    // Prepare
    const png = tinyPng(7, 3);
    const key = `media/user-1/${randomUUID()}/0.png`;
    await aws.s3Client.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: png }));
    const deliver = consumer({ images: createReplyImageStore({ client: aws.s3Client, bucket: aws.bucket }) });
    const chat = conversation({ messageThreadId: 42 });
    const completed = chat.completed(1, 'Here it is', {
      attachments: [
        { kind: 'image', key, contentType: 'image/png', bytes: png.length, width: 7, height: 3 },
        // Not this user's: never read, never sent.
        { kind: 'image', key: 'media/user-2/m/0.png', contentType: 'image/png', bytes: 9 },
      ],
    });
    fake.failNext('sendPhoto', { status: 500, description: 'Internal Server Error' });

    // Act: the first attempt fails at the photo; the bus delivers again, twice
    await expect(deliver(completed)).rejects.toThrow();
    await deliver(completed);
    await deliver(completed);

    // Assess
    expect(fake.messagesIn(chat.chatId).map((m) => m.visibleText)).toEqual(['Here it is']);
    const photos = fake.photosIn(chat.chatId);
    expect(photos).toHaveLength(1);
    expect(photos[0]).toMatchObject({ fileName: 'image-1.png', messageThreadId: 42 });
    expect(photos[0]!.bytes.equals(png)).toBe(true);
  });

  it('after a failure half-way through a long reply, the redelivery posts only the missing parts', async () => {
    // Prepare
    const deliver = consumer({ firstMessageWaitMs: 300 });
    const chat = conversation();
    const text = Array.from({ length: 3 }, (_, i) => `${i}${'x'.repeat(3000)}`).join('\n\n');
    const completed = chat.completed(1, text);
    // The second message's post fails with a server error, which the bus retries.
    fake.failNext('sendMessage', { status: 502, description: 'Bad Gateway' }, { skip: 1 });

    // Act
    await expect(deliver(completed)).rejects.toThrow();
    await deliver(completed);

    // Assess
    const messages = fake.messagesIn(chat.chatId);
    expect(messages.map((message) => message.visibleText[0])).toEqual(['0', '1', '2']);
  });

  it('shows nothing older than what is shown: a stale delta after the completed reply is ignored', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();
    await deliver(chat.delta(1, 'Draft'));
    await deliver(chat.completed(3, 'Final answer'));

    // Act
    await deliver(chat.delta(2, 'Draft and more'));

    // Assess
    expect(fake.messagesIn(chat.chatId)).toEqual([expect.objectContaining({ visibleText: 'Final answer' })]);
    expect(fake.calls).toHaveLength(2);
  });

  it('spaces edits of one reply by the edit interval', async () => {
    // Prepare
    const deliver = consumer({ editIntervalMs: 1_000 });
    const chat = conversation();
    const startedAt = Date.now();

    // Act
    await deliver(chat.delta(1, 'one'));
    await deliver(chat.delta(2, 'one two'));

    // Assess: the first step claimed its slot after `startedAt`, so the edit waited at least the interval
    const [post, edit] = fake.calls;
    expect(post?.method).toBe('sendMessage');
    expect(edit?.method).toBe('editMessageText');
    expect(edit!.at - startedAt).toBeGreaterThanOrEqual(1_000);
  });

  it('shows "typing" for busy statuses and a waking placeholder that the reply then replaces', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();

    // Act
    await deliver(chat.status('waking', 'Waking up the agent…'));
    await deliver(chat.status('thinking', 'Thinking…'));
    const placeholder = fake.messagesIn(chat.chatId).map((message) => message.visibleText);
    await deliver(chat.completed(1, 'Awake and answering'));

    // Assess
    expect(fake.callsOf('sendChatAction')).toHaveLength(2);
    expect(fake.callsOf('sendChatAction')[0]!.params).toMatchObject({
      chat_id: chat.chatId,
      action: 'typing',
    });
    expect(placeholder).toEqual(['Waking up the agent…']);
    expect(fake.messagesIn(chat.chatId)).toEqual([
      expect.objectContaining({ visibleText: 'Awake and answering', edits: 1 }),
    ]);
  });

  it('shows the user-facing error of a failed turn', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();

    // Act
    await deliver(
      chat.completed(1, '', {
        status: 'error',
        error: { code: 'LLM_UNREACHABLE', message: 'The language model did not answer. Try again later.' },
      }),
    );

    // Assess
    expect(fake.messagesIn(chat.chatId)).toEqual([
      expect.objectContaining({ visibleText: '⚠️ The language model did not answer. Try again later.' }),
    ]);
  });

  it('drops a reply Telegram refuses for good (bot blocked) instead of retrying it', async () => {
    // Prepare
    const deliver = consumer();
    const chat = conversation();
    fake.blockChat(chat.chatId);

    // Act
    const delivery = deliver(chat.completed(1, 'Anyone there?'));

    // Assess
    await expect(delivery).resolves.toBeUndefined();
    expect(fake.callsOf('sendMessage')).toHaveLength(1);
  });

  it('throws a network failure for the bus to retry, without the bot token in the error', async () => {
    // Prepare: nothing listens on port 1, so the request fails like a network outage
    const deliver = consumer({ api: new Api(TOKEN, { apiRoot: 'http://127.0.0.1:1' }) });
    const chat = conversation();

    // Act
    const error = await deliver(chat.completed(1, 'Is the network up?')).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TelegramApiError');
    const printed = `${String(error)} ${JSON.stringify(error)} ${JSON.stringify(Object.entries(error as object))}`;
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain('Is the network up?');
  });

  it('drops events with an address it cannot use, without calling Telegram', async () => {
    // Prepare
    const deliver = consumer();
    const bad = envelope('ReplyCompleted.v1', {
      userId: 'user-1',
      conversationId: 'conv-1',
      replyTo: { channel: 'telegram', address: { chatId: 'not-a-chat' } },
      inReplyTo: 'msg-bad',
      seq: 1,
      status: 'ok',
      text: 'lost?',
    });

    // Act
    await deliver(bad);

    // Assess
    expect(fake.calls).toHaveLength(0);
  });
});
