/**
 * The application commands the Discord endpoint answers. `register-commands.ts` registers them with these
 * names; the endpoint dispatches on them. Kept free of discord.js so the endpoint loads fast (Discord
 * wants its answer within 3 seconds, cold start included).
 */
export const Commands = {
  /** `/ask prompt:<text>`: a message for the agent. */
  ask: 'ask',
  /** Message context menu: sends the message's text to the agent. Context-menu names may have spaces. */
  askAboutMessage: 'Ask OpenClaw',
  /** `/link code:<CODE>`: links this Discord account with a code from the signed-in web chat. */
  link: 'link',
  /** `/new`: the agent starts a fresh conversation in this channel. */
  newConversation: 'new',
  /** `/status`: whether this account is linked, and the conversation in this channel. */
  status: 'status',
  /** `/help`: what the bot does and how to link. */
  help: 'help',
  /** `/schedule when:<when> prompt:<text> [tz:<zone>]`: a scheduled job answering in this channel. */
  schedule: 'schedule',
  /** `/schedules`: the user's scheduled jobs. */
  schedules: 'schedules',
  /** `/unschedule id:<id>`: deletes a scheduled job. */
  unschedule: 'unschedule',
} as const;

/** Option names of the commands above. */
export const CommandOptions = {
  prompt: 'prompt',
  code: 'code',
  when: 'when',
  tz: 'tz',
  id: 'id',
} as const;

/** Longest prompt `/ask` accepts (Discord allows string options up to 6000 characters). */
export const MAX_PROMPT_OPTION_CHARS = 6000;

/** Longest prompt `/schedule` accepts: a job's prompt limit (MAX_PROMPT_CHARS of the job store). */
export const MAX_JOB_PROMPT_OPTION_CHARS = 4000;
