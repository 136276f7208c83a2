import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus } from '../../bus/index.ts';
import { startEventBridgeEndpoint } from '../../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { captureOutput, emfLines } from '../../test/fixtures/emf.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';

/**
 * Lambda's Invoke and ECS's ListTasks/DescribeTasks at the protocol level (REST and JSON 1.1), enough
 * for the selector's and watchdog's entries: every invoke is accepted, one agent task is running (and
 * can be stopped).
 */
async function startFakeAwsApis(taskCreatedAt: Date) {
  const invocations: string[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const target = String(request.headers['x-amz-target'] ?? '');
    if (request.url?.includes('/invocations')) {
      invocations.push(body);
      response.writeHead(202).end();
    } else if (target.endsWith('.ListTasks')) {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ taskArns: ['arn:aws:ecs:us-east-1:1:task/c/t1'] }));
    } else if (target.endsWith('.DescribeTasks')) {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify({
          tasks: [
            {
              taskArn: 'arn:aws:ecs:us-east-1:1:task/c/t1',
              startedBy: 'openclaw-someone',
              lastStatus: 'RUNNING',
              desiredStatus: 'RUNNING',
              createdAt: taskCreatedAt.getTime() / 1000,
            },
          ],
        }),
      );
    } else if (target.endsWith('.StopTask')) {
      // No record owns the task, so the watchdog stops it as a zombie.
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ task: { taskArn: 'arn:aws:ecs:us-east-1:1:task/c/t1' } }));
    } else response.writeHead(400).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, invocations, close: () => server.close() };
}

describe('the runtime selector and watchdog Lambda entries: their metrics', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let apis: Awaited<ReturnType<typeof startFakeAwsApis>>;
  const taskCreatedAt = new Date(Date.now() - 3 * 3600_000);

  beforeAll(async () => {
    aws = await startLocalAws();
    busEndpoint = await startEventBridgeEndpoint(new LocalBus({ routes: [], targets: {} }));
    apis = await startFakeAwsApis(taskCreatedAt);
    Object.assign(process.env, {
      TABLE_NAME: 'test-table',
      EVENT_BUS_NAME: 'test',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: busEndpoint.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: apis.endpoint,
      AWS_ENDPOINT_URL_ECS: apis.endpoint,
      AGENT_FUNCTION_NAME: 'agent',
      ECS_CLUSTER: 'c',
      ECS_TASK_DEFINITION: 'td',
      ECS_CONTAINER_NAME: 'agent',
      ECS_SUBNETS: 'subnet-1',
      ECS_SECURITY_GROUPS: 'sg-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'ServerlessOpenClaw/test',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
  }, 60_000);

  afterAll(async () => {
    apis?.close();
    await busEndpoint?.close();
    await aws?.close();
  });

  const context = { functionName: 'openclaw-prod-RuntimeSelector-x' } as Context;
  const message = (n: number, channel: string): BusEnvelope =>
    ({
      version: '0',
      id: `event-${n}`,
      'detail-type': 'MessageReceived.v1',
      source: 'openclaw.telegram',
      account: '1',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: {
        userId: `user-${n}`,
        conversationId: `conv-${n}`,
        messageId: `msg-${n}`,
        text: 'hello there',
        receivedAt: new Date().toISOString(),
        replyTo: { channel, address: { chatId: n } },
      },
    }) as BusEnvelope;

  it('counts each message in one MessagesReceived metric, the channel as metadata, and the cold start once in the shared one', async () => {
    // Prepare
    const { handler } = await import('./lambda.ts');
    const output = captureOutput();

    // Act
    try {
      await handler(message(1, 'telegram'), context);
      await handler(message(2, 'slack'), context);
    } finally {
      output.restore();
    }

    // Assess
    expect(apis.invocations).toHaveLength(2);
    const emf = emfLines(output.text());
    const counts = emf.filter((line) => 'MessagesReceived' in line);
    expect(counts.map((line) => [line.MessagesReceived, line.channel, line.source])).toEqual([
      [1, 'telegram', 'openclaw.telegram'],
      [1, 'slack', 'openclaw.telegram'],
    ]);
    for (const line of counts)
      expect(line._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: 'ServerlessOpenClaw/test',
          Dimensions: [['service']],
          Metrics: [{ Name: 'MessagesReceived', Unit: 'Count' }],
        },
      ]);
    const coldStarts = emf.filter((line) => 'ColdStart' in line);
    expect(coldStarts).toHaveLength(1);
    expect(coldStarts[0]).toMatchObject({ service: 'handlers', function_name: 'handlers' });
    // Nothing but the two metrics' own fields: no user, conversation or text.
    expect(output.text()).not.toContain('hello there');
    expect(output.text()).not.toContain('user-1');
  });

  it('reports the oldest running task’s age from the watchdog’s sweep', async () => {
    // Prepare
    const { watchdogHandler } = await import('./lambda.ts');
    const output = captureOutput();

    // Act
    try {
      await watchdogHandler({}, context);
    } finally {
      output.restore();
    }

    // Assess: about three hours, under the watchdog's own service
    const age = emfLines(output.text()).find((line) => 'OldestTaskAgeSeconds' in line);
    expect(age?.service).toBe('runtime-watchdog');
    expect(age?.OldestTaskAgeSeconds).toBeGreaterThanOrEqual(3 * 3600);
    expect(age?.OldestTaskAgeSeconds).toBeLessThan(3 * 3600 + 60);
  });
});
