// Bus events: what producers publish and consumers receive.

// The management REST API's bodies (/v1/...).
export {
  ApiErrorSchema,
  ConversationListSchema,
  ConversationSchema,
  ConversationSummarySchema,
  HistoryMessageSchema,
  IdleTimeoutMinutesSchema,
  LinkCodeSchema,
  LinkedChannelListSchema,
  LinkedChannelSchema,
  LLM_PROVIDERS,
  LlmProviderSchema,
  LlmSettingsViewSchema,
  MAX_CONVERSATIONS_PAGE,
  SettingsUpdateSchema,
  SettingsViewSchema,
  SKILL_LIMITS,
  SkillListSchema,
  SkillNameSchema,
  SkillSchema,
  SkillUpdateSchema,
} from './api.ts';
// Shared building blocks.
export {
  ChannelSchema,
  ConversationIdSchema,
  IdSchema,
  KNOWN_CHANNELS,
  LlmSettingsSchema,
  MAX_MESSAGE_TEXT_CHARS,
  MAX_REPLY_TEXT_CHARS,
  MessageIdSchema,
  ReplyToSchema,
  UserFacingErrorSchema,
  UserIdSchema,
  UserLlmSettingsSchema,
} from './common.ts';
export type { BusEnvelope, BusEvent, DetailOf, DetailType } from './events.ts';
export {
  AgentStatusChangedSchema,
  AgentStatusSchema,
  DETAIL_TYPES,
  EventCatalog,
  EventSources,
  isDetailType,
  MessageReceivedSchema,
  PendingMessagesWaitingSchema,
  parseDetail,
  ReplyCompletedSchema,
  ReplyDeltaSchema,
  ReplyStatusSchema,
  RuntimePreferenceSchema,
  ScheduleFiredSchema,
} from './events.ts';
// Images in replies: keys, limits and the attachment schema.
export {
  IMAGE_EXTENSIONS,
  type ImageContentType,
  ImageContentTypeSchema,
  isReplyMediaKeyOf,
  MAX_REPLY_IMAGE_BYTES,
  MAX_REPLY_IMAGES,
  REPLY_MEDIA_PREFIX,
  type ReplyAttachment,
  ReplyAttachmentSchema,
  replyImageKey,
  replyMediaUserPrefix,
} from './reply-media.ts';
export type * from './types.ts';
// The web chat's WebSocket protocol.
export {
  AckFrameSchema,
  CLIENT_ACTIONS,
  ClientFrameSchema,
  CompletedFrameSchema,
  DeltaFrameSchema,
  ErrorFrameSchema,
  ImageFrameSchema,
  MAX_WEB_SOCKET_FRAME_BYTES,
  PingFrameSchema,
  PongFrameSchema,
  SendMessageFrameSchema,
  ServerFrameSchema,
  StatusFrameSchema,
  StopFrameSchema,
  StoppingFrameSchema,
} from './web-socket.ts';

// Stored items: the DynamoDB entities live in table.ts, imported directly (it pulls in the AWS SDK).
