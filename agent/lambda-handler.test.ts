import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus } from '../bus/index.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, MessageReceived, ReplyCompleted } from '../schemas/index.ts';
import { captureOutput, emfLines } from '../test/fixtures/emf.ts';
import { type FakeLlm, startFakeLlm } from '../test/fixtures/fake-llm.ts';
import { startLocalAws } from '../test/fixtures/local-aws.ts';

describe('the agent Lambda entry: its metrics and what it logs', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let llm: FakeLlm;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let workRoot: string;
  const events: BusEnvelope[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    llm = await startFakeLlm();
    const bus = new LocalBus({
      routes: [
        {
          name: 'capture',
          description: 'test',
          pattern: { source: ['openclaw.agent'] },
          target: 'web-consumer',
          delivery: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
        },
      ],
      targets: { 'web-consumer': async (e) => void events.push(e) },
    });
    busEndpoint = await startEventBridgeEndpoint(bus);
    workRoot = await mkdtemp(join(tmpdir(), 'openclaw-lambda-metrics-'));
  }, 120_000);

  afterAll(async () => {
    await busEndpoint?.close();
    await llm?.close();
    await aws?.close();
    await rm(workRoot, { recursive: true, force: true });
  });

  it('publishes latency, tokens and estimated cost as EMF, and logs neither the message, the reply nor the key', async () => {
    // Prepare: the entry reads its wiring from the environment, as on AWS, with logs at INFO and metrics on
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
      OPENCLAW_LLM_PROVIDER: 'openai',
      OPENCLAW_LLM_BASE_URL: llm.baseUrl,
      OPENCLAW_LLM_MODEL: 'gpt-4o-mini',
      OPENCLAW_LLM_API_KEY_REF: 'TEST_LLM_KEY',
      TEST_LLM_KEY: 'sk-test-do-not-log-4711',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'ServerlessOpenClaw/test',
      // Lambda sets it; Powertools counts a cold start only when it says on-demand.
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
    const output = captureOutput();
    const { handler } = await import('./lambda-handler.ts');
    const secretText = 'my bank PIN is 8231 and my diagnosis is private';
    const input: MessageReceived = {
      userId: 'metrics-user',
      conversationId: 'conv-metrics',
      messageId: 'msg-metrics-1',
      text: secretText,
      receivedAt: new Date(Date.now() - 250).toISOString(),
      replyTo: { channel: 'telegram', address: { chatId: 1 } },
    };
    const context = {
      functionName: 'openclaw-prod-AgentLambda-abc',
      getRemainingTimeInMillis: () => 60_000,
      logStreamName: 'stream',
      awsRequestId: 'req-metrics',
    };

    // Act
    try {
      await handler({ kind: 'turn', message: input }, context as unknown as Context);
    } finally {
      output.restore();
    }

    // Assess: the turn was answered with the echo of the secret text
    const reply = events.find((e) => e['detail-type'] === 'ReplyCompleted.v1')?.detail as ReplyCompleted;
    expect(reply).toMatchObject({ status: 'ok' });
    expect(reply.text).toContain(secretText);
    expect(reply.usage?.inputTokens).toBeGreaterThan(0);

    const emf = emfLines(output.text());
    const coldStart = emf.find((line) => 'ColdStart' in line);
    expect(coldStart).toMatchObject({ service: 'agent', function_name: 'agent', ColdStart: 1 });
    expect(coldStart?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'function_name']]);

    const turn = emf.find((line) => 'ReplyLatency' in line);
    expect(turn?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'ServerlessOpenClaw/test',
      Dimensions: [['service']],
    });
    expect(turn?.service).toBe('agent');
    expect(turn?.ReplyLatency).toBeGreaterThanOrEqual(250);
    expect(turn?.InputTokens).toBe(reply.usage?.inputTokens);
    expect(turn?.OutputTokens).toBe(reply.usage?.outputTokens);
    // gpt-4o-mini: $0.15 in, $0.60 out per million tokens
    const tokens = reply.usage as { inputTokens: number; outputTokens: number };
    expect(turn?.EstimatedLlmCostUsd).toBeCloseTo(
      (tokens.inputTokens * 0.15 + tokens.outputTokens * 0.6) / 1e6,
      12,
    );
    expect(turn).not.toHaveProperty('TurnErrors');

    // Logs were written (INFO lines of the turn), but no message text, reply text or key in any of them
    const all = output.text();
    expect(all).toContain('turn finished');
    expect(all).not.toContain(secretText);
    expect(all).not.toContain('8231');
    expect(all).not.toContain('sk-test-do-not-log-4711');
  }, 120_000);
});
