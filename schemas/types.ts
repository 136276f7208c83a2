import type { z } from 'zod';
import type {
  ApiErrorSchema,
  ConversationListSchema,
  ConversationSchema,
  ConversationSummarySchema,
  HistoryMessageSchema,
  LinkCodeSchema,
  LinkedChannelListSchema,
  LinkedChannelSchema,
  LlmProviderSchema,
  SettingsUpdateSchema,
  SettingsViewSchema,
  SkillListSchema,
  SkillSchema,
} from './api.ts';
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
import type {
  ClientFrameSchema,
  SendMessageFrameSchema,
  ServerFrameSchema,
  StopFrameSchema,
} from './web-socket.ts';

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
export type StopFrame = z.infer<typeof StopFrameSchema>;

// The management REST API (schemas/api.ts).
export type ApiError = z.infer<typeof ApiErrorSchema>;
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;
export type ConversationList = z.infer<typeof ConversationListSchema>;
export type Conversation = z.infer<typeof ConversationSchema>;
export type HistoryMessage = z.infer<typeof HistoryMessageSchema>;
export type LlmProvider = z.infer<typeof LlmProviderSchema>;
export type SettingsView = z.infer<typeof SettingsViewSchema>;
export type SettingsUpdate = z.input<typeof SettingsUpdateSchema>;
export type LinkedChannel = z.infer<typeof LinkedChannelSchema>;
export type LinkedChannelList = z.infer<typeof LinkedChannelListSchema>;
export type LinkCode = z.infer<typeof LinkCodeSchema>;
export type Skill = z.infer<typeof SkillSchema>;
export type SkillList = z.infer<typeof SkillListSchema>;
