import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { createEcsLauncher, startedByForUser, taskRunState } from './ecs-launcher.ts';
import { TaskLaunchError } from './task-launcher.ts';

interface FakeReply {
  status?: number;
  errorType?: string;
  body: Record<string, unknown>;
}
type Operation = 'RunTask' | 'StopTask' | 'DescribeTasks' | 'ListTasks';

const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const ARN = (id: string) => `arn:aws:ecs:us-east-1:111122223333:task/agents/${id}`;

describe('the ECS launcher (loopback fake of the ECS JSON 1.1 API)', () => {
  const calls: { operation: string; input: Record<string, unknown> }[] = [];
  let handlers: Partial<Record<Operation, (input: Record<string, unknown>) => FakeReply>> = {};
  // ECS has no local stand-in; this fake lets the real SDK serialize and parse the wire format.
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
    const operation = String(req.headers['x-amz-target']).replace(TARGET_PREFIX, '');
    calls.push({ operation, input });
    const reply = handlers[operation as Operation]?.(input) ?? {
      status: 400,
      errorType: 'UnknownOperationException',
      body: {},
    };
    res.writeHead(reply.status ?? 200, {
      'content-type': 'application/x-amz-json-1.1',
      ...(reply.errorType ? { 'x-amzn-errortype': reply.errorType } : {}),
    });
    res.end(JSON.stringify(reply.errorType ? { __type: reply.errorType, ...reply.body } : reply.body));
  });
  let client: ECSClient;
  const launcherOptions = () => ({
    client,
    cluster: 'agents',
    taskDefinition: 'openclaw-agent:7',
    containerName: 'agent',
    subnets: ['subnet-a', 'subnet-b'],
    securityGroups: ['sg-1'],
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new ECSClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    calls.length = 0;
    handlers = {};
  });

  it('runs one Fargate Spot task with a public IP, the environment override and a hashed startedBy', async () => {
    // Prepare
    handlers.RunTask = () => ({
      body: { tasks: [{ taskArn: ARN('t1'), lastStatus: 'PROVISIONING' }], failures: [] },
    });
    const launcher = createEcsLauncher(launcherOptions());

    // Act
    const result = await launcher.start({
      userId: 'telegram:12345',
      environment: { OPENCLAW_USER_ID: 'telegram:12345', OPENCLAW_IDLE_MINUTES: '15' },
    });

    // Assess
    expect(result).toEqual({ taskId: ARN('t1') });
    expect(calls).toHaveLength(1);
    const { operation, input } = calls[0]!;
    expect(operation).toBe('RunTask');
    const { clientToken, ...rest } = input;
    expect(typeof clientToken).toBe('string');
    expect(rest).toEqual({
      cluster: 'agents',
      taskDefinition: 'openclaw-agent:7',
      count: 1,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-a', 'subnet-b'],
          securityGroups: ['sg-1'],
          assignPublicIp: 'ENABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: 'agent',
            environment: [
              { name: 'OPENCLAW_USER_ID', value: 'telegram:12345' },
              { name: 'OPENCLAW_IDLE_MINUTES', value: '15' },
            ],
          },
        ],
      },
      startedBy: startedByForUser('telegram:12345'),
      propagateTags: 'TASK_DEFINITION',
      enableExecuteCommand: false,
    });
    expect(rest).not.toHaveProperty('launchType');
    expect(rest.startedBy).toMatch(/^openclaw-[0-9a-f]{27}$/);
    expect(rest.startedBy).not.toContain('12345');
  });

  it('passes the idempotency key as the client token', async () => {
    handlers.RunTask = () => ({ body: { tasks: [{ taskArn: ARN('t2') }] } });
    const launcher = createEcsLauncher({ ...launcherOptions(), startedBy: 'dev' });

    await launcher.start({ userId: 'u1', environment: {}, idempotencyKey: 'start-u1-42' });

    expect(calls[0]?.input).toMatchObject({
      clientToken: 'start-u1-42',
      startedBy: startedByForUser('u1', 'dev'),
    });
    expect(String(calls[0]?.input.startedBy)).toHaveLength(36);
  });

  it('turns a capacity failure reported with HTTP 200 into a retryable TaskLaunchError', async () => {
    handlers.RunTask = () => ({
      body: {
        tasks: [],
        failures: [
          {
            reason:
              'Capacity is unavailable at this time. Please try again later or in a different availability zone',
          },
        ],
      },
    });
    const launcher = createEcsLauncher(launcherOptions());

    const error = await launcher.start({ userId: 'u1', environment: {} }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TaskLaunchError);
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringContaining('Capacity is unavailable'),
    });
  });

  it('treats RESOURCE failures as retryable and a missing task definition as not', async () => {
    const launcher = createEcsLauncher(launcherOptions());
    handlers.RunTask = () => ({ body: { failures: [{ arn: 'x', reason: 'RESOURCE:ENI' }] } });
    await expect(launcher.start({ userId: 'u1', environment: {} })).rejects.toMatchObject({
      retryable: true,
    });

    handlers.RunTask = () => ({ body: { failures: [{ arn: 'x', reason: 'MISSING' }] } });
    await expect(launcher.start({ userId: 'u1', environment: {} })).rejects.toMatchObject({
      name: 'TaskLaunchError',
      retryable: false,
    });
  });

  it('wraps thrown API errors: client faults are final, throttling may pass', async () => {
    const launcher = createEcsLauncher(launcherOptions());
    handlers.RunTask = () => ({ status: 400, errorType: 'AccessDeniedException', body: { message: 'no' } });
    await expect(launcher.start({ userId: 'u1', environment: {} })).rejects.toMatchObject({
      name: 'TaskLaunchError',
      retryable: false,
    });

    handlers.RunTask = () => ({
      status: 400,
      errorType: 'ThrottlingException',
      body: { message: 'slow down' },
    });
    await expect(launcher.start({ userId: 'u1', environment: {} })).rejects.toMatchObject({
      retryable: true,
    });
  });

  it('stops a task with a reason cut to 255 characters', async () => {
    handlers.StopTask = () => ({
      body: { task: { taskArn: ARN('t1'), lastStatus: 'RUNNING', desiredStatus: 'STOPPED' } },
    });
    const launcher = createEcsLauncher(launcherOptions());

    await launcher.stop(ARN('t1'), `idle ${'x'.repeat(300)}`);

    expect(calls).toEqual([
      {
        operation: 'StopTask',
        input: { cluster: 'agents', task: ARN('t1'), reason: `idle ${'x'.repeat(250)}` },
      },
    ]);
  });

  it('treats stopping an unknown task as done, but still reports other errors', async () => {
    const launcher = createEcsLauncher(launcherOptions());
    handlers.StopTask = () => ({
      status: 400,
      errorType: 'InvalidParameterException',
      body: { message: 'The referenced task was not found.' },
    });
    await expect(launcher.stop(ARN('gone'), 'idle')).resolves.toBeUndefined();

    handlers.StopTask = () => ({
      status: 400,
      errorType: 'ClusterNotFoundException',
      body: { message: 'no cluster' },
    });
    await expect(launcher.stop(ARN('gone'), 'idle')).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });

  it('describes 150 tasks in two calls of at most 100 and maps their status, in the order asked', async () => {
    // Prepare: statuses cycle through every ECS value; every 10th id is unknown to ECS
    const statuses = [
      'PROVISIONING',
      'PENDING',
      'ACTIVATING',
      'RUNNING',
      'DEACTIVATING',
      'STOPPING',
      'DEPROVISIONING',
      'STOPPED',
    ];
    const ids = Array.from({ length: 150 }, (_, i) => ARN(`t${i}`));
    const statusOf = (i: number) => statuses[i % statuses.length]!;
    handlers.DescribeTasks = (input) => {
      const asked = input.tasks as string[];
      const known = asked.filter((id) => Number(id.split('/t')[1]) % 10 !== 9);
      return {
        body: {
          // ECS does not promise the order of its answer.
          tasks: known.reverse().map((taskArn) => {
            const i = Number(taskArn.split('/t')[1]);
            return {
              taskArn,
              lastStatus: statusOf(i),
              desiredStatus: statusOf(i) === 'STOPPED' ? 'STOPPED' : 'RUNNING',
              ...(statusOf(i) === 'STOPPED' ? { stoppedReason: 'Your Spot Task was interrupted.' } : {}),
            };
          }),
          failures: asked.filter((id) => !known.includes(id)).map((arn) => ({ arn, reason: 'MISSING' })),
        },
      };
    };
    const launcher = createEcsLauncher(launcherOptions());

    // Act
    const infos = await launcher.describe(ids);

    // Assess
    expect(calls.map((c) => (c.input.tasks as string[]).length)).toEqual([100, 50]);
    expect(calls.every((c) => c.operation === 'DescribeTasks' && c.input.cluster === 'agents')).toBe(true);
    expect(infos.map((info) => info.taskId)).toEqual(ids);
    const expected = {
      PROVISIONING: 'pending',
      PENDING: 'pending',
      ACTIVATING: 'pending',
      RUNNING: 'running',
      DEACTIVATING: 'stopping',
      STOPPING: 'stopping',
      DEPROVISIONING: 'stopping',
    };
    infos.forEach((info, i) => {
      if (i % 10 === 9) expect(info).toEqual({ taskId: ids[i], state: 'stopped', stoppedReason: 'MISSING' });
      else expect(info.state).toBe(expected[statusOf(i) as keyof typeof expected] ?? 'stopped');
    });
    expect(infos[7]).toEqual({
      taskId: ids[7],
      state: 'stopped',
      stoppedReason: 'Your Spot Task was interrupted.',
    });
  });

  it('matches short task ids as well as ARNs, and makes no call for an empty list', async () => {
    handlers.DescribeTasks = () => ({
      body: { tasks: [{ taskArn: ARN('abc'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }] },
    });
    const launcher = createEcsLauncher(launcherOptions());

    expect(await launcher.describe(['abc'])).toEqual([{ taskId: 'abc', state: 'running' }]);
    expect(await launcher.describe([])).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it("lists the live agent tasks page by page, with when each was created, and nobody else's", async () => {
    // Prepare: 150 tasks over two pages; some are someone else's, some were told to stop
    const ids = Array.from({ length: 150 }, (_, i) => ARN(`t${i}`));
    const createdAt = (i: number) => 1_764_000_000 + i + 0.25;
    const ours = startedByForUser('some-user');
    const startedByOf = (i: number) => {
      if (i % 10 === 1) return 'manual-debugging';
      if (i % 10 === 2) return undefined;
      // Shares the prefix's letters, but not the prefix.
      if (i % 10 === 3) return `openclawx-${ours.slice(9)}`;
      return ours;
    };
    const statusOf = (i: number) => {
      if (i % 10 === 4) return { lastStatus: 'RUNNING', desiredStatus: 'STOPPED' };
      if (i % 10 === 5) return { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' };
      if (i % 10 === 6) return { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' };
      return { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' };
    };
    handlers.ListTasks = (input) =>
      input.nextToken === 'page-2'
        ? { body: { taskArns: ids.slice(100) } }
        : { body: { taskArns: ids.slice(0, 100), nextToken: 'page-2' } };
    handlers.DescribeTasks = (input) => ({
      body: {
        tasks: (input.tasks as string[]).map((taskArn) => {
          const i = Number(taskArn.split('/t')[1]);
          const startedBy = startedByOf(i);
          return { taskArn, createdAt: createdAt(i), ...statusOf(i), ...(startedBy ? { startedBy } : {}) };
        }),
      },
    });
    const launcher = createEcsLauncher(launcherOptions());

    // Act
    const listed = await launcher.list();

    // Assess
    const listCalls = calls.filter((c) => c.operation === 'ListTasks').map((c) => c.input);
    expect(listCalls).toEqual([
      { cluster: 'agents', desiredStatus: 'RUNNING', maxResults: 100 },
      { cluster: 'agents', desiredStatus: 'RUNNING', maxResults: 100, nextToken: 'page-2' },
    ]);
    const describeCalls = calls.filter((c) => c.operation === 'DescribeTasks');
    expect(describeCalls.map((c) => (c.input.tasks as string[]).length)).toEqual([100, 50]);
    expect(describeCalls.every((c) => c.input.cluster === 'agents')).toBe(true);
    const expected = ids
      .map((taskId, i) => ({ taskId, i }))
      .filter(({ i }) => ![1, 2, 3, 4, 5].includes(i % 10))
      .map(({ taskId, i }) => ({ taskId, startedAt: Math.round(createdAt(i) * 1000) }));
    expect(listed).toEqual(expected);
    expect(listed).toHaveLength(75);
  });

  it('lists nothing, and describes nothing, for an empty cluster', async () => {
    // Prepare
    handlers.ListTasks = () => ({ body: { taskArns: [] } });
    const launcher = createEcsLauncher({ ...launcherOptions(), startedBy: 'dev' });

    // Act
    const listed = await launcher.list();

    // Assess
    expect(listed).toEqual([]);
    expect(calls.map((c) => c.operation)).toEqual(['ListTasks']);
  });

  it('counts a running task that was told to stop as stopping, until ECS reports it stopped', () => {
    expect(taskRunState({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' })).toBe('stopping');
    expect(taskRunState({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' })).toBe('stopped');
    expect(taskRunState({ lastStatus: 'PROVISIONING', desiredStatus: 'STOPPED' })).toBe('stopping');
    expect(taskRunState({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' })).toBe('running');
    expect(taskRunState({ lastStatus: undefined, desiredStatus: 'RUNNING' })).toBe('pending');
  });

  it('rejects a startedBy prefix ECS would refuse, when the launcher is created', () => {
    expect(() => createEcsLauncher({ ...launcherOptions(), startedBy: 'has space' })).toThrow(
      /startedBy prefix/,
    );
    expect(() => createEcsLauncher({ ...launcherOptions(), startedBy: 'p'.repeat(21) })).toThrow(
      /startedBy prefix/,
    );
  });
});
