/**
 * What one message costs in requests, counted along its code path: the events it puts on the bus, the
 * rule deliveries those cause (matched against the routing table, as EventBridge would), and the
 * DynamoDB, S3 and WebSocket requests each handler on the way makes. The DynamoDB counts are read off the
 * handlers (file references below) and should be updated when those change.
 */
import { matchesPattern } from '../../bus/pattern-matcher.ts';
import { ROUTES, type Route, type TargetId } from '../../bus/routing-table.ts';
import { EventSources } from '../../schemas/events.ts';
import type { UsageProfile } from './profile.ts';

export type Runtime = 'lambda' | 'fargate';
export type Channel = UsageProfile['channel'];

/** One kind of event a message's life puts on the bus, and how many of it. */
export interface PublishedEvent {
  source: string;
  detailType: string;
  count: number;
}

/**
 * DynamoDB request units per step, on demand: an eventually consistent read of ≤ 4 KB is 0.5 RRU, a
 * strongly consistent one 1 RRU, a write 1 WRU per KB.
 */
export const DYNAMO_STEPS = {
  /** producers/*: the sender's record (0.5); the dedupe claim, put then marked published (2). */
  producer: { reads: 0.5, writes: 2 },
  /** runtime-selector/handler.ts: stored reply, task state (consistent), runtime preference. */
  selector: { reads: 2, writes: 0 },
  /** …on Fargate also: the message queued, the task's idle clock touched. */
  selectorFargate: { reads: 0, writes: 2 },
  /**
   * turn-runner.ts: stored reply, LLM settings; the predecessor's stored reply (predecessor-gate.ts, web
   * messages after the first); the session lock taken and released, the attempt counted (ordered-turn.ts;
   * the reply's own writes are per KB).
   */
  turn: { reads: 2, writes: 3 },
  /** container-worker.ts: the queue read, the message marked and deleted, the heartbeat. */
  fargateWorker: { reads: 0.5, writes: 3 },
  /** consumers/web/handler.ts: the user's open connections, for every event delivered. */
  delivery: { reads: 0.5, writes: 0 },
  /** producers/web: $connect stores the connection; $disconnect reads and removes it. */
  webSession: { reads: 0.5, writes: 4 },
  /** watchdog.ts: two Queries of the sparse active-tasks index a sweep, live tasks and queued messages (0.5 RRU each even when empty). */
  watchdogSweep: { reads: 1, writes: 0 },
  /** task-state.ts: begin start, record launch, ready, begin stop, stopped. */
  taskStart: { reads: 1, writes: 5 },
  /** consumers/history: per event (message and reply) the tombstone read, the turn and summary upserts. */
  history: { reads: 1, writes: 4 },
  /** turn-runner.ts: the stop button's AbortRequest, polled once a second while the turn runs (per second). */
  stopPollPerSecond: { reads: 0.5, writes: 0 },
  /** consumers/api/*: one read, about every other call a write. */
  apiRequest: { reads: 0.5, writes: 0.5 },
} as const;

/** The session lock's lease is 30 s, renewed every third of it (agent/session-lock.ts). */
const LOCK_RENEW_SECONDS = 10;

/**
 * The events one message puts on the bus: its MessageReceived, the selector's and the agent's
 * "Thinking…" status (a task that is asleep also announces "Waking up…", counted per start elsewhere),
 * the streamed deltas and the completed reply.
 */
export function eventsPerMessage(profile: UsageProfile): PublishedEvent[] {
  return [
    { source: EventSources[profile.channel], detailType: 'MessageReceived.v1', count: 1 },
    // The selector announces "Thinking…" on Lambda and to a task that is awake; the turn runner again.
    { source: EventSources.agent, detailType: 'AgentStatusChanged.v1', count: 2 },
    { source: EventSources.agent, detailType: 'ReplyDelta.v1', count: profile.replyDeltas },
    { source: EventSources.agent, detailType: 'ReplyCompleted.v1', count: 1 },
  ];
}

