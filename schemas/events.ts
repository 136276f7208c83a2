import { z } from 'zod';
import {
  ConversationIdSchema,
  IsoDateTimeSchema,
  MAX_MESSAGE_TEXT_CHARS,
  MAX_REPLY_TEXT_CHARS,
  MessageIdSchema,
  ReplyToSchema,
  UserFacingErrorSchema,
  UserIdSchema,
} from './common.ts';
import { MAX_REPLY_IMAGES, ReplyAttachmentSchema } from './reply-media.ts';

/**
 * Every bus event names its schema version in its `detail-type` (`MessageReceived.v1`), so a breaking
 * change ships as `.v2` next to `.v1` and rules can match either while old producers drain.
 */

/** Fields every event about a conversation carries. */
const ConversationFields = {
  userId: UserIdSchema,
  conversationId: ConversationIdSchema,
  replyTo: ReplyToSchema,
};

export const RuntimePreferenceSchema = z.enum(['lambda', 'fargate', 'auto']);

export const MessageReceivedSchema = z.object({
  ...ConversationFields,
  messageId: MessageIdSchema,
  text: z.string().min(1).max(MAX_MESSAGE_TEXT_CHARS),
  receivedAt: IsoDateTimeSchema,
  /** Who sent it on the channel (for display and audit), distinct from the internal userId. */
  sender: z
    .object({
      channelUserId: z.string().min(1).max(128),
      displayName: z.string().max(200).optional(),
    })
    .optional(),
  /** What the producer knows about where the turn should run; the runtime selector decides. */
  runtime: RuntimePreferenceSchema.optional(),
  /**
   * The conversation's message the sender had seen accepted before sending this one: the agent answers
   * this one after it, waiting a few seconds for it if this one overtook it on the bus
   * (`agent/runtime/predecessor-gate.ts`). A hint from the sender: an unknown id only costs that wait.
   */
  afterMessageId: MessageIdSchema.optional(),
});

/** Streaming text. `text` is cumulative (the whole reply so far): the bus does not keep order, `seq` does. */
export const ReplyDeltaSchema = z.object({
  ...ConversationFields,
  inReplyTo: MessageIdSchema,
  seq: z.number().int().nonnegative(),
  text: z.string().max(MAX_REPLY_TEXT_CHARS),
});

export const ReplyStatusSchema = z.enum(['ok', 'error', 'aborted']);

export const ReplyCompletedSchema = z.object({
  ...ConversationFields,
  inReplyTo: MessageIdSchema,
  /** Highest `seq` any delta of this reply used, so consumers know no later delta will matter. */
  seq: z.number().int().nonnegative(),
  status: ReplyStatusSchema,
  text: z.string().max(MAX_REPLY_TEXT_CHARS),
  error: UserFacingErrorSchema.optional(),
  durationMs: z.number().nonnegative().optional(),
  usage: z
    .object({
      inputTokens: z.number().int().nonnegative().optional(),
      outputTokens: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /** Images the turn made (screenshots): keys in the state bucket, never the bytes. */
  attachments: z.array(ReplyAttachmentSchema).max(MAX_REPLY_IMAGES).optional(),
});

export const AgentStatusSchema = z.enum(['waking', 'thinking', 'working', 'idle', 'stopped']);

export const AgentStatusChangedSchema = z.object({
  ...ConversationFields,
  inReplyTo: MessageIdSchema.optional(),
  status: AgentStatusSchema,
  /** Short human text, e.g. "Waking up the agent…". */
  message: z.string().max(500),
  /** Where the runtime selector sent this message's turn, and why (shown to the user, and logged). */
  runtime: z
    .object({
      kind: z.enum(['lambda', 'fargate']),
      reason: z.string().max(200),
    })
    .optional(),
});

export const ScheduleFiredSchema = z.object({
  userId: UserIdSchema,
  scheduleId: z.string().min(1).max(128),
  firedAt: IsoDateTimeSchema,
  prompt: z.string().min(1).max(MAX_MESSAGE_TEXT_CHARS),
  conversationId: ConversationIdSchema,
  replyTo: ReplyToSchema,
  runtime: RuntimePreferenceSchema.optional(),
  /** 0 (absent) for the schedule's own fire; n for the n-th retry of a run whose turn failed. */
  attempt: z.number().int().min(0).max(10).optional(),
});

/**
 * A user's queued messages have nobody to answer them: their Fargate task exited with messages still
 * waiting (Spot interruption, idle exit racing a new message), or the Lambda drain ran out of time. The
 * runtime selector takes it and starts a task again, or answers the queue on Lambda.
 */
export const PendingMessagesWaitingSchema = z.object({
  userId: UserIdSchema,
  reason: z.enum(['task-exited', 'lambda-drain-continues']),
});

/** Event `source` values: one per producing component. */
export const EventSources = {
  web: 'openclaw.web',
  telegram: 'openclaw.telegram',
  discord: 'openclaw.discord',
  slack: 'openclaw.slack',
  schedule: 'openclaw.schedule',
  scheduler: 'openclaw.scheduler',
  agent: 'openclaw.agent',
} as const;

/** The catalogue: detail-type -> detail schema. The bus, the routing table and the JSON Schema export read it. */
export const EventCatalog = {
  'MessageReceived.v1': MessageReceivedSchema,
  'ReplyDelta.v1': ReplyDeltaSchema,
  'ReplyCompleted.v1': ReplyCompletedSchema,
  'AgentStatusChanged.v1': AgentStatusChangedSchema,
  'ScheduleFired.v1': ScheduleFiredSchema,
  'PendingMessagesWaiting.v1': PendingMessagesWaitingSchema,
} as const;

export type DetailType = keyof typeof EventCatalog;
export type DetailOf<T extends DetailType> = z.infer<(typeof EventCatalog)[T]>;

/** An event as we hand it to `publish()`. */
export type BusEvent<T extends DetailType = DetailType> = {
  [K in T]: { source: string; detailType: K; detail: DetailOf<K> };
}[T];

/** An event as a bus target receives it: the EventBridge envelope. */
export interface BusEnvelope<T extends DetailType = DetailType> {
  version: '0';
  id: string;
  'detail-type': T;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: DetailOf<T>;
}

export const DETAIL_TYPES = Object.keys(EventCatalog) as DetailType[];

export function isDetailType(value: string): value is DetailType {
  return Object.hasOwn(EventCatalog, value);
}

/**
 * Validates a detail against its schema. Throws a ZodError naming the bad field.
 * @example parseDetail('MessageReceived.v1', JSON.parse(raw))
 */
export function parseDetail<T extends DetailType>(detailType: T, detail: unknown): DetailOf<T> {
  return EventCatalog[detailType].parse(detail) as DetailOf<T>;
}
