import { z } from 'zod';
import {
  ConversationIdSchema,
  MAX_MESSAGE_TEXT_CHARS,
  MessageIdSchema,
  UserFacingErrorSchema,
} from './common.ts';
import { AgentStatusChangedSchema, AgentStatusSchema, ReplyStatusSchema } from './events.ts';
import { ImageContentTypeSchema } from './reply-media.ts';

/**
 * The web chat's wire protocol over API Gateway WebSocket. The gateway picks the route from
 * `action` (route selection expression `$request.body.action`).
 */

/** API Gateway WebSocket frames are at most 128 KB; anything larger never reaches us on AWS. */
export const MAX_WEB_SOCKET_FRAME_BYTES = 128 * 1024;

export const SendMessageFrameSchema = z.object({
  action: z.literal('sendMessage'),
  conversationId: ConversationIdSchema,
  /** Chosen by the client; a resend after a reconnect reuses it, so the server can drop duplicates. */
  clientMessageId: z
    .string()
    .min(8)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  text: z.string().trim().min(1, 'text must not be empty').max(MAX_MESSAGE_TEXT_CHARS),
  /**
   * The `messageId` of this conversation's latest message acked before this one was sent. Bus deliveries
   * can overtake each other; with it, the agent answers the two in the order they were sent.
   */
  afterMessageId: MessageIdSchema.optional(),
});

export const PingFrameSchema = z.object({ action: z.literal('ping') });

/**
 * The stop button: ends the turn answering `messageId` (the id from its `ack`). Only the message's own
 * user can stop it; the turn then completes with status `aborted` and the text so far.
 */
export const StopFrameSchema = z.object({
  action: z.literal('stop'),
  conversationId: ConversationIdSchema,
  messageId: MessageIdSchema,
});

export const ClientFrameSchema = z.discriminatedUnion('action', [
  SendMessageFrameSchema,
  PingFrameSchema,
  StopFrameSchema,
]);
export const CLIENT_ACTIONS = ['sendMessage', 'ping', 'stop'] as const;

export const AckFrameSchema = z.object({
  type: z.literal('ack'),
  clientMessageId: z.string(),
  messageId: MessageIdSchema,
  conversationId: ConversationIdSchema,
  duplicate: z.boolean(),
});

export const ErrorFrameSchema = z.object({
  type: z.literal('error'),
  ...UserFacingErrorSchema.shape,
  clientMessageId: z.string().optional(),
});

export const DeltaFrameSchema = z.object({
  type: z.literal('delta'),
  conversationId: ConversationIdSchema,
  inReplyTo: MessageIdSchema,
  seq: z.number().int(),
  text: z.string(),
});

export const CompletedFrameSchema = z.object({
  type: z.literal('completed'),
  conversationId: ConversationIdSchema,
  inReplyTo: MessageIdSchema,
  seq: z.number().int(),
  status: ReplyStatusSchema,
  text: z.string(),
  error: UserFacingErrorSchema.optional(),
});

export const StatusFrameSchema = z.object({
  type: z.literal('status'),
  conversationId: ConversationIdSchema,
  inReplyTo: MessageIdSchema.optional(),
  status: AgentStatusSchema,
  message: z.string(),
  /** Where the message's turn runs and why, when the runtime selector said so. */
  runtime: AgentStatusChangedSchema.shape.runtime,
});

/**
 * An image of a reply, sent after its `completed` frame: a short-lived URL the server made (presigned
 * GET), never one from the model. Only http(s) URLs pass, so no `javascript:` or `data:` reaches an `<img>`.
 */
export const ImageFrameSchema = z.object({
  type: z.literal('image'),
  conversationId: ConversationIdSchema,
  inReplyTo: MessageIdSchema,
  url: z.url({ protocol: /^https?$/ }).max(4096),
  contentType: ImageContentTypeSchema,
  /** Text for screen readers and for when the URL has expired. */
  alt: z.string().max(200),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});

export const PongFrameSchema = z.object({ type: z.literal('pong') });

/** The answer to `stop`: the request is recorded; the turn's `completed` frame (status `aborted`) follows. */
export const StoppingFrameSchema = z.object({
  type: z.literal('stopping'),
  conversationId: ConversationIdSchema,
  messageId: MessageIdSchema,
});

export const ServerFrameSchema = z.discriminatedUnion('type', [
  AckFrameSchema,
  ErrorFrameSchema,
  DeltaFrameSchema,
  CompletedFrameSchema,
  StatusFrameSchema,
  PongFrameSchema,
  StoppingFrameSchema,
  ImageFrameSchema,
]);