/**
 * Rule deliveries per target for `events`, by matching each against every route's pattern exactly as
 * EventBridge does (the same matcher the local bus uses). A target invoked once per delivery.
 */
export function deliveriesOf(
  events: PublishedEvent[],
  channel: Channel,
  routes: readonly Route[] = ROUTES,
): Partial<Record<TargetId, number>> {
  const deliveries: Partial<Record<TargetId, number>> = {};
  for (const event of events) {
    const envelope = {
      version: '0',
      id: 'cost-model',
      source: event.source,
      'detail-type': event.detailType,
      account: '0',
      time: '',
      region: 'us-east-1',
      resources: [],
      detail: { replyTo: { channel, address: {} } },
    };
    for (const route of routes) {
      if (matchesPattern(route.pattern, envelope))
        deliveries[route.target] = (deliveries[route.target] ?? 0) + event.count;
    }
  }
  return deliveries;
}

/** Requests one message causes, on one runtime. */
export interface MessageRequests {
  /** PutEvents entries (each ≤ 64 KB is one billed event). */
  events: number;
  /** Lambda invocations by target id; `agent` on Fargate is 0 (the task answers). */
  invocations: Partial<Record<TargetId | 'producer', number>>;
  readUnits: number;
  writeUnits: number;
  s3Gets: number;
  s3Puts: number;
  /** Frames in and out of the WebSocket API (web channel only): the message, its ack, each delivery. */
  webSocketMessages: number;
  /** Webhook calls to the HTTP API (chat platforms only). */
  httpRequests: number;
  /** Billed seconds of the agent Lambda (0 on Fargate). */
  agentSeconds: number;
}

/**
 * Counts what one message costs in requests.
 * @example messageRequests(parseUsageProfile({}), 'lambda').events // 12 with 8 deltas
 */
export function messageRequests(
  profile: UsageProfile,
  runtime: Runtime,
  routes: readonly Route[] = ROUTES,
): MessageRequests {
  const events = eventsPerMessage(profile);
  const deliveries = deliveriesOf(events, profile.channel, routes);
  const consumer = `${profile.channel}-consumer` as TargetId;
  const delivered = deliveries[consumer] ?? 0;
  const agentSeconds =
    runtime === 'lambda'
      ? profile.agentTurnSeconds + profile.agentColdStartShare * profile.agentColdStartSeconds
      : 0;
  const turnSeconds = runtime === 'lambda' ? agentSeconds : profile.agentTurnSeconds;
  const steps = [
    DYNAMO_STEPS.producer,
    DYNAMO_STEPS.selector,
    DYNAMO_STEPS.turn,
    DYNAMO_STEPS.history,
    { reads: DYNAMO_STEPS.stopPollPerSecond.reads * turnSeconds, writes: 0 },
    { reads: DYNAMO_STEPS.delivery.reads * delivered, writes: 0 },
    // The lock is renewed while the turn runs, and the stored reply is written per KB.
    {
      reads: 0,
      writes: Math.floor(turnSeconds / LOCK_RENEW_SECONDS) + Math.max(1, Math.ceil(profile.replyKb)),
    },
    ...(runtime === 'fargate' ? [DYNAMO_STEPS.selectorFargate, DYNAMO_STEPS.fargateWorker] : []),
  ];
  const web = profile.channel === 'web';
  return {
    events: events.reduce((sum, e) => sum + e.count, 0),
    invocations: {
      producer: 1,
      ...deliveries,
      // The selector invokes the agent Lambda itself (no rule); on Fargate the task answers.
      agent: runtime === 'lambda' ? 1 : 0,
    },
    readUnits: steps.reduce((sum, s) => sum + s.reads, 0),
    writeUnits: steps.reduce((sum, s) => sum + s.writes, 0),
    // agent/session-store.ts: restore (a conditional GET) and save on Lambda; a task restores once at start.
    s3Gets: runtime === 'lambda' ? 1 : 0,
    s3Puts: 1,
    webSocketMessages: web ? 2 + delivered : 0,
    httpRequests: web ? 0 : 1,
    agentSeconds,
  };
}
