import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BusEnvelope } from '../../schemas/index.ts';
import { type FakeSlackApi, startFakeSlackApi } from '../../test/fixtures/fake-slack-api.ts';
import { tinyPng } from '../../test/fixtures/images.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createReplyImageStore } from '../shared/reply-images.ts';
import { SlackRateLimitedError } from './errors.ts';
import { createSlackConsumer, type SlackConsumerDeps } from './handler.ts';
import { createSlackApi } from './slack-api.ts';

const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0GENERAL';
const THREAD = '1760000000.000100';

let ids = 0;
const envelope = (detailType: string, detail: Record<string, unknown>): BusEnvelope =>
  ({
    version: '0',
    id: `evt-${++ids}`,
    'detail-type': detailType,
    source: 'openclaw.agent',
    account: '000000000000',
    time: '2026-11-24T10:00:00Z',
    region: 'local',
    resources: [],
    detail,
  }) as unknown as BusEnvelope;

const base = (
  inReplyTo: string,
  address: Record<string, string> = { channel: CHANNEL, threadTs: THREAD },
) => ({
  userId: 'user-1',
  conversationId: 'conv-1',
  replyTo: { channel: 'slack', address: { userId: 'UALICE', ...address } },
  inReplyTo,
});
const delta = (inReplyTo: string, seq: number, text: string, address?: Record<string, string>) =>
  envelope('ReplyDelta.v1', { ...base(inReplyTo, address), seq, text });
const completed = (inReplyTo: string, seq: number, text: string, extra: Record<string, unknown> = {}) =>
  envelope('ReplyCompleted.v1', { ...base(inReplyTo), seq, status: 'ok', text, ...extra });

