import { EventSources } from '../schemas/index.ts';
import type { EventPattern } from './pattern-matcher.ts';

/**
 * The routing table: which events go to which target. It is data, read by both the CDK stack (one
 * EventBridge rule per route) and the local bus (in-process dispatch), so local mode and AWS cannot
 * drift apart. A new channel adds one route here for its replies.
 */

/**
 * Names of the handlers events reach. CDK maps each to a Lambda function, local mode to a function. The
 * agent is no rule's target: the runtime selector invokes it (asynchronously), but its retry settings
 * live here with the others.
 */
export type TargetId =
  | 'runtime-selector'
  | 'agent'
  | 'web-consumer'
  | 'telegram-consumer'
  | 'discord-consumer'
  | 'slack-consumer'
  | 'schedule-producer'
  | 'history';

/**
 * EventBridge's own retries when it cannot invoke a target (throttled, unavailable). It hands a Lambda
 * target over asynchronously, so a handler that *throws* is not covered by this: see `TargetDefinition`.
 */
export interface DeliveryPolicy {
  /** @default 185 on AWS; we choose per route. */
  maximumRetryAttempts: number;
  /** Events older than this are not retried any more. */
  maximumEventAgeSeconds: number;
}

/** How a target's handler is retried when it throws: Lambda's asynchronous-invocation settings. */
export interface TargetDefinition {
  description: string;
  /** Lambda allows 0–2 retries of a failed asynchronous invocation. */
  retryAttempts: 0 | 1 | 2;
  maxEventAgeSeconds: number;
}

export interface Route {
  /** Rule name; unique, kebab-case. */
  name: string;
  description: string;
  pattern: EventPattern;
  target: TargetId;
  delivery: DeliveryPolicy;
}

/**
 * Every target, with its retry settings. Events that exhaust either kind of retry land in the target's
 * dead-letter queue (rule DLQ for delivery failures, Lambda on-failure destination for handler failures):
 * never nowhere. The local bus emulates the handler retries; local delivery itself cannot fail.
 */
export const TARGETS: Readonly<Record<TargetId, TargetDefinition>> = {
  'runtime-selector': {
    description: 'Decides where each message runs (Lambda or the user’s Fargate task) and starts tasks.',
    // Idempotent: queueing is keyed by message, and only one delivery can win a task start.
    retryAttempts: 2,
    maxEventAgeSeconds: 900,
  },
  agent: {
    description: 'Runs one agent turn, or answers a user’s queue in order; invoked by the runtime selector.',
    // The turn answers every failure it can itself; it throws only when its reply could not be
    // published, and a retry then republishes the stored reply (no second LLM call).
    retryAttempts: 2,
    maxEventAgeSeconds: 900,
  },
  'web-consumer': {
    description: 'Posts replies and status to the web chat.',
    // A stale delta is worthless; a completed reply is worth a few minutes of retries.
    retryAttempts: 2,
    maxEventAgeSeconds: 300,
  },
  'telegram-consumer': {
    description: 'Sends replies to Telegram chats, streaming by message edits.',
    // Retries are resumable (reply progress records what was shown), and a completed reply is worth them.
    retryAttempts: 2,
    maxEventAgeSeconds: 900,
  },
  'discord-consumer': {
    description: 'Answers Discord interactions through their webhook, or the channel once the token expired.',
    retryAttempts: 2,
    maxEventAgeSeconds: 900,
  },
  'slack-consumer': {
    description: 'Posts replies in Slack threads, streaming by chat.update.',
    retryAttempts: 2,
    maxEventAgeSeconds: 900,
  },
  'schedule-producer': {
    description: 'Turns a fired schedule into its owner’s MessageReceived.',
    // Deduped on job and fire time: a retry publishes the message once.
    retryAttempts: 2,
    maxEventAgeSeconds: 3600,
  },
  history: {
    description: 'Keeps each user’s conversation history: their messages and the completed replies.',
    // Idempotent and order-independent upserts: a retry writes the same values again.
    retryAttempts: 2,
    maxEventAgeSeconds: 3600,
  },
};

