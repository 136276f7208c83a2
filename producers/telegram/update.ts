import { z } from 'zod';

/**
 * The parts of a Telegram `Update` this bot reads (https://core.telegram.org/bots/api#update). Unknown
 * fields are ignored, so a new Bot API version does not break parsing; everything we use is checked.
 */

const UserSchema = z.object({
  id: z.number().int().positive(),
  is_bot: z.boolean(),
  first_name: z.string().max(256).optional(),
  username: z.string().max(64).optional(),
});

const EntitySchema = z.object({
  type: z.string().max(64),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});

const MessageSchema = z.object({
  message_id: z.number().int().positive(),
  /** Set for messages in a forum topic (with `is_topic_message`) and some replies in supergroups. */
  message_thread_id: z.number().int().positive().optional(),
  is_topic_message: z.boolean().optional(),
  /** Absent for messages sent on behalf of a channel or an anonymous group admin. */
  from: UserSchema.optional(),
  chat: z.object({
    id: z.number().int(),
    type: z.string().max(32),
  }),
  text: z.string().optional(),
  entities: z.array(EntitySchema).max(1_000).optional(),
  reply_to_message: z.object({ from: UserSchema.optional() }).optional(),
});

export const UpdateSchema = z.object({
  update_id: z.number().int().nonnegative(),
  message: MessageSchema.optional(),
});

export type TelegramUpdate = z.infer<typeof UpdateSchema>;
export type TelegramMessage = z.infer<typeof MessageSchema>;

/** Kinds of message content that are not text: a user who sends one in a private chat is told we read text only. */
export const MEDIA_FIELDS = [
  'photo',
  'sticker',
  'voice',
  'audio',
  'video',
  'video_note',
  'animation',
  'document',
  'location',
  'contact',
  'poll',
] as const;

/** Which media field a raw message carries, if any (read from the unparsed JSON: we never parse media). */
export function mediaKindOf(rawMessage: unknown): string | undefined {
  if (typeof rawMessage !== 'object' || rawMessage === null) return undefined;
  return MEDIA_FIELDS.find((field) => Object.hasOwn(rawMessage, field));
}

/** A command at the start of a message: `/name`, `/name@bot_username`, then its argument text. */
export interface BotCommand {
  name: string;
  /** The bot the command names (`/new@my_bot`), lower-case; absent for a bare `/new`. */
  target?: string;
  argument: string;
}

const COMMAND = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+([\s\S]*))?$/;

export function parseCommand(text: string): BotCommand | undefined {
  const match = COMMAND.exec(text.trim());
  if (!match) return undefined;
  return {
    name: match[1]!.toLowerCase(),
    ...(match[2] ? { target: match[2].toLowerCase() } : {}),
    argument: (match[3] ?? '').trim(),
  };
}

/**
 * Whether a group message is meant for the bot: it mentions `@botUsername` or replies to one of the bot's
 * messages. Returns the text without the mention, so the agent reads "what's up" rather than "@bot what's up".
 */
export function addressedText(message: TelegramMessage, botUsername: string | undefined): string | undefined {
  const text = message.text ?? '';
  if (!botUsername) return undefined;
  const wanted = `@${botUsername.toLowerCase()}`;
  const mentions = (message.entities ?? []).filter(
    (entity) =>
      entity.type === 'mention' &&
      text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === wanted,
  );
  const repliedTo = message.reply_to_message?.from;
  const isReplyToBot =
    repliedTo?.is_bot === true && repliedTo.username?.toLowerCase() === botUsername.toLowerCase();
  if (mentions.length === 0 && !isReplyToBot) return undefined;
  // Cut from the end so the earlier offsets stay valid.
  let stripped = text;
  for (const entity of [...mentions].reverse()) {
    stripped = stripped.slice(0, entity.offset) + stripped.slice(entity.offset + entity.length);
  }
  return stripped.trim();
}
