import { z } from 'zod';

/** Largest user message we accept from any channel, in characters. Telegram allows 4096, Slack ~40k. */
export const MAX_MESSAGE_TEXT_CHARS = 32_000;

/** Largest reply text carried on the bus; EventBridge rejects entries over 256 KB. */
export const MAX_REPLY_TEXT_CHARS = 100_000;

/** Identifiers we mint or accept: URL-safe, bounded, no separators that could break a DynamoDB key. */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be URL-safe: letters, digits, _ . : -');

/** The internal user id: one per person, whatever channels they use. */
export const UserIdSchema = IdSchema;

/** A conversation: one OpenClaw session. Chosen by the channel (web: the client; Telegram: the chat). */
export const ConversationIdSchema = IdSchema;

/** A unique id for one message or event, minted by the producer that first saw it. */
export const MessageIdSchema = IdSchema;

/** Channel names are data, not an enum, so a new channel needs no schema change. */
export const ChannelSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,31}$/, 'channel names are lower-case words such as "web" or "telegram"');

/** The channels shipped in this repository. */
export const KNOWN_CHANNELS = ['web', 'telegram', 'discord', 'slack', 'schedule'] as const;

export const IsoDateTimeSchema = z.iso.datetime({ offset: true });

/**
 * Where a reply goes. Channel-neutral on purpose: only the consumer of `channel` reads `address`
 * (a WebSocket connection id, a Telegram chat id, a Slack channel and thread…), and it validates the
 * address with its own schema. Everything between producer and consumer passes it through untouched.
 */
export const ReplyToSchema = z.object({
  channel: ChannelSchema,
  address: z.record(z.string().max(64), z.union([z.string().max(2048), z.number(), z.boolean()])),
});

/** The LLM settings a turn uses. The API key is never here: only a reference to where it is kept. */
export const LlmSettingsSchema = z.object({
  provider: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  api: z.enum(['openai-completions', 'openai-responses', 'anthropic-messages', 'ollama']),
  model: z.string().min(1).max(200),
  baseUrl: z.url().optional(),
  /** Name of the environment variable (or secret) that holds the key, never the key itself. */
  apiKeyRef: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]{0,127}$/)
    .optional(),
});

/** The provider key names a user may refer to; the agent may read only these (and `OPENCLAW_KEY_*`). */
export const LLM_KEY_NAMES = [
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'OPENROUTER_API_KEY',
  'DEEPSEEK_API_KEY',
  'OPENCLAW_LLM_API_KEY',
] as const;
/** A user's own keys: `OPENCLAW_KEY_<NAME>`. */
export const USER_KEY_PREFIX = 'OPENCLAW_KEY_';

/** Key references a user may choose: the known provider names, or their own `OPENCLAW_KEY_*` secrets. */
const USER_KEY_REF = new RegExp(`^(${LLM_KEY_NAMES.join('|')}|${USER_KEY_PREFIX}[A-Z0-9_]{1,64})$`);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * LLM settings a user chose (stored per user, set through the settings API). Stricter than the
 * operator's: the key reference cannot name arbitrary variables (such as AWS credentials) and the
 * base URL must be https, or http on loopback only, so a user cannot send a key to a plain-text or
 * link-local endpoint.
 */
export const UserLlmSettingsSchema = LlmSettingsSchema.extend({
  apiKeyRef: z.string().regex(USER_KEY_REF, 'must be a known key name or OPENCLAW_KEY_<NAME>').optional(),
  baseUrl: z
    .url()
    .refine((value) => {
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    }, 'must be https (http only on 127.0.0.1/localhost)')
    .optional(),
});

/** A failure the user is told about, in words they can act on. */
export const UserFacingErrorSchema = z.object({
  code: z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/),
  message: z.string().min(1).max(2000),
});
