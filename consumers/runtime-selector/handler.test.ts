import { Logger } from '@aws-lambda-powertools/logger';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LaunchRequest,
  TaskLaunchError,
  type TaskLauncher,
} from '../../agent/launchers/task-launcher.ts';
import { createPendingMessages } from '../../agent/runtime/pending-messages.ts';
import { createTaskStateStore } from '../../agent/runtime/task-state.ts';
import { storeReply } from '../../agent/turn-records.ts';
import type { Publisher } from '../../bus/index.ts';
import type { BusEnvelope, BusEvent, MessageReceived } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createRuntimeSelector } from './handler.ts';

/** A launcher that records starts; `fail` makes the next starts throw like ECS without Spot capacity. */
function recordingLauncher() {
  const starts: LaunchRequest[] = [];
  const stops: string[] = [];
  let fail = false;
  const hooks: { duringStart?: () => Promise<unknown> } = {};
  const launcher: TaskLauncher = {
    async start(request) {
      starts.push(request);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await hooks.duringStart?.();
      if (fail) throw new TaskLaunchError('no Spot capacity', { retryable: true });
      return { taskId: `task-${starts.length}` };
    },
    async stop(taskId) {
      stops.push(taskId);
    },
    async describe(ids) {
      return ids.map((taskId) => ({ taskId, state: 'running' as const }));
    },
  };
  return { launcher, starts, stops, hooks, failNext: () => (fail = true) };
}

