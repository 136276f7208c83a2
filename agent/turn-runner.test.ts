import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus, type Route } from '../bus/index.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, LlmSettings, MessageReceived, ReplyCompleted } from '../schemas/index.ts';
import { type FakeLlm, startFakeLlm } from '../test/fixtures/fake-llm.ts';
import { replyWithImage, tinyPng } from '../test/fixtures/images.ts';
import { startLocalAws } from '../test/fixtures/local-aws.ts';
import { loadOpenClaw } from './openclaw-adapter.ts';
import { createReplyImages } from './reply-images.ts';
import { createSessionStore } from './session-store.ts';
import { findStoredReply } from './turn-records.ts';
import { createTurnRunner } from './turn-runner.ts';

/** Everything the agent publishes, captured by a catch-all route on a local bus. */
const captureAgentEvents: Route = {
  name: 'capture',
  description: 'test',
  pattern: { source: ['openclaw.agent'] },
  target: 'web-consumer',
  delivery: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
};

describe('the turn runner, with real OpenClaw turns in this process', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let llm: FakeLlm;
  let slowLlm: FakeLlm;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let workRoot: string;
  const events: BusEnvelope[] = [];
  const adapter = loadOpenClaw();

  const llmSettings = (fake: FakeLlm, model = 'default-model'): LlmSettings => ({
    provider: 'fake',
    api: 'openai-completions',
    model,
    baseUrl: fake.baseUrl,
  });

  const runnerOptions = (
    defaultLlm: LlmSettings,
    reserveMs = 1_000,
    root = workRoot,
    loadAdapter = () => adapter,
  ) => ({
    storage: aws.storage,
    publisher: createPublisher({
      client: new EventBridgeClient(localClientConfig(busEndpoint.endpoint)),
      eventBusName: 'test',
    }),
    sessionStore: createSessionStore({ bucket: aws.bucket, client: aws.s3Client }),
    loadAdapter,
    logger: new Logger({ logLevel: 'SILENT' }),
    workRoot: root,
    defaultLlm,
    owner: 'test',
    reserveMs,
    deltaIntervalMs: 50,
  });
  const runnerWith = (...args: Parameters<typeof runnerOptions>) => createTurnRunner(runnerOptions(...args));

  let ids = 0;
  const message = (userId: string, text: string): MessageReceived => ({
    userId,
    conversationId: `conv-${userId}`,
    messageId: `msg-${userId}-${++ids}`,
    text,
    receivedAt: new Date().toISOString(),
    replyTo: { channel: 'web', address: { connectionId: 'c=' } },
  });
  const completedFor = (messageId: string) =>
    events.find(
      (e) => e['detail-type'] === 'ReplyCompleted.v1' && (e.detail as ReplyCompleted).inReplyTo === messageId,
    )?.detail as ReplyCompleted | undefined;

  beforeAll(async () => {
    aws = await startLocalAws();
    llm = await startFakeLlm();
    slowLlm = await startFakeLlm({ hang: true });
    const bus = new LocalBus({
      routes: [captureAgentEvents],
      targets: { 'web-consumer': async (e) => void events.push(e) },
    });
    busEndpoint = await startEventBridgeEndpoint(bus);
    workRoot = await mkdtemp(join(tmpdir(), 'openclaw-runner-'));
    await adapter;
  }, 120_000);

  afterAll(async () => {
    await busEndpoint?.close();
    await llm?.close();
    await slowLlm?.close();
    await aws?.close();
    await rm(workRoot, { recursive: true, force: true });
  });

  it("uses the user's own model settings over the deployment default", async () => {
    // Prepare
    await aws.storage.UserSettingsEntity.build(PutItemCommand)
      .item({
        userId: 'picky',
        llm: JSON.stringify(llmSettings(llm, 'users-own-model')),
        runtime: 'lambda',
        updatedAt: new Date().toISOString(),
      })
      .send();
    const input = message('picky', 'Which model are you?');

    // Act
    await runnerWith(llmSettings(llm))(input, { deadlineAt: Date.now() + 60_000 });

    // Assess
    expect(llm.requests.at(-1)?.model).toBe('users-own-model');
    expect(completedFor(input.messageId)?.status).toBe('ok');
  }, 90_000);

  it('stores the images of a reply in the blob store and publishes their keys, not their bytes', async () => {
    // Prepare: the model answers with OpenClaw's MEDIA: line naming a PNG in the turn's workspace
    const png = tinyPng(5, 4);
    const painter = await startFakeLlm({ reply: replyWithImage(png) });
    const input = message('painter', 'Take a screenshot');
    const runner = createTurnRunner({
      ...runnerOptions(llmSettings(painter)),
      replyImages: createReplyImages({ client: aws.s3Client, bucket: aws.bucket }),
    });

    // Act
    await runner(input, { deadlineAt: Date.now() + 60_000 }).finally(() => painter.close());

    // Assess
    const completed = completedFor(input.messageId);
    expect(completed).toMatchObject({ status: 'ok', text: 'Here is the screenshot.' });
    expect(completed?.attachments).toEqual([
      {
        kind: 'image',
        key: `media/painter/${input.messageId}/0.png`,
        contentType: 'image/png',
        bytes: png.length,
        width: 5,
        height: 4,
      },
    ]);
    const object = await aws.s3Client.send(
      new GetObjectCommand({ Bucket: aws.bucket, Key: completed!.attachments![0]!.key }),
    );
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(png)).toBe(true);
  }, 90_000);

  it('stops at the deadline and tells the user, instead of waiting on a hung LLM', async () => {
    // Prepare
    const input = message('patient', 'Are you there?');
    const startedAt = Date.now();

    // Act
    await runnerWith(llmSettings(slowLlm), 1_000)(input, { deadlineAt: startedAt + 6_000 });

    // Assess
    const completed = completedFor(input.messageId);
    expect(Date.now() - startedAt).toBeLessThan(6_000 + 1_000);
    expect(completed).toMatchObject({ status: 'aborted', error: { code: 'TURN_TIMEOUT' } });
    expect(completed?.error?.message).toContain('did not finish within 5 seconds');
  }, 60_000);

  it('interrupts a turn on its signal without answering it, so the next runtime answers it in full', async () => {
    // Prepare: the LLM never answers, so the turn is still running when the runtime is told to stop
    const input = message('interrupted', 'Take your time');
    const interrupt = new AbortController();
    const requestsBefore = slowLlm.requests.length;

    // Act
    const turn = runnerWith(llmSettings(slowLlm))(input, {
      deadlineAt: Date.now() + 60_000,
      signal: interrupt.signal,
    });
    const deadline = Date.now() + 30_000;
    while (slowLlm.requests.length === requestsBefore && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const reachedLlm = slowLlm.requests.length > requestsBefore;
    interrupt.abort();
    const outcome = await turn;
    const storedAfterInterrupt = await findStoredReply(aws.storage, input.messageId);

    // Act: the message, handed back, is taken by another runtime
    const retried = await runnerWith(llmSettings(llm))(input, { deadlineAt: Date.now() + 60_000 });

    // Assess
    expect(reachedLlm).toBe(true);
    expect(outcome).toBe('interrupted');
    expect(storedAfterInterrupt).toBeUndefined();
    expect(retried).toBe('answered');
    const completed = events.filter(
      (e) =>
        e['detail-type'] === 'ReplyCompleted.v1' &&
        (e.detail as ReplyCompleted).inReplyTo === input.messageId,
    );
    expect(completed.map((e) => (e.detail as ReplyCompleted).status)).toEqual(['ok']);
  }, 90_000);

  it('interrupts a turn whose signal fires while it is still getting ready', async () => {
    // Prepare: the runtime is told to stop while the turn loads OpenClaw, before it reaches the LLM
    const input = message('interrupted-loading', 'Are you awake?');
    const interrupt = new AbortController();
    const loadAndInterrupt = async () => {
      interrupt.abort();
      return adapter;
    };
    const deadlineAt = Date.now() + 60_000;

    // Act
    const turn = runnerWith(
      llmSettings(slowLlm),
      1_000,
      workRoot,
      loadAndInterrupt,
    )(input, {
      deadlineAt,
      signal: interrupt.signal,
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      turn,
      new Promise<'still running'>((resolve) => {
        // Far from the few seconds an aborted turn takes, and far from the deadline a missed abort waits for.
        timer = setTimeout(() => resolve('still running'), 30_000);
      }),
    ]);
    clearTimeout(timer);

    // Assess
    expect(outcome).toBe('interrupted');
    expect(await findStoredReply(aws.storage, input.messageId)).toBeUndefined();
    await turn;
  }, 90_000);

  it('does not start a turn whose signal is already aborted', async () => {
    // Prepare
    const input = message('interrupted-early', 'Never mind');
    const requestsBefore = llm.requests.length;

    // Act
    const outcome = await runnerWith(llmSettings(llm))(input, {
      deadlineAt: Date.now() + 60_000,
      signal: AbortSignal.abort(),
    });

    // Assess
    expect(outcome).toBe('interrupted');
    expect(llm.requests.length).toBe(requestsBefore);
    expect(await findStoredReply(aws.storage, input.messageId)).toBeUndefined();
  }, 30_000);

  it('answers two simultaneous messages of one user one after the other, both in the session', async () => {
    // Prepare
    const run = runnerWith(llmSettings(llm));
    const a = message('twice', 'First of two');
    const b = message('twice', 'Second of two');

    // Act
    await Promise.all([
      run(a, { deadlineAt: Date.now() + 60_000 }),
      run(b, { deadlineAt: Date.now() + 60_000 }),
    ]);

    // Assess: both answered, and whichever ran second saw the other in its history
    expect(completedFor(a.messageId)?.status).toBe('ok');
    expect(completedFor(b.messageId)?.status).toBe('ok');
    const last = JSON.stringify(llm.requests.at(-1)?.messages);
    expect(last).toContain('First of two');
    expect(last).toContain('Second of two');
  }, 120_000);

  it('keeps one conversation whole when its turns alternate between two runtimes', async () => {
    // Prepare: two warm runtimes (as two Lambda containers) with their own disks, one OpenClaw module
    const containerA = runnerWith(llmSettings(llm), 1_000, join(workRoot, 'container-a'));
    const containerB = runnerWith(llmSettings(llm), 1_000, join(workRoot, 'container-b'));
    const deadline = () => ({ deadlineAt: Date.now() + 60_000 });

    // Act: A, then B, then A again, whose local copy is now stale
    await containerA(message('roaming', 'Turn one on A'), deadline());
    await containerB(message('roaming', 'Turn two on B'), deadline());
    await containerA(message('roaming', 'Turn three on A'), deadline());

    // Assess
    const history = JSON.stringify(llm.requests.at(-1)?.messages);
    expect(history).toContain('Turn one on A');
    expect(history).toContain('Turn two on B');
  }, 120_000);

  it('answers a message EventBridge delivers twice from the stored reply, without a second LLM call', async () => {
    // Prepare
    const run = runnerWith(llmSettings(llm));
    const input = message('redelivered', 'Only once, please');
    const deadline = () => ({ deadlineAt: Date.now() + 60_000 });
    await run(input, deadline());
    const llmCalls = llm.requests.length;

    // Act: the same event again, and once more at the same time as a third copy
    await Promise.all([run(input, deadline()), run(input, deadline())]);

    // Assess
    const replies = events.filter(
      (e) =>
        e['detail-type'] === 'ReplyCompleted.v1' &&
        (e.detail as ReplyCompleted).inReplyTo === input.messageId,
    );
    expect(llm.requests.length).toBe(llmCalls);
    expect(replies).toHaveLength(3);
    expect(new Set(replies.map((r) => JSON.stringify(r.detail))).size).toBe(1);
  }, 120_000);

  it('runs a turn through the Lambda entry, with the deadline from the invocation context', async () => {
    // Prepare: the Lambda entry reads its wiring from the environment, as on AWS
    Object.assign(process.env, {
      TABLE_NAME: 'test-table',
      EVENT_BUS_NAME: 'test',
      STATE_BUCKET: aws.bucket,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: busEndpoint.endpoint,
      OPENCLAW_WORK_ROOT: join(workRoot, 'lambda'),
      OPENCLAW_LLM_BASE_URL: llm.baseUrl,
      OPENCLAW_LLM_MODEL: 'lambda-model',
    });
    const { handler } = await import('./lambda-handler.ts');
    const input = message('lambda-user', 'Hello Lambda');
    const context = {
      getRemainingTimeInMillis: () => 60_000,
      logStreamName: 'stream',
      awsRequestId: 'req-1',
    };

    // Act
    await handler({ kind: 'turn', message: input }, context as unknown as Context);

    // Assess
    expect(completedFor(input.messageId)).toMatchObject({ status: 'ok' });
    expect(llm.requests.at(-1)?.model).toBe('lambda-model');
  }, 90_000);
});