describe('the Slack consumer against a loopback Slack Web API (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let slack: FakeSlackApi;
  let offsetMs = 0;

  beforeAll(async () => {
    aws = await startLocalAws();
    slack = await startFakeSlackApi({ botToken: TOKEN, notInChannels: ['CPRIVATE'] });
  });
  afterAll(async () => {
    await slack.close();
    await aws.close();
  });
  afterEach(() => {
    offsetMs = 0;
  });

  /** A consumer whose clock runs `offsetMs` ahead of real time, so tests can step past the edit interval. */
  function consumer(overrides: Partial<SlackConsumerDeps> = {}) {
    const logger = new Logger({ logLevel: 'SILENT' });
    const now = () => Date.now() + offsetMs;
    return createSlackConsumer({
      storage: aws.storage,
      slack: createSlackApi({
        botToken: async () => TOKEN,
        slackApiUrl: slack.apiUrl,
        logger,
        reserveMs: 500,
      }),
      logger,
      settleMs: 20,
      now,
      ...overrides,
    });
  }

  const callsAbout = (inReplyToText: string) =>
    slack.calls.filter((call) => call.params.text?.includes(inReplyToText));

  it('streams a reply: the first delta posts in the thread, later ones edit it, the completed reply sets mrkdwn', async () => {
    // Prepare
    const deliver = consumer();
    const thread = '1760000000.000201';
    const address = { channel: CHANNEL, threadTs: thread };

    // Act
    await deliver(delta('m-stream', 1, 'Hello', address));
    offsetMs += 1_500;
    await deliver(delta('m-stream', 2, 'Hello **wor', address));
    offsetMs += 2_500;
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('m-stream', address),
        seq: 3,
        status: 'ok',
        text: 'Hello **world**, see [the docs](https://docs.example/a?b=1&c=2) & <more>',
      }),
    );

    // Assess
    const inThread = slack.messagesIn(CHANNEL, thread);
    expect(inThread).toHaveLength(1);
    expect(inThread[0]?.text).toBe(
      'Hello *world*, see <https://docs.example/a?b=1&amp;c=2|the docs> &amp; &lt;more&gt;',
    );
    expect(inThread[0]?.edits).toBe(2);
    const methods = slack.calls.filter(
      (c) => c.params.ts === inThread[0]?.ts || c.params.thread_ts === thread,
    );
    expect(methods.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.update']);
  });

  it('edits the final text once more when a delta edited the message moments before (its edit may land last)', async () => {
    // Prepare
    const deliver = consumer();
    const thread = '1760000000.000207';
    const address = { channel: CHANNEL, threadTs: thread };
    await deliver(delta('m-race', 1, 'partial', address));

    // Act
    await deliver(
      envelope('ReplyCompleted.v1', { ...base('m-race', address), seq: 2, status: 'ok', text: 'final' }),
    );

    // Assess
    expect(slack.messagesIn(CHANNEL, thread)).toMatchObject([{ text: 'final', edits: 2 }]);
  });

  it('edits a streaming reply at most about once a second', async () => {
    // Prepare
    const deliver = consumer();
    const address = { channel: CHANNEL, threadTs: '1760000000.000202' };

    // Act
    await deliver(delta('m-throttle', 1, 'one', address));
    await deliver(delta('m-throttle', 2, 'one two', address));
    await deliver(delta('m-throttle', 3, 'one two three', address));
    offsetMs += 1_500;
    await deliver(delta('m-throttle', 4, 'one two three four', address));

    // Assess: the two deltas inside the first second were skipped
    const [message] = slack.messagesIn(CHANNEL, '1760000000.000202');
    expect(message).toMatchObject({ text: 'one two three four', edits: 1 });
  });

  it('ignores a delta older than one already shown', async () => {
    // Prepare
    const deliver = consumer();
    const address = { channel: CHANNEL, threadTs: '1760000000.000203' };
    await deliver(delta('m-stale', 5, 'newest text', address));
    offsetMs += 1_500;

    // Act
    await deliver(delta('m-stale', 4, 'older text', address));

    // Assess
    expect(slack.messagesIn(CHANNEL, '1760000000.000203')).toMatchObject([{ text: 'newest text', edits: 0 }]);
  });

  it('splits a long reply on paragraph breaks into messages under 3,000 characters, the rest in the thread', async () => {
    // Prepare
    const deliver = consumer();
    const thread = '1760000000.000204';
    const address = { channel: CHANNEL, threadTs: thread };
    const paragraphs = Array.from(
      { length: 12 },
      (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(60).trim()}`,
    );
    await deliver(delta('m-long', 1, paragraphs[0] ?? '', address));
    offsetMs += 2_500;

    // Act
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('m-long', address),
        seq: 2,
        status: 'ok',
        text: paragraphs.join('\n\n'),
      }),
    );

    // Assess
    const messages = slack.messagesIn(CHANNEL, thread);
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(message.text.length).toBeLessThanOrEqual(3_000);
    expect(messages[0]?.edits).toBe(1);
    expect(messages.map((m) => m.text).join('\n\n')).toBe(paragraphs.join('\n\n'));
    for (const message of messages) expect(message.text).toMatch(/^Paragraph \d+:/);
  });

  it('shows a redelivered completed reply once', async () => {
    // Prepare
    const deliver = consumer();
    const event = completed('m-redelivered', 1, 'only once please');
    await deliver(event);
    const callsBefore = slack.calls.length;

    // Act
    await deliver(event);

    // Assess
    expect(slack.calls.length).toBe(callsBefore);
    expect(callsAbout('only once please')).toHaveLength(1);
  });

  it('waits out a 429 whose Retry-After fits in the time left', async () => {
    // Prepare
    const deliver = consumer();
    slack.rateLimit('chat.postMessage', 1, 1);
    const startedAt = Date.now();

    // Act
    await deliver(completed('m-429', 1, 'after the rate limit'));

    // Assess
    const posts = slack.callsOf('chat.postMessage').slice(-2);
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(callsAbout('after the rate limit').filter((c) => c.status === 200)).toHaveLength(1);
  });

  it('throws for a Lambda retry when a 429 outlasts the time left; the retry finishes without a second copy', async () => {
    // Prepare: three seconds of budget, and Slack asks for thirty
    const deliver = consumer({ budgetMs: 3_000 });
    const event = completed('m-429-long', 1, 'worth the wait');
    slack.rateLimit('chat.postMessage', 1, 30);

    // Act
    const first = deliver(event);
    await expect(first).rejects.toBeInstanceOf(SlackRateLimitedError);
    await deliver(event);
    await deliver(event);

    // Assess
    const shown = slack.messages().filter((m) => m.text === 'worth the wait');
    expect(shown).toHaveLength(1);
  });

  it('shows the error the agent reports, after any partial text', async () => {
    // Prepare
    const deliver = consumer();

    // Act
    await deliver(
      completed('m-error', 1, 'I started to', {
        status: 'error',
        error: { code: 'MODEL_ERROR', message: 'The model is unavailable. Try again in a minute.' },
      }),
    );

    // Assess
    expect(callsAbout('I started to')[0]?.params.text).toBe(
      'I started to\n\n:warning: The model is unavailable. Try again in a minute.',
    );
  });

  it('shows a "Thinking…" status first and replaces it with the reply', async () => {
    // Prepare
    const deliver = consumer();
    const thread = '1760000000.000205';
    const address = { channel: CHANNEL, threadTs: thread };

    // Act
    await deliver(
      envelope('AgentStatusChanged.v1', {
        ...base('m-status', address),
        status: 'thinking',
        message: 'Thinking…',
      }),
    );
    const placeholder = slack.messagesIn(CHANNEL, thread)[0]?.text;
    await deliver(
      envelope('ReplyCompleted.v1', { ...base('m-status', address), seq: 1, status: 'ok', text: 'Answer' }),
    );

    // Assess
    expect(placeholder).toBe('_Thinking…_');
    expect(slack.messagesIn(CHANNEL, thread)).toMatchObject([{ text: 'Answer', edits: 1 }]);
  });

  it('answers by direct message when the app is not in the channel', async () => {
    // Prepare
    const deliver = consumer();

    // Act
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('m-private', { channel: 'CPRIVATE' }),
        seq: 1,
        status: 'ok',
        text: 'the answer',
      }),
    );

    // Assess
    const direct = slack.messagesIn('DALICE');
    expect(direct.map((m) => m.text)).toEqual([
      expect.stringContaining("I can't post in <#CPRIVATE>"),
      'the answer',
    ]);
  });

  it('posts the reply anew when the streamed message was deleted', async () => {
    // Prepare
    const deliver = consumer();
    const thread = '1760000000.000206';
    const address = { channel: CHANNEL, threadTs: thread };
    await deliver(delta('m-deleted', 1, 'partial', address));
    slack.failNext('chat.update', 'message_not_found');

    // Act
    await deliver(
      envelope('ReplyCompleted.v1', { ...base('m-deleted', address), seq: 2, status: 'ok', text: 'full' }),
    );

    // Assess
    expect(slack.messagesIn(CHANNEL, thread).map((m) => m.text)).toEqual(['partial', 'full']);
  });

  it('drops a reply Slack will never take, and throws on Slack trouble so the bus retries', async () => {
    // Prepare
    const deliver = consumer();

    // Act
    slack.failNext('chat.postMessage', 'restricted_action');
    await deliver(completed('m-refused', 1, 'never shown'));
    slack.failNext('chat.postMessage', 'internal_error');
    const troubled = deliver(completed('m-trouble', 1, 'shown on retry'));

    // Assess
    await expect(troubled).rejects.toThrow('internal_error');
    await deliver(completed('m-trouble', 1, 'shown on retry'));
    expect(slack.messages().filter((m) => m.text === 'shown on retry')).toHaveLength(1);
    expect(slack.messages().filter((m) => m.text === 'never shown')).toHaveLength(0);
  });

  it('uploads reply images into the thread with files.uploadV2 (bytes from S3), once across redeliveries', async () => {
    // Prepare: two images of this user, one key of another user's
    const [red, blue] = [tinyPng(7, 3), tinyPng(4, 4, [20, 40, 220, 255])];
    const keys = [`media/user-1/${randomUUID()}/0.png`, `media/user-1/${randomUUID()}/1.png`];
    await aws.s3Client.send(new PutObjectCommand({ Bucket: aws.bucket, Key: keys[0], Body: red }));
    await aws.s3Client.send(new PutObjectCommand({ Bucket: aws.bucket, Key: keys[1], Body: blue }));
    const deliver = consumer({ images: createReplyImageStore({ client: aws.s3Client, bucket: aws.bucket }) });
    const thread = '1760000000.000301';
    const event = envelope('ReplyCompleted.v1', {
      ...base('m-images', { channel: CHANNEL, threadTs: thread }),
      seq: 1,
      status: 'ok',
      text: 'Here is the page.',
      attachments: [
        { kind: 'image', key: keys[0], contentType: 'image/png', bytes: red.length },
        { kind: 'image', key: 'media/user-2/x/0.png', contentType: 'image/png', bytes: 5 },
        { kind: 'image', key: keys[1], contentType: 'image/png', bytes: blue.length },
      ],
    });
    const filesBefore = slack.files().length;

    // Act
    await deliver(event);
    await deliver(event);

    // Assess
    expect(slack.messagesIn(CHANNEL, thread)).toMatchObject([{ text: 'Here is the page.' }]);
    const shared = slack.files().slice(filesBefore);
    expect(shared.map((f) => [f.filename, f.channel, f.threadTs])).toEqual([
      ['image-1.png', CHANNEL, thread],
      ['image-3.png', CHANNEL, thread],
    ]);
    expect(shared[0]!.bytes.equals(red)).toBe(true);
    expect(shared[1]!.bytes.equals(blue)).toBe(true);
    expect(shared[0]!.altText).toBe("Image 1 of the agent's reply");
    expect(
      slack
        .callsOf('files.completeUploadExternal')
        .slice(-2)
        .map((c) => c.status),
    ).toEqual([200, 200]);
  });

  it('retries only the missing image after Slack trouble, and skips one Slack refuses for good', async () => {
    // Prepare
    const png = tinyPng(5, 5);
    const keys = [`media/user-1/${randomUUID()}/0.png`, `media/user-1/${randomUUID()}/1.png`];
    for (const key of keys) {
      await aws.s3Client.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: png }));
    }
    const deliver = consumer({ images: createReplyImageStore({ client: aws.s3Client, bucket: aws.bucket }) });
    const thread = '1760000000.000302';
    const event = envelope('ReplyCompleted.v1', {
      ...base('m-images-retry', { channel: CHANNEL, threadTs: thread }),
      seq: 1,
      status: 'ok',
      text: 'Two screenshots.',
      attachments: keys.map((key) => ({ kind: 'image', key, contentType: 'image/png', bytes: png.length })),
    });
    const filesBefore = slack.files().length;
    slack.failNext('files.completeUploadExternal', 'internal_error');

    // Act: the first image fails with Slack's own trouble (a platform error is not retried by the client: the bus retries)
    await expect(deliver(event)).rejects.toThrow(/internal_error/);
    slack.failNext('files.getUploadURLExternal', 'invalid_arguments', 1);
    await deliver(event);

    // Assess: image 1 refused for good (skipped), image 2 shared; the text was posted once
    expect(slack.messagesIn(CHANNEL, thread)).toHaveLength(1);
    expect(
      slack
        .files()
        .slice(filesBefore)
        .map((f) => f.filename),
    ).toEqual(['image-2.png']);
  });

  it('drops events whose address is not a Slack one', async () => {
    // Prepare
    const deliver = consumer();
    const callsBefore = slack.calls.length;

    // Act
    await deliver(
      envelope('ReplyCompleted.v1', {
        ...base('m-bad'),
        replyTo: { channel: 'slack', address: { channel: 'not a channel' } },
        seq: 1,
        status: 'ok',
        text: 'x',
      }),
    );

    // Assess
    expect(slack.calls.length).toBe(callsBefore);
  });
});