/** A route from the agent's reply events for one channel to that channel's consumer. */
function repliesTo(channel: string, target: TargetId, description: string): Route {
  return {
    name: `${channel}-replies-to-${target}`,
    description,
    pattern: {
      // The schedule producer reports scheduled runs that failed on every attempt on the job's channel.
      source: [EventSources.agent, EventSources.schedule],
      'detail-type': ['ReplyDelta.v1', 'ReplyCompleted.v1', 'AgentStatusChanged.v1'],
      detail: { replyTo: { channel: [channel] } },
    },
    target,
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 900 },
  };
}

const INGRESS_SOURCES = [
  EventSources.web,
  EventSources.telegram,
  EventSources.discord,
  EventSources.slack,
  EventSources.schedule,
];

export const ROUTES: readonly Route[] = [
  {
    name: 'message-received-to-runtime-selector',
    description: 'Every user message goes to the runtime selector, which runs its turn on Lambda or Fargate.',
    pattern: { source: INGRESS_SOURCES, 'detail-type': ['MessageReceived.v1'] },
    target: 'runtime-selector',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 900 },
  },
  {
    name: 'schedule-fired-to-schedule-producer',
    description: 'A fired schedule becomes a message from its owner.',
    pattern: { source: [EventSources.scheduler], 'detail-type': ['ScheduleFired.v1'] },
    target: 'schedule-producer',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 3600 },
  },
  {
    name: 'failed-scheduled-runs-to-schedule-producer',
    description: 'A scheduled run whose turn failed is retried with backoff, then reported to the user.',
    pattern: {
      source: [EventSources.agent],
      'detail-type': ['ReplyCompleted.v1'],
      // `aborted` too: a turn that ran out of time (the LLM unreachable) is a failed run; the producer
      // tells it from a run the user stopped by its error code.
      detail: { inReplyTo: [{ prefix: 'sched-' }], status: ['error', 'aborted'] },
    },
    target: 'schedule-producer',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 3600 },
  },
  {
    name: 'pending-messages-to-runtime-selector',
    description: 'Queued messages whose task exited get a new task, or the Lambda fallback.',
    pattern: { source: [EventSources.agent], 'detail-type': ['PendingMessagesWaiting.v1'] },
    target: 'runtime-selector',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 3600 },
  },
  {
    ...repliesTo(
      'web',
      'web-consumer',
      'Replies and status for the web chat go to its WebSocket connection.',
    ),
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 300 },
  },
  repliesTo('telegram', 'telegram-consumer', 'Replies and status for Telegram chats.'),
  repliesTo('discord', 'discord-consumer', 'Replies for Discord interactions.'),
  repliesTo('slack', 'slack-consumer', 'Replies and status for Slack threads.'),
  {
    // The web chat's own commands (`/schedule`…) are answered by the web producer, which may publish
    // only as openclaw.web; the answer is a ReplyCompleted for the web chat only.
    name: 'web-command-replies-to-web-consumer',
    description: 'Answers of the web chat’s commands (/schedule, /schedules, /unschedule).',
    pattern: {
      source: [EventSources.web],
      'detail-type': ['ReplyCompleted.v1'],
      detail: { replyTo: { channel: ['web'] } },
    },
    target: 'web-consumer',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 300 },
  },
  {
    name: 'messages-to-history',
    description: 'User messages from every channel are kept in their conversation’s history.',
    pattern: { source: INGRESS_SOURCES, 'detail-type': ['MessageReceived.v1'] },
    target: 'history',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 3600 },
  },
  {
    name: 'replies-to-history',
    description: 'Completed replies (never the deltas) are kept next to their user message.',
    pattern: { source: [EventSources.agent], 'detail-type': ['ReplyCompleted.v1'] },
    target: 'history',
    delivery: { maximumRetryAttempts: 20, maximumEventAgeSeconds: 3600 },
  },
];
