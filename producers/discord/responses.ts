import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jsonResponse } from '../shared/http.ts';
import { Commands } from './commands.ts';

/** Interaction response types (Discord's `InteractionResponseType`). */
const ResponseType = { pong: 1, channelMessage: 4, deferredChannelMessage: 5 } as const;

/** Message flag: only the user who used the command sees the message. */
const EPHEMERAL = 64;

/** The answer to Discord's PING, which it sends when the endpoint URL is saved and now and then after. */
export const pong = (): APIGatewayProxyStructuredResultV2 => jsonResponse(200, { type: ResponseType.pong });

/**
 * "<bot> is thinking…": the agent's reply replaces it later (edit of the original response, within 15
 * minutes). Discord wants some answer within 3 seconds; this one promises the rest.
 */
export const deferred = (): APIGatewayProxyStructuredResultV2 =>
  jsonResponse(200, { type: ResponseType.deferredChannelMessage });

/** A message only the user sees, with mentions disabled (the text may quote what they typed). */
export const ephemeral = (content: string): APIGatewayProxyStructuredResultV2 =>
  jsonResponse(200, {
    type: ResponseType.channelMessage,
    data: { content: content.slice(0, 2000), flags: EPHEMERAL, allowed_mentions: { parse: [] } },
  });

/** What the bot tells people, in one place. */
export const Texts = {
  stranger: (webAppUrl?: string) =>
    'I only answer people who have linked their Discord account to an OpenClaw agent. ' +
    `Sign in to your OpenClaw web chat${webAppUrl ? ` (${webAppUrl})` : ''}, create a link code there, then send ` +
    `\`/${Commands.link} code:<CODE>\` here within 5 minutes.`,
  linked: `Linked: this Discord account now talks to your OpenClaw agent. Try \`/${Commands.ask}\`.`,
  invalidCode: 'That code is not valid or has expired. Create a new one in the web chat and try again.',
  tooManyAttempts: 'Too many wrong codes. Wait 15 minutes, then try again with a new code.',
  missingCode: `Send the code from the web chat: \`/${Commands.link} code:<CODE>\`.`,
  newConversation:
    'Started a new conversation here: the agent will not remember earlier messages of this chat.',
  status: (conversationId: string) =>
    `Your Discord account is linked to your OpenClaw agent. Conversation here: \`${conversationId}\`.`,
  help:
    'I pass your messages to your own OpenClaw agent.\n' +
    `• \`/${Commands.ask} prompt:<text>\` asks the agent; the answer appears in place of "thinking…".\n` +
    `• Right-click a message → Apps → **${Commands.askAboutMessage}** sends that message's text.\n` +
    `• \`/${Commands.newConversation}\` starts a fresh conversation in this chat.\n` +
    `• \`/${Commands.status}\` shows whether your account is linked.\n` +
    `• \`/${Commands.link} code:<CODE>\` links your Discord account with a code from your OpenClaw web chat.\n` +
    `• \`/${Commands.schedule} when:<when> prompt:<text> [tz:<zone>]\` schedules a job whose replies come to this channel; ` +
    'when: `in 30m`, `in 2h`, `every 15m`, `every day 08:00`, `every weekday 08:00`, `cron(...)`, `rate(...)`, `at(...)`.\n' +
    `• \`/${Commands.schedules}\` lists your jobs; \`/${Commands.unschedule} id:<id>\` deletes one.`,
  emptyPrompt: 'There is no text to send to the agent.',
  emptyTargetMessage: 'That message has no text I could send (only attachments or embeds?).',
  tooLong: (length: number, max: number) => `That is ${length} characters; the agent takes at most ${max}.`,
  noChannel: 'I cannot answer here; try in a server channel or in a direct message with me.',
  unknownCommand: `I do not know that command. Try \`/${Commands.help}\`.`,
  alreadyReceived: 'This request was already received; the answer will appear in its reply.',
  stillSending: 'This request is still being sent. If no answer shows up within a minute, ask again.',
  schedulesUnavailable: 'Scheduled jobs are not set up on this deployment.',
  notSent: 'Sorry, your message could not be passed to the agent. Please try again in a moment.',
} as const;
