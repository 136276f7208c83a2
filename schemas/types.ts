import type { z } from 'zod';
import type { LlmSettingsSchema, ReplyToSchema, UserFacingErrorSchema } from './common.ts';
import type {
  AgentStatusChangedSchema,
  MessageReceivedSchema,
  PendingMessagesWaitingSchema,
  ReplyCompletedSchema,
  ReplyDeltaSchema,
  RuntimePreferenceSchema,
  ScheduleFiredSchema,
} from './events.ts';
import type { ClientFrameSchema, SendMessageFrameSchema, ServerFrameSchema } from './web-socket.ts';

export type ReplyTo = z.infer<typeof ReplyToSchema>;
export type LlmSettings = z.infer<typeof LlmSettingsSchema>;
export type UserFacingError = z.infer<typeof UserFacingErrorSchema>;
export type RuntimePreference = z.infer<typeof RuntimePreferenceSchema>;

export type MessageReceived = z.infer<typeof MessageReceivedSchema>;
export type ReplyDelta = z.infer<typeof ReplyDeltaSchema>;
export type ReplyCompleted = z.infer<typeof ReplyCompletedSchema>;
export type AgentStatusChanged = z.infer<typeof AgentStatusChangedSchema>;
export type ScheduleFired = z.infer<typeof ScheduleFiredSchema>;
export type PendingMessagesWaiting = z.infer<typeof PendingMessagesWaitingSchema>;

export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type SendMessageFrame = z.infer<typeof SendMessageFrameSchema>;
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
