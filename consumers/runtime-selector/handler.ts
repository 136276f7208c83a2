import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { TaskLauncher } from '../../agent/launchers/task-launcher.ts';
import type { PendingMessages } from '../../agent/runtime/pending-messages.ts';
import type { TaskStateStore } from '../../agent/runtime/task-state.ts';
import { findStoredReply } from '../../agent/turn-records.ts';
import type { Publisher } from '../../bus/index.ts';
import type { AgentInvocation } from '../../schemas/agent-invocation.ts';
import {
  type AgentStatusChanged,
  type BusEnvelope,
  EventSources,
  type MessageReceived,
  MessageReceivedSchema,
  PendingMessagesWaitingSchema,
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
  /**
   * Hands work to the agent on Lambda without waiting for it: an asynchronous Invoke on AWS, the
   * in-process agent locally.
   */
  invokeAgent: (invocation: AgentInvocation) => Promise<void>;
  /**
   * Environment for a new task: ids and settings only, never secrets (the task reads those itself). May
   * read the user's settings (their idle timeout).
   */
  launchEnvironment: (userId: string) => Record<string, string> | Promise<Record<string, string>>;
  /** Where turns run for users who chose nothing. @default 'lambda' */
  defaultRuntime?: RuntimePreference;
  logger: Logger;
  /** How long to wait for a stopping task to finish before starting the next. @default 15000 */
  stoppingWaitMs?: number;
}

/**
 * The runtime selector: takes every `MessageReceived` and decides where its turn runs. Lambda turns are
 * handed to the agent at once. Fargate turns are queued for the user's task, which is started on demand
 * — exactly once however many messages arrive together, since only the winner of the idle -> starting
 * write launches — while the user sees "Waking up the agent…"; the task marks itself running when it is
 * ready and answers the queue in order. If the task cannot start, the queue is answered on Lambda, by one
 * invocation in order; none is dropped. `PendingMessagesWaiting` events (a task exited with messages
 * left) and the watchdog bring queues that lost their task back here through `resumePending`.
 */
