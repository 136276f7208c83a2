import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEnvelope } from '../../schemas/index.ts';
import {
  type FakeDiscordApi,
  newSnowflake,
  startFakeDiscordApi,
  TEST_APPLICATION_ID,
} from '../../test/fixtures/fake-discord-api.ts';
import { tinyPng } from '../../test/fixtures/images.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { INTERACTION_TOKEN_LIFETIME_MS } from './address.ts';
import { createDiscordClient, createDiscordRest, DiscordSendError } from './discord-client.ts';
import { createDiscordConsumer, type DiscordConsumerDeps } from './handler.ts';
import { DISCORD_MESSAGE_LIMIT } from './split-message.ts';

const BOT_TOKEN = 'bot-token-for-tests';

/** A reply of `paragraphs` paragraphs of ~900 characters: 3 of them need two Discord messages. */
const longReply = (paragraphs: number) =>
  Array.from({ length: paragraphs }, (_, i) =>
    `Paragraph ${i + 1}: ${'lorem ipsum '.repeat(75)}`.trim(),
  ).join('\n\n');

describe('the Discord consumer against a fake Discord API (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let discord: FakeDiscordApi;

  beforeAll(async () => {
    aws = await startLocalAws();
    discord = await startFakeDiscordApi({ botToken: BOT_TOKEN });
  });
  afterAll(async () => {
    await discord.close();
    await aws.close();
  });

  function consumer(overrides: Partial<DiscordConsumerDeps> & { botToken?: string | undefined } = {}) {
    const rest = createDiscordRest({ api: discord.base, timeoutMs: 2_000, maxRateLimitWaitMs: 3_000 });
    const botToken = 'botToken' in overrides ? overrides.botToken : BOT_TOKEN;
    return createDiscordConsumer({
      storage: aws.storage,
      client: createDiscordClient({ rest, botToken: async () => botToken }),
      logger: new Logger({ logLevel: 'SILENT' }),
      resumeAfterMs: 0,
      settleMs: 50,
      ...overrides,
    });
  }

  /** An interaction Discord has acknowledged with "thinking…", and the reply address the producer wrote. */
  function interaction(options: { ageMs?: number } = {}) {
    const channelId = newSnowflake();
    discord.addChannel(channelId);
    const token = Buffer.from(`interaction:${newSnowflake()}:${randomUUID()}`).toString('base64url');
    const original = discord.acknowledge(
      { applicationId: TEST_APPLICATION_ID, token, channelId },
      { type: 5 },
    );
    const address = {
      applicationId: TEST_APPLICATION_ID,
      interactionToken: token,
      channelId,
      interactionAt: Date.now() - (options.ageMs ?? 0),
    };
    const inReplyTo = randomUUID();
    const envelope = (detailType: string, detail: Record<string, unknown>): BusEnvelope =>
      ({
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source: 'openclaw.agent',
        account: '000000000000',
        time: new Date().toISOString(),
        region: 'local',
        resources: [],
        detail: {
          userId: 'user-1',
          conversationId: 'conv-1',
          replyTo: { channel: 'discord', address },
          inReplyTo,
          ...detail,
        },
      }) as unknown as BusEnvelope;
    return {
      token,
      channelId,
      original,
      delta: (seq: number, text: string) => envelope('ReplyDelta.v1', { seq, text }),
      completed: (seq: number, text: string, extra: Record<string, unknown> = {}) =>
        envelope('ReplyCompleted.v1', { seq, status: 'ok', text, ...extra }),
      status: (status: string, message: string) => envelope('AgentStatusChanged.v1', { status, message }),
      requests: () => discord.requests.filter((request) => request.path.includes(token)),
      messages: () => discord.interactionMessages(token),
    };
  }

  it('shows a delta by editing the original response, without the bot token and without mentions', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();

    // Act
    await deliver(chat.delta(1, 'Hello @everyone, thinking'));

    // Assess
    const [edit] = chat.requests();
    expect(edit).toMatchObject({
      method: 'PATCH',
      path: `/webhooks/${TEST_APPLICATION_ID}/${chat.token}/messages/@original`,
      status: 200,
      authorization: undefined,
    });
    expect(chat.original).toMatchObject({
      content: 'Hello @everyone, thinking',
      allowedMentions: { parse: [] },
      edits: 1,
    });
  });

  it('edits at most about once a second and never goes back to older text', async () => {
    // Prepare
    const deliver = consumer({ editIntervalMs: 60_000 });
    const chat = interaction();

    // Act
    await deliver(chat.delta(2, 'two'));
    await deliver(chat.delta(3, 'two three'));
    await deliver(chat.delta(1, 'one'));

    // Assess
    expect(chat.original.content).toBe('two');
    expect(chat.original.edits).toBe(1);
  });

  it('sends a long completed reply as an edit of the original plus follow-ups of at most 2000 characters', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    const text = `${longReply(5)}\n\nPing @everyone and <@123>!`;
    await deliver(chat.delta(1, text.slice(0, 500)));

    // Act
    await deliver(chat.completed(2, text));

    // Assess
    const messages = chat.messages();
    expect(messages.length).toBeGreaterThan(1);
    expect(messages[0]!.original).toBe(true);
    for (const message of messages) {
      expect(message.content.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(message.allowedMentions).toEqual({ parse: [] });
    }
    const normalise = (value: string) => value.replace(/\s+/g, ' ').trim();
    expect(normalise(messages.map((message) => message.content).join(' '))).toBe(normalise(text));
    // Paragraph boundaries are kept: every message starts a paragraph.
    for (const message of messages) expect(message.content).toMatch(/^Paragraph \d+:|^Ping/);
    expect(chat.requests().map((request) => request.method)).toEqual([
      'PATCH',
      'PATCH',
      ...messages.slice(1).map(() => 'POST'),
    ]);
  });

  it('attaches reply images to the edit of the original response as multipart files[n], bytes from S3', async () => {
    // Prepare
    const png = tinyPng(9, 2);
    const key = `media/user-1/${randomUUID()}/0.png`;
    await aws.s3Client.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: png }));
    const deliver = consumer({ images: createReplyImageStore({ client: aws.s3Client, bucket: aws.bucket }) });
    const chat = interaction();

    // Act
    await deliver(
      chat.completed(1, 'The page looks like this.', {
        attachments: [
          { kind: 'image', key, contentType: 'image/png', bytes: png.length },
          { kind: 'image', key: 'media/user-2/x/0.png', contentType: 'image/png', bytes: 5 },
        ],
      }),
    );

    // Assess
    const [message, ...others] = chat.messages();
    expect(others).toEqual([]);
    expect(message).toMatchObject({ original: true, content: 'The page looks like this.' });
    expect(message!.attachments).toHaveLength(1);
    expect(message!.attachments[0]).toMatchObject({ filename: 'image-1.png', contentType: 'image/png' });
    expect(message!.attachments[0]!.bytes.equals(png)).toBe(true);
    expect(chat.requests().map((request) => request.method)).toEqual(['PATCH']);
  });

  it('posts a redelivered completed reply once, and ignores deltas after it', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    await deliver(chat.completed(3, longReply(3)));
    const requestsAfterFirst = chat.requests().length;

    // Act
    await deliver(chat.completed(3, longReply(3)));
    await deliver(chat.delta(2, 'late delta'));

    // Assess
    expect(chat.requests()).toHaveLength(requestsAfterFirst);
    expect(chat.messages()).toHaveLength(2);
    expect(chat.original.content).toMatch(/^Paragraph 1:/);
  });

  it('waits out a rate limit (429 with Retry-After) and then posts the follow-up', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    discord.rateLimit('POST', new RegExp(chat.token), 1);

    // Act
    await deliver(chat.completed(1, longReply(3)));

    // Assess
    const posts = chat.requests().filter((request) => request.method === 'POST');
    expect(posts.map((request) => request.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(discord.rateLimitViolations).toEqual([]);
    expect(chat.messages()).toHaveLength(2);
  });

  it('asks the bus to retry when a rate limit is longer than it may wait, naming no token', async () => {
    // Prepare: the follow-up is rate limited for a minute, longer than a consumer run may wait
    const deliver = consumer();
    const chat = interaction();
    discord.rateLimit('POST', new RegExp(chat.token), 60);

    // Act
    const error = await deliver(chat.completed(1, longReply(3))).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(DiscordSendError);
    expect(error).toMatchObject({ kind: 'retryable', status: 429 });
    expect((error as Error).message).not.toContain(chat.token);
    expect(chat.messages()[0]!.content).toMatch(/^Paragraph 1:/);
  });

  it('resumes an interrupted reply after the messages already sent when the bus retries it', async () => {
    // Prepare: Discord fails the follow-up with 5xx (twice: the request and discord.js's one retry)
    const deliver = consumer();
    const chat = interaction();
    discord.fail('POST', new RegExp(chat.token), 502, 2);
    const reply = chat.completed(1, longReply(3));
    await expect(deliver(reply)).rejects.toMatchObject({ kind: 'retryable' });

    // Act
    await deliver(reply);

    // Assess
    const messages = chat.messages();
    expect(messages).toHaveLength(2);
    expect(messages[0]!.edits).toBe(1);
    expect(messages[1]!.content).toMatch(/^Paragraph 3:/);
  });

  it('does not resume a reply another invocation may still be sending', async () => {
    // Prepare
    const chat = interaction();
    discord.fail('POST', new RegExp(chat.token), 502, 2);
    const reply = chat.completed(1, longReply(3));
    await expect(consumer()(reply)).rejects.toMatchObject({ kind: 'retryable' });

    // Act
    const early = consumer({ resumeAfterMs: 60_000, duplicateWaitMs: 300 })(reply);

    // Assess
    await expect(early).rejects.toThrow('being delivered by another invocation');
    expect(chat.messages()).toHaveLength(1);
  });

  it('answers in the channel with the bot token once the interaction token has expired', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction({ ageMs: INTERACTION_TOKEN_LIFETIME_MS + 60_000 });

    // Act
    await deliver(chat.delta(1, 'too late to preview'));
    await deliver(chat.completed(2, longReply(3)));

    // Assess
    expect(chat.requests()).toEqual([]);
    const posted = discord.channelMessages(chat.channelId);
    expect(posted.map((message) => message.content.slice(0, 11))).toEqual(['Paragraph 1', 'Paragraph 3']);
    expect(posted.every((message) => JSON.stringify(message.allowedMentions) === '{"parse":[]}')).toBe(true);
    const channelPosts = discord.requests.filter(
      (request) => request.path === `/channels/${chat.channelId}/messages`,
    );
    expect(channelPosts.every((request) => request.authorization === `Bot ${BOT_TOKEN}`)).toBe(true);
  });

  it('falls back to the channel when Discord refuses the interaction token (401)', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    discord.expire(chat.token);

    // Act
    await deliver(chat.completed(1, 'A short answer.'));

    // Assess
    expect(chat.requests().map((request) => request.status)).toEqual([401]);
    expect(discord.channelMessages(chat.channelId).map((message) => message.content)).toEqual([
      'A short answer.',
    ]);
  });

  it('answers with a follow-up when the "thinking…" message was deleted', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    discord.deleteMessage(chat.original.id);

    // Act
    await deliver(chat.completed(1, 'Still here.'));

    // Assess
    expect(chat.messages().map((message) => message.content)).toEqual(['Still here.']);
  });

  it('drops, without asking for a retry, a late reply it cannot post in the channel', async () => {
    // Prepare
    const chat = interaction({ ageMs: INTERACTION_TOKEN_LIFETIME_MS });
    const forbidden = interaction({ ageMs: INTERACTION_TOKEN_LIFETIME_MS });
    discord.addChannel(forbidden.channelId, 'forbidden');

    // Act
    const withoutToken = consumer({ botToken: undefined })(chat.completed(1, 'late'));
    const noAccess = consumer()(forbidden.completed(1, 'late'));

    // Assess
    await expect(withoutToken).resolves.toBeUndefined();
    await expect(noAccess).resolves.toBeUndefined();
    expect(discord.channelMessages(chat.channelId)).toEqual([]);
    expect(discord.channelMessages(forbidden.channelId)).toEqual([]);
  });

  it("shows the agent's user-facing error for a failed turn", async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();

    // Act
    await deliver(
      chat.completed(1, '', {
        status: 'error',
        error: { code: 'LLM_FAILED', message: 'The model provider refused the request.' },
      }),
    );

    // Assess
    expect(chat.original.content).toBe('⚠️ The model provider refused the request.');
  });

  it('shows "waking up" only while nothing else of the reply is shown', async () => {
    // Prepare
    const deliver = consumer({ editIntervalMs: 0 });
    const early = interaction();
    const late = interaction();
    await deliver(late.delta(1, 'Already answering'));

    // Act
    await deliver(early.status('waking', 'Waking up the agent…'));
    await deliver(early.status('thinking', 'Thinking…'));
    await deliver(late.status('waking', 'Waking up the agent…'));
    await deliver(early.delta(1, 'First words'));

    // Assess
    expect(early.original.edits).toBe(2);
    expect(early.original.content).toBe('First words');
    expect(late.original.content).toBe('Already answering');
  });

  it('attaches the whole text of a reply too long for five messages', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    const text = longReply(14);

    // Act
    await deliver(chat.completed(1, text));

    // Assess
    const messages = chat.messages();
    expect(messages).toHaveLength(5);
    expect(messages[4]!.content).toContain('attached');
    expect(messages[4]!.attachments).toEqual([expect.objectContaining({ filename: 'reply.md', text })]);
  });

  it('drops events that are not for Discord or carry a malformed address', async () => {
    // Prepare
    const deliver = consumer();
    const chat = interaction();
    const misrouted = chat.completed(1, 'x');
    (misrouted.detail as { replyTo: unknown }).replyTo = { channel: 'telegram', address: { chatId: 1 } };
    const badAddress = chat.completed(1, 'x');
    (badAddress.detail as { replyTo: unknown }).replyTo = {
      channel: 'discord',
      address: { applicationId: '1', interactionToken: '../../channels', channelId: '2', interactionAt: 1 },
    };

    // Act
    await deliver(misrouted);
    await deliver(badAddress);

    // Assess
    expect(chat.requests()).toEqual([]);
    expect(discord.requests.some((request) => request.path.includes('..'))).toBe(false);
  });
});
