import { LINK_CODE_DIGITS, LINK_CODE_TTL_SECONDS } from '../shared/identity.ts';

/** What the bot says, in one place. Plain text: these go out in the webhook answer, where nobody would see a parse error. */

const EXAMPLE_CODE = '1'.repeat(LINK_CODE_DIGITS);
const MINUTES = Math.round(LINK_CODE_TTL_SECONDS / 60);

/** How a stranger gets access. `webAppUrl` is the deployment's chat page, when configured. */
export function pairingText(webAppUrl?: string): string {
  const where = webAppUrl ? `Sign in at ${webAppUrl}` : 'Sign in to the web chat of this deployment';
  return [
    'This bot answers only the people its owner allows.',
    `To link your Telegram account: ${where}, create a link code there, and send it here within ${MINUTES} minutes:`,
    `/link ${EXAMPLE_CODE}`,
  ].join('\n');
}

export function helpText(linked: boolean, webAppUrl?: string): string {
  return [
    'I am an OpenClaw agent: a personal AI assistant that runs on its owner’s own AWS account. Write to me like to a person; I remember the conversation until you start a new one.',
    '',
    'Commands:',
    '/new – start a fresh conversation',
    '/status – link, conversation, agent and model',
    '/model – show the model; /model <id> to change it, /model reset for the default',
    '/link CODE – link this Telegram account to your web account',
    '/schedule <when> [tz=<zone>] <prompt> – a scheduled job; when: in 30m, in 2h, every 15m, every day 08:00, every weekday 08:00, cron(...), rate(...), at(...)',
    '/schedules – your scheduled jobs; /unschedule <id> – delete one',
    '/help – this text',
    '',
    linked ? 'Your Telegram account is linked: just write.' : pairingText(webAppUrl),
  ].join('\n');
}

export const texts = {
  linked: 'Linked! This Telegram account now talks to your agent. Just write.',
  linkUsage: `Send the link code from the web chat like this: /link ${EXAMPLE_CODE}`,
  linkInvalid: `That code is not valid or has expired. Create a new one in the web chat and send it within ${MINUTES} minutes.`,
  linkTooManyAttempts: 'Too many wrong codes. Wait 15 minutes, then create a new code and try again.',
  linkInGroup: 'For your safety, send /link to me in a private chat, not in a group.',
  newConversation: 'Started a new conversation. The agent will not see the earlier messages of this chat.',
  textOnly: 'I can only read text messages for now. Please write your request as text.',
  tooLong: (max: number) => `That message is too long (more than ${max} characters). Please shorten it.`,
  schedulesUnavailable: 'Scheduled jobs are not set up on this deployment.',
  mentionOnly: 'Yes? Write your request after mentioning me, or reply to one of my messages.',
} as const;