export function createRuntimeSelector(deps: RuntimeSelectorDeps) {
  const { storage, publisher, taskState, pending, launcher, logger } = deps;
  const stoppingWaitMs = deps.stoppingWaitMs ?? 15_000;

  async function preferenceOf(userId: string): Promise<RuntimePreference> {
    const { Item } = await storage.UserSettingsEntity.build(GetItemCommand).key({ userId }).send();
    const parsed = RuntimePreferenceSchema.safeParse(Item?.runtime);
    return parsed.success ? parsed.data : (deps.defaultRuntime ?? 'lambda');
  }

  /** Tells the user where their message runs and why. Best-effort: the reply matters, not this. */
  async function announce(
    message: MessageReceived,
    choice: RuntimeChoice,
    status: AgentStatusChanged['status'],
    text: string,
  ): Promise<void> {
    await publisher
      .publish({
        source: EventSources.agent,
        detailType: 'AgentStatusChanged.v1',
        detail: {
          userId: message.userId,
          conversationId: message.conversationId,
          replyTo: message.replyTo,
          inReplyTo: message.messageId,
          status,
          message: `${text} (${choice.reason})`,
          runtime: { kind: choice.runtime, reason: choice.reason },
        },
      })
      .catch((error) => logger.warn('status not published', { error: error as Error }));
  }

  /**
   * The task did not start: one agent invocation answers the whole queue, oldest first (separate
   * invocations would run side by side and could answer out of order).
   */
  async function fallBackToLambda(userId: string): Promise<void> {
    await deps.invokeAgent({ kind: 'drain-pending', userId });
  }

  async function waitWhileStopping(userId: string): Promise<boolean> {
    const giveUpAt = Date.now() + stoppingWaitMs;
    while (Date.now() < giveUpAt) {
      if ((await taskState.get(userId)).status !== 'stopping') return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  }

  /** Launches the user's task as the winner of `beginStart`, or falls back to Lambda when it cannot. */
  async function launch(userId: string, version: number): Promise<void> {
    const guard = { version };
    let launchedTaskId: string | undefined;
    try {
      const { taskId } = await launcher.start({
        userId,
        environment: await deps.launchEnvironment(userId),
        // ECS client tokens are at most 64 characters, and the user id stays out of ECS metadata.
        idempotencyKey: createHash('sha256').update(`${userId}:${version}`).digest('hex').slice(0, 32),
      });
      launchedTaskId = taskId;
      // Still starting: the container marks itself running once it can take messages.
      if (!(await taskState.recordLaunch(userId, taskId, guard))) {
        const now = await taskState.get(userId);
        // The container was quicker than this write and has claimed the start already: all is well.
        if (now.taskId !== taskId) throw new Error(`start was taken over (task is ${now.status})`);
      }
      logger.info('agent task launched', { userId, taskId });
    } catch (error) {
      logger.error('agent task did not start; answering the queue on Lambda', {
        userId,
        error: error as Error,
      });
      // A task that launched but could not be recorded would run, unowned and billed, until it idles out.
      if (launchedTaskId)
        await launcher.stop(launchedTaskId, 'start could not be recorded').catch(() => undefined);
      // If the start is no longer ours (the watchdog reset it), whoever reset it owns the queue now.
      const failed = await taskState.markStartFailed(userId, guard).then(
        () => true,
        () => false,
      );
      if (failed) await fallBackToLambda(userId);
    }
  }

  /**
   * Makes sure a task will answer the user's queue: an active task already will; an idle user gets one
   * started. `waking` is the message to tell the user about, when a new message is why.
   */
  async function ensureTask(userId: string, waking?: { message: MessageReceived; choice: RuntimeChoice }) {
    let state = await taskState.get(userId);
    if (state.status === 'stopping') {
      if (!(await waitWhileStopping(userId))) {
        logger.warn('task still stopping; answering the queue on Lambda', { userId });
        return fallBackToLambda(userId);
      }
      state = await taskState.get(userId);
    }
    if (state.status === 'running' && state.taskId) {
      // The task polls its queue and will take the message. Refresh its idle clock now, so a task that
      // was about to stop for inactivity sees the new message (its stop is conditional on that clock).
      if (await taskState.touch(userId, state.taskId)) {
        if (waking) await announce(waking.message, waking.choice, 'thinking', 'Thinking…');
        return;
      }
      // It began stopping between our read and the touch: wait for it, then start a new one.
      if (!(await waitWhileStopping(userId))) return fallBackToLambda(userId);
    }
    if (waking) await announce(waking.message, waking.choice, 'waking', 'Waking up the agent…');
    const start = await taskState.beginStart(userId);
    // Lost: another delivery is starting the task, and it will take this message from the queue too.
    if (start.won) await launch(userId, start.state.version);
  }

  async function selectRuntime(message: MessageReceived): Promise<void> {
    if (await findStoredReply(storage, message.messageId)) {
      // Answered already (EventBridge delivered it again): the agent republishes the stored reply.
      return deps.invokeAgent({ kind: 'turn', message });
    }
    const state = await taskState.get(message.userId);
    const choice = chooseRuntime({
      preference: message.runtime ?? (await preferenceOf(message.userId)),
      text: message.text,
      // A stopping task still has the user's earlier messages: later ones must not overtake them.
      taskActive: state.status !== 'idle',
    });
    logger.info('runtime chosen', { userId: message.userId, messageId: message.messageId, ...choice });
    if (choice.runtime === 'lambda') {
      await announce(message, choice, 'thinking', 'Thinking…');
      return deps.invokeAgent({ kind: 'turn', message });
    }
    await pending.enqueue(message);
    await ensureTask(message.userId, { message, choice });
  }

  /**
   * Gives a queue that lost its task a new one (or the Lambda fallback): after a task exited with
   * messages left, a task crashed, or a start got stuck. Does nothing when the queue is empty.
   */
  async function resumePending(userId: string): Promise<void> {
    const [oldest] = await pending.list(userId);
    if (!oldest) return;
    logger.info('resuming queued messages', { userId });
    await ensureTask(userId);
  }

  /** The selector's bus target: `MessageReceived` and `PendingMessagesWaiting`. */
  async function handleEvent(envelope: BusEnvelope): Promise<void> {
    if (envelope['detail-type'] === 'PendingMessagesWaiting.v1') {
      const parsed = PendingMessagesWaitingSchema.safeParse(envelope.detail);
      if (!parsed.success) {
        logger.error('malformed PendingMessagesWaiting dropped', { eventId: envelope.id });
        return;
      }
      const { userId, reason } = parsed.data;
      // A drain that ran out of time goes on on Lambda; a task that exited gets a successor.
      if (reason === 'lambda-drain-continues') return fallBackToLambda(userId);
      return resumePending(userId);
    }
    const parsed = MessageReceivedSchema.safeParse(envelope.detail);
    if (!parsed.success) {
      logger.error('malformed MessageReceived dropped', {
        eventId: envelope.id,
        field: parsed.error.issues[0]?.path.join('.'),
      });
      return;
    }
    await selectRuntime(parsed.data);
  }

  return { handleEvent, resumePending, fallBackToLambda };
}

export type RuntimeSelector = ReturnType<typeof createRuntimeSelector>;
