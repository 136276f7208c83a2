import { EventSources } from '../schemas/index.ts';
import type { EventPattern } from './pattern-matcher.ts';

/**
 * The routing table: which events go to which target. It is data, read by both the CDK stack (one
 * EventBridge rule per route) and the local bus (in-process dispatch), so local mode and AWS cannot
 * drift apart. A new channel adds one route here for its replies.
 */

/** Names of the handlers a route can target. CDK maps each to a Lambda function, local mode to a function. */
export type TargetId = 'agent' | 'web-consumer';

export interface RetryPolicy {
  /** EventBridge retries a failed delivery this many times. @default 185 on AWS; we choose per route. */
  maximumRetryAttempts: number;
  /** Events older than this are not retried any more. */
  maximumEventAgeSeconds: number;
}

export interface Route {
  /** Rule name; unique, kebab-case. */
  name: string;
  description: string;
  pattern: EventPattern;
  target: TargetId;
  retry: RetryPolicy;
  /** Events that exhaust their retries go to the route's dead-letter queue, never nowhere. */
  deadLetterQueue: true;
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
    name: 'message-received-to-agent',
    description: 'Every user message runs one agent turn.',
    pattern: { source: INGRESS_SOURCES, 'detail-type': ['MessageReceived.v1'] },
    target: 'agent',
    // The turn itself handles LLM failures and tells the user; a retry covers a crashed runtime.
    retry: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 900 },
    deadLetterQueue: true,
  },
  {
    name: 'web-replies-to-web-consumer',
    description: 'Replies and status for the web chat go to its WebSocket connection.',
    pattern: {
      source: [EventSources.agent],
      'detail-type': ['ReplyDelta.v1', 'ReplyCompleted.v1', 'AgentStatusChanged.v1'],
      detail: { replyTo: { channel: ['web'] } },
    },
    target: 'web-consumer',
    // A stale delta is worthless; a completed reply is retried for a few minutes.
    retry: { maximumRetryAttempts: 3, maximumEventAgeSeconds: 300 },
    deadLetterQueue: true,
  },
];
