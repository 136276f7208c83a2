import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { TaskLauncher } from '../../agent/launchers/task-launcher.ts';
import type { PendingMessages } from '../../agent/runtime/pending-messages.ts';
import type { TaskStateStore } from '../../agent/runtime/task-state.ts';
import { findStoredReply } from '../../agent/turn-records.ts';
import type { Publisher } from '../../bus/index.ts';
import {
  type BusEnvelope,
  EventSources,
  type MessageReceived,
  MessageReceivedSchema,
  type RuntimePreference,
  RuntimePreferenceSchema,
} from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import { chooseRuntime, type RuntimeChoice } from './choose-runtime.ts';

export interface RuntimeSelectorDeps {
  storage: Storage;
  publisher: Publisher;
  taskState: TaskStateStore;
  pending: PendingMessages;
  launcher: TaskLauncher;
  /** Runs one turn on the Lambda runtime: an asynchronous invoke on AWS, the in-process agent locally. */
  runOnLambda: (message: MessageReceived) => Promise<void>;
  /** Environment for a new task: ids only, never secrets (the task reads those itself). */
  launchEnvironment: (userId: string) => Record<string, string>;
  /** Where turns run for users who chose nothing. @default 'lambda' */
  defaultRuntime?: RuntimePreference;
  logger: Logger;
  /** How long to wait for a stopping task to finish before starting the next. @default 15000 */
  stoppingWaitMs?: number;
}

/**
 * The runtime selector: takes every `MessageReceived` and decides where its turn runs. Lambda turns are
 * handed on at once. Fargate turns are queued for the user's task, which is started on demand — exactly
 * once however many messages arrive together, since only the winner of the idle -> starting write
 * launches — while the user sees "Waking up the agent…". If the task cannot start, the queued messages
 * run on Lambda instead, in order; none is dropped.
 */
export function createRuntimeSelector(deps: RuntimeSelectorDeps) {
  const { storage, publisher, taskState, pending, launcher, logger } = deps;
  const stoppingWaitMs = deps.stoppingWaitMs ?? 15_000;

  async function preferenceOf(userId: string): Promise<RuntimePreference> {
    const { Item } = await storage.UserSettingsEntity.build(GetItemCommand).key({ userId }).send();
    const parsed = RuntimePreferenceSchema.safeParse(Item?.runtime);
    return parsed.success ? parsed.data : (deps.defaultRuntime ?? 'lambda');
  }

  async function announceWaking(message: MessageReceived, choice: RuntimeChoice): Promise<void> {
    await publisher
      .publish({
        source: EventSources.agent,
        detailType: 'AgentStatusChanged.v1',
        detail: {
          userId: message.userId,
          conversationId: message.conversationId,
          replyTo: message.replyTo,
          inReplyTo: message.messageId,
          status: 'waking',
          message: `Waking up the agent… (${choice.reason})`,
        },
      })
      .catch((error) => logger.warn('waking status not published', { error: error as Error }));
  }

  /**
   * The task did not start: answer everything it would have taken on Lambda, in arrival order. Each
   * message leaves the queue only once it has been handed on, so a failed hand-off loses nothing.
   */
  async function fallBackToLambda(userId: string): Promise<void> {
    for (const item of await pending.list(userId)) {
      await deps.runOnLambda(item.message);
      await pending.remove(userId, item.seq);
    }
  }

  async function waitWhileStopping(userId: string): Promise<boolean> {
    const giveUpAt = Date.now() + stoppingWaitMs;
    while (Date.now() < giveUpAt) {
      if ((await taskState.get(userId)).status !== 'stopping') return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  }

  async function ensureTask(message: MessageReceived, choice: RuntimeChoice): Promise<void> {
    const { userId } = message;
    let state = await taskState.get(userId);
    if (state.status === 'stopping' && !(await waitWhileStopping(userId))) {
      logger.warn('task still stopping; answering on Lambda', { userId });
      return fallBackToLambda(userId);
    }
    state = await taskState.get(userId);
    if (state.status === 'running' && state.taskId) {
      // The task polls its queue and will take the message. Refresh its idle clock now, so a task that
      // was about to stop for inactivity sees the new message (its stop is conditional on that clock).
      if (await taskState.touch(userId, state.taskId)) return;
      // It stopped between our read and the touch: wait for it to finish, then start a new one.
      if (!(await waitWhileStopping(userId))) return fallBackToLambda(userId);
    }
    await announceWaking(message, choice);
    const start = await taskState.beginStart(userId);
    if (!start.won) return; // another message's delivery is starting it
    const guard = { version: start.state.version };
    let launchedTaskId: string | undefined;
    try {
      const { taskId } = await launcher.start({
        userId,
        environment: deps.launchEnvironment(userId),
        // ECS client tokens are at most 64 characters, and the user id stays out of ECS metadata.
        idempotencyKey: createHash('sha256')
          .update(`${userId}:${start.state.version}`)
          .digest('hex')
          .slice(0, 32),
      });
      launchedTaskId = taskId;
      await taskState.markRunning(userId, taskId, guard);
      logger.info('agent task started', { userId, taskId });
    } catch (error) {
      logger.error('agent task did not start; falling back to Lambda', { userId, error: error as Error });
      // A task that launched but could not be recorded would run, unowned and billed, until it idles out.
      if (launchedTaskId)
        await launcher.stop(launchedTaskId, 'start could not be recorded').catch(() => undefined);
      await taskState.markStartFailed(userId, guard).catch(() => undefined);
      await fallBackToLambda(userId);
    }
  }

  return async function selectRuntime(envelope: BusEnvelope): Promise<void> {
    const parsed = MessageReceivedSchema.safeParse(envelope.detail);
    if (!parsed.success) {
      logger.error('malformed MessageReceived dropped', { eventId: envelope.id });
      return;
    }
    const message = parsed.data;
    if (await findStoredReply(storage, message.messageId)) {
      // Answered already (EventBridge delivered it again): the agent republishes the stored reply.
      return deps.runOnLambda(message);
    }
    const state = await taskState.get(message.userId);
    const choice = chooseRuntime({
      preference: message.runtime ?? (await preferenceOf(message.userId)),
      text: message.text,
      // A stopping task still has the user's earlier messages: later ones must not overtake them.
      taskActive: state.status !== 'idle',
    });
    logger.info('runtime chosen', { userId: message.userId, messageId: message.messageId, ...choice });
    if (choice.runtime === 'lambda') return deps.runOnLambda(message);
    await pending.enqueue(message);
    await ensureTask(message, choice);
  };
}
