import { z } from 'zod';

/**
 * The parts of a Discord interaction (API v10) the endpoint reads, validated after the signature check.
 * Unknown fields are dropped; anything malformed is refused with 400.
 */

/** Interaction types we handle (Discord's `InteractionType`). */
export const InteractionType = { ping: 1, applicationCommand: 2 } as const;

/** Application command types (Discord's `ApplicationCommandType`). */
export const CommandType = { chatInput: 1, user: 2, message: 3 } as const;

/** Discord ids are snowflakes: unsigned 64-bit integers written as decimal strings. */
export const SnowflakeSchema = z.string().regex(/^\d{1,20}$/, 'must be a Discord snowflake');

/**
 * The interaction token: a credential for answering this interaction for 15 minutes. It goes into URL
 * paths later, so only URL-safe characters, starting with a letter or digit (never `.` or `..`).
 */
export const InteractionTokenSchema = z
  .string()
  .max(1024)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._~+=-]*$/, 'must be a URL-safe token');

const UserSchema = z.object({
  id: SnowflakeSchema,
  username: z.string().max(100).optional(),
  global_name: z.string().max(100).nullish(),
});

const OptionSchema = z.object({
  name: z.string().max(100),
  type: z.number().int(),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

const ResolvedMessageSchema = z.object({
  id: SnowflakeSchema,
  // Messages hold up to 4000 characters (Nitro); empty when they only carry attachments or embeds.
  content: z.string().max(10_000).default(''),
});

export const InteractionSchema = z.object({
  id: SnowflakeSchema,
  application_id: SnowflakeSchema,
  type: z.number().int(),
  token: InteractionTokenSchema,
  guild_id: SnowflakeSchema.optional(),
  channel_id: SnowflakeSchema.optional(),
  channel: z.object({ id: SnowflakeSchema }).optional(),
  /** In a guild: the member who used the command. */
  member: z.object({ user: UserSchema, nick: z.string().max(100).nullish() }).optional(),
  /** In a DM: the user who used the command. */
  user: UserSchema.optional(),
  data: z
    .object({
      name: z.string().max(100),
      type: z.number().int().optional(),
      options: z.array(OptionSchema).max(25).optional(),
      target_id: SnowflakeSchema.optional(),
      resolved: z.object({ messages: z.record(z.string(), ResolvedMessageSchema).optional() }).optional(),
    })
    .optional(),
});

export type Interaction = z.infer<typeof InteractionSchema>;

/** Who used the command: the member's user in a guild, the user in a DM. */
export function senderOf(interaction: Interaction): { id: string; displayName?: string } | undefined {
  const user = interaction.member?.user ?? interaction.user;
  if (!user) return undefined;
  const displayName = interaction.member?.nick ?? user.global_name ?? user.username;
  return { id: user.id, ...(displayName ? { displayName } : {}) };
}

export function channelIdOf(interaction: Interaction): string | undefined {
  return interaction.channel_id ?? interaction.channel?.id;
}

/**
 * The chat a message belongs to, which picks its conversation. A DM is the user's own chat. In a guild
 * channel each member gets their own chat key: everyone there talks to their own agent, and one member's
 * `/new` must not reset another member's conversation.
 */
export function chatKeyOf(interaction: Interaction, userId: string): string {
  const channelId = channelIdOf(interaction);
  return interaction.guild_id && channelId ? `${channelId}:${userId}` : userId;
}

/** A string option's value, if the command carries it. */
export function stringOption(interaction: Interaction, name: string): string | undefined {
  const value = interaction.data?.options?.find((option) => option.name === name)?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The text of the message a message context-menu command was used on. */
export function targetMessageText(interaction: Interaction): string | undefined {
  const targetId = interaction.data?.target_id;
  if (!targetId) return undefined;
  return interaction.data?.resolved?.messages?.[targetId]?.content;
}
