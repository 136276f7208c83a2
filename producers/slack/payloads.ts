import { z } from 'zod';

/**
 * The shapes Slack posts to us, as far as we read them. Slack adds fields freely, so objects keep what they
 * do not name; what we do read is bounded and pattern-checked, because it ends up in keys and addresses.
 */

/** Team, channel, user and bot ids: `T…`, `C…`/`G…`/`D…`, `U…`/`W…`, `B…`. */
export const SlackIdSchema = z.string().regex(/^[A-Z0-9]{2,40}$/, 'not a Slack id');

/** A message timestamp, Slack's message id within a channel: `1712345678.123456`. */
export const SlackTsSchema = z.string().regex(/^\d{1,12}\.\d{1,9}$/, 'not a Slack message ts');

/** Sent once when the Events API request URL is saved: we answer with the challenge. */
export const UrlVerificationSchema = z.object({
  type: z.literal('url_verification'),
  challenge: z.string().min(1).max(512),
});

/** The Events API envelope around every event. */
export const EventCallbackSchema = z.object({
  type: z.literal('event_callback'),
  team_id: SlackIdSchema.optional(),
  api_app_id: z.string().max(40).optional(),
  event_id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'not a Slack event id'),
  /** Whom the event was delivered for: our bot user is the authorization with `is_bot`. */
  authorizations: z
    .array(z.looseObject({ user_id: SlackIdSchema.optional(), is_bot: z.boolean().optional() }))
    .max(100)
    .optional(),
  event: z.looseObject({ type: z.string().min(1).max(64) }),
});

/** `app_mention` and `message` events: someone wrote something where the bot can read it. */
export const ChatEventSchema = z.object({
  type: z.enum(['app_mention', 'message']),
  channel: SlackIdSchema,
  channel_type: z.string().max(32).optional(),
  user: SlackIdSchema.optional(),
  bot_id: z.string().max(40).optional(),
  subtype: z.string().max(64).optional(),
  // Not capped here: an over-long message gets a notice, not a 400 the person never sees.
  text: z.string().default(''),
  ts: SlackTsSchema,
  thread_ts: SlackTsSchema.optional(),
  team: SlackIdSchema.optional(),
  user_profile: z
    .looseObject({
      display_name: z.string().max(200).optional(),
      real_name: z.string().max(200).optional(),
    })
    .optional(),
});

/** A slash command (`/openclaw …`), posted as a form. */
export const SlashCommandSchema = z.object({
  command: z.string().regex(/^\/[\w.-]{1,32}$/, 'not a slash command'),
  text: z.string().default(''),
  team_id: SlackIdSchema,
  channel_id: SlackIdSchema,
  user_id: SlackIdSchema,
  user_name: z.string().max(200).optional(),
  trigger_id: z.string().regex(/^[A-Za-z0-9.]{1,128}$/, 'not a Slack trigger id'),
});

export type EventCallback = z.infer<typeof EventCallbackSchema>;
export type ChatEvent = z.infer<typeof ChatEventSchema>;
export type SlashCommand = z.infer<typeof SlashCommandSchema>;