describe('the runtime selector (dynalite, recording launcher)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let ids = 0;
  const message = (userId: string, text = 'hello', at = Date.now()): MessageReceived => ({
    userId,
    conversationId: 'conv',
    messageId: `m-${++ids}`,
    text,
    receivedAt: new Date(at + ids).toISOString(),
    replyTo: { channel: 'web', address: { connectionId: 'c=' } },
  });
  const envelope = (detail: unknown) =>
    ({ id: 'e', 'detail-type': 'MessageReceived.v1', detail }) as unknown as BusEnvelope;

  function setup(defaultRuntime: 'lambda' | 'fargate' | 'auto' = 'fargate') {
    const events: BusEvent[] = [];
    const onLambda: MessageReceived[] = [];
    const publisher: Publisher = {
      publish: async (e) => void events.push(...(Array.isArray(e) ? e : [e as BusEvent])),
    };
    const { launcher, starts, stops, hooks, failNext } = recordingLauncher();
    const taskState = createTaskStateStore(aws.storage);
    const pending = createPendingMessages(aws.storage);
    const select = createRuntimeSelector({
      storage: aws.storage,
      publisher,
      taskState,
      pending,
      launcher,
      runOnLambda: async (m) => void onLambda.push(m),
      launchEnvironment: (userId) => ({ USER_ID: userId }),
      defaultRuntime,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const waking = () => events.filter((e) => e.detailType === 'AgentStatusChanged.v1');
    return { select, events, onLambda, starts, stops, hooks, failNext, taskState, pending, waking };
  }

  it('hands Lambda turns straight on and queues nothing', async () => {
    const { select, onLambda, starts, pending } = setup('lambda');
    const input = message('lambda-user');
    await select(envelope(input));
    expect(onLambda.map((m) => m.messageId)).toEqual([input.messageId]);
    expect(starts).toEqual([]);
    expect(await pending.list('lambda-user')).toEqual([]);
  });

  it("follows the user's own runtime setting over the default", async () => {
    const { select, onLambda } = setup('lambda');
    await aws.storage.UserSettingsEntity.build(PutItemCommand)
      .item({ userId: 'wants-fargate', runtime: 'fargate', updatedAt: new Date().toISOString() })
      .send();
    await select(envelope(message('wants-fargate')));
    expect(onLambda).toEqual([]);
  });

  it('starts one task for two simultaneous first messages, queues both in order and says it is waking', async () => {
    // Prepare
    const { select, starts, taskState, pending, waking } = setup('fargate');
    const first = message('busy-user', 'one');
    const second = message('busy-user', 'two');

    // Act
    await Promise.all([select(envelope(first)), select(envelope(second))]);

    // Assess
    expect(starts).toHaveLength(1);
    expect(starts[0]?.environment).toEqual({ USER_ID: 'busy-user' });
    expect((await taskState.get('busy-user')).status).toBe('running');
    expect((await pending.list('busy-user')).map((p) => p.message.text)).toEqual(['one', 'two']);
    expect(waking().map((e) => (e.detail as { status: string }).status)).toEqual(['waking', 'waking']);
    expect((waking()[0]!.detail as { message: string }).message).toContain('Waking up the agent');
  });

  it('does not start another task while one is running', async () => {
    const { select, starts, waking } = setup('fargate');
    await select(envelope(message('steady-user')));
    await select(envelope(message('steady-user')));
    expect(starts).toHaveLength(1);
    expect(waking()).toHaveLength(1);
  });

  it('answers every queued message on Lambda, in order, when the task cannot start', async () => {
    // Prepare
    const { select, onLambda, failNext, taskState, pending } = setup('fargate');
    failNext();
    const first = message('unlucky-user', 'one');
    const second = message('unlucky-user', 'two');

    // Act
    await Promise.all([select(envelope(first)), select(envelope(second))]);

    // Assess
    expect(onLambda.map((m) => m.text)).toEqual(['one', 'two']);
    expect((await taskState.get('unlucky-user')).status).toBe('idle');
    expect(await pending.list('unlucky-user')).toEqual([]);
  });

  it('sends /heavy work to Fargate in auto mode and quick turns to Lambda', async () => {
    const { select, onLambda, starts } = setup('auto');
    await select(envelope(message('auto-user', 'what time is it?')));
    await select(envelope(message('auto-user', '/heavy crawl the docs')));
    expect(onLambda.map((m) => m.text)).toEqual(['what time is it?']);
    expect(starts).toHaveLength(1);
  });

  it('starts a new task for a message that comes after the previous task stopped', async () => {
    // Prepare: a task that ran and stopped for inactivity
    const { select, starts, taskState } = setup('fargate');
    await select(envelope(message('racing-user')));
    await taskState.beginStop('racing-user', 'task-1');
    await taskState.markStopped('racing-user', 'task-1');

    // Act
    await select(envelope(message('racing-user')));

    // Assess
    expect(starts).toHaveLength(2);
    expect((await taskState.get('racing-user')).status).toBe('running');
  });

  it('keeps ECS client tokens short and free of the user id', async () => {
    const { select, starts } = setup('fargate');
    const longUser = `u${'x'.repeat(120)}`;
    await select(envelope(message(longUser)));
    expect(starts[0]?.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
  });

  it('stops a task that launched but whose start could not be recorded, and answers on Lambda', async () => {
    // Prepare: the watchdog gives up on the start while RunTask is still in flight
    const { select, starts, stops, hooks, taskState, onLambda } = setup('fargate');
    hooks.duringStart = () => taskState.resetStuckStart('orphan-user', 0);

    // Act
    await select(envelope(message('orphan-user', 'hi')));

    // Assess
    expect(starts).toHaveLength(1);
    expect(stops).toEqual(['task-1']);
    expect(onLambda.map((m) => m.text)).toEqual(['hi']);
  });

  it('hands a message that was already answered to the agent to republish, instead of queueing it again', async () => {
    // Prepare: the reply to this message is on record (EventBridge delivered the message twice)
    const { select, onLambda, starts, pending } = setup('fargate');
    const input = message('answered-user', 'again?');
    await storeReply(aws.storage, {
      userId: input.userId,
      conversationId: input.conversationId,
      replyTo: input.replyTo,
      inReplyTo: input.messageId,
      seq: 1,
      status: 'ok',
      text: 'done',
    });

    // Act
    await select(envelope(input));

    // Assess
    expect(onLambda.map((m) => m.messageId)).toEqual([input.messageId]);
    expect(starts).toEqual([]);
    expect(await pending.list('answered-user')).toEqual([]);
  });

  it('drops a malformed event with a log line instead of retrying it', async () => {
    const { select, onLambda, starts } = setup('fargate');
    await expect(select(envelope({ userId: 'x' }))).resolves.toBeUndefined();
    expect(onLambda).toEqual([]);
    expect(starts).toEqual([]);
  });
});
