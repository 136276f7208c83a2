import { z } from 'zod';
import {
  ChannelSchema,
  ConversationIdSchema,
  IsoDateTimeSchema,
  MessageIdSchema,
  UserFacingErrorSchema,
} from './common.ts';
import { ReplyStatusSchema, RuntimePreferenceSchema } from './events.ts';

/*
 * The management REST API behind the web experience (`/v1/...` on the HTTP API, JWT-authorised): request
 * and response bodies. Handlers validate requests with these schemas; `webcomponents/` imports only
 * their types, so zod is never bundled into the browser. Every error is `ApiError` with a 4xx status.
 */

/** Every refusal: a stable `code` for programs and a `message` a person can act on. */
export const ApiErrorSchema = UserFacingErrorSchema;

// Conversation history ------------------------------------------------------------------------------

/** Largest page of `GET /v1/conversations`. */
export const MAX_CONVERSATIONS_PAGE = 100;

/** One past conversation, as the history list shows it. */
export const ConversationSummarySchema = z.object({
  conversationId: ConversationIdSchema,
  /** The first user message, shortened to one line (at most 80 characters). */
  title: z.string().max(120),
  /** The channel it started on (`web`, `telegram`, …). */
  channel: ChannelSchema,
  createdAt: IsoDateTimeSchema,
  updatedAt: IsoDateTimeSchema,
  /** User messages and replies together. */
  messageCount: z.number().int().nonnegative(),
});

/** `GET /v1/conversations?limit=&cursor=`: newest `updatedAt` first. */
export const ConversationListSchema = z.object({
  conversations: z.array(ConversationSummarySchema),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: z.string().max(2048).optional(),
});

/** One message of a stored conversation. A reply carries its user message's id as `inReplyTo`. */
export const HistoryMessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  /** The user message's id (`MessageReceived.messageId`) for both the message and its reply. */
  messageId: MessageIdSchema,
  text: z.string(),
  at: IsoDateTimeSchema,
  /** Replies only. */
  status: ReplyStatusSchema.optional(),
  /** Replies that failed: what the user was told. */
  error: UserFacingErrorSchema.optional(),
});

/** `GET /v1/conversations/{conversationId}`: the summary and its messages, oldest first. */
export const ConversationSchema = ConversationSummarySchema.extend({
  messages: z.array(HistoryMessageSchema),
});

// Settings ----------------------------------------------------------------------------------------------

/** The LLM providers the settings page offers; `openai-compatible` is any OpenAI-style URL (Ollama, vLLM…). */
export const LLM_PROVIDERS = [
  'anthropic',
  'openai',
  'openrouter',
  'deepseek',
  'bedrock',
  'openai-compatible',
] as const;
export const LlmProviderSchema = z.enum(LLM_PROVIDERS);

/** Minutes a user's Fargate task may sit idle before it stops itself. */
export const IdleTimeoutMinutesSchema = z.number().int().min(1).max(120);

/** The user's LLM choice as the API shows it: the key is never returned, only whether one is stored. */
export const LlmSettingsViewSchema = z.object({
  provider: LlmProviderSchema,
  model: z.string().min(1).max(200),
  /** Required for `openai-compatible`; optional override for the others. */
  baseUrl: z.url().optional(),
  apiKeySet: z.boolean(),
});

/** `GET /v1/settings` (and the answer to `PUT`). `null` means "the deployment default". */
export const SettingsViewSchema = z.object({
  llm: LlmSettingsViewSchema.nullable(),
  /** What a user with `llm: null` gets; `null` when the deployment has no LLM configured. */
  defaultLlm: z.object({ provider: z.string(), model: z.string() }).nullable(),
  runtime: RuntimePreferenceSchema.nullable(),
  idleTimeoutMinutes: IdleTimeoutMinutesSchema.nullable(),
});

/**
 * `PUT /v1/settings`: fields left out stay as they are; `null` resets one to the deployment default.
 * `llm.apiKey` is write-only: a string stores (or replaces) the user's key as a secret, `null` deletes it,
 * absent keeps the stored one.
 */
export const SettingsUpdateSchema = z
  .object({
    llm: z
      .object({
        provider: LlmProviderSchema,
        model: z.string().trim().min(1).max(200),
        baseUrl: z.url().optional(),
        apiKey: z.string().min(1).max(1024).nullable().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    runtime: RuntimePreferenceSchema.nullable().optional(),
    idleTimeoutMinutes: IdleTimeoutMinutesSchema.nullable().optional(),
  })
  .strict();

// Linked chat accounts ----------------------------------------------------------------------------------

/** A chat account linked to the signed-in user (through `POST /v1/link-codes` and the bot's `/link`). */
export const LinkedChannelSchema = z.object({
  channel: ChannelSchema,
  channelUserId: z.string().min(1).max(128),
  linkedAt: IsoDateTimeSchema,
});

/** `GET /v1/channels`; `DELETE /v1/channels/{channel}/{channelUserId}` unlinks one (204). */
export const LinkedChannelListSchema = z.object({ links: z.array(LinkedChannelSchema) });

/** `POST /v1/link-codes` (201). */
export const LinkCodeSchema = z.object({
  code: z.string().regex(/^\d{8}$/),
  expiresAt: IsoDateTimeSchema,
  expiresInSeconds: z.number().int().positive(),
  howTo: z.string(),
});

// Custom skills -----------------------------------------------------------------------------------------

/** A skill's name: its folder in the agent workspace, from `name:` in the SKILL.md front matter. */
export const SkillNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -');

/** Upload limits: one SKILL.md, or a zip of a skill folder (SKILL.md at its root or in one top folder). */
export const SKILL_LIMITS = {
  /** A `text/markdown` upload. */
  maxSkillMdBytes: 64 * 1024,
  /** An `application/zip` upload, as sent. */
  maxZipBytes: 1024 * 1024,
  /** All files of a zip, unpacked. */
  maxUnpackedBytes: 4 * 1024 * 1024,
  maxFiles: 100,
  maxSkillsPerUser: 50,
  maxDescriptionChars: 1024,
} as const;

/** A stored skill, as `GET /v1/skills` lists it. */
export const SkillSchema = z.object({
  name: SkillNameSchema,
  description: z.string().max(SKILL_LIMITS.maxDescriptionChars),
  enabled: z.boolean(),
  files: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  updatedAt: IsoDateTimeSchema,
});

/**
 * `GET /v1/skills` -> this. `POST /v1/skills` with a `text/markdown` or `application/zip` body -> the
 * skill (201 new, 200 replaced). `PATCH /v1/skills/{name}` with {@link SkillUpdateSchema} -> the skill.
 * `DELETE /v1/skills/{name}` -> 204.
 */
export const SkillListSchema = z.object({ skills: z.array(SkillSchema) });

export const SkillUpdateSchema = z.object({ enabled: z.boolean() }).strict();
