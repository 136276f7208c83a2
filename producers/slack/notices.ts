import { MAX_MESSAGE_TEXT_CHARS } from '../../schemas/index.ts';

/**
 * What the Slack app tells people directly (ephemeral answers), in one place so the wording stays
 * consistent. `command` is the slash command as the workspace named it, e.g. `/openclaw`.
 */
export const notices = {
  linkHowTo: (command: string) =>
    "I don't know you yet, so I can't pass this on to an agent. To link your Slack account: sign in to " +
    'your OpenClaw web app, create a link code there (Settings → Link a chat account), and send ' +
    `\`${command} link CODE\` here within five minutes.`,

  help: (command: string) =>
    [
      '*OpenClaw in Slack*',
      '• Mention me in a channel (`@OpenClaw what is…`) or write to me directly; I answer in the thread.',
      `• \`${command} <question>\`: ask from anywhere; the answer appears in this channel.`,
      `• \`${command} new\`: start a fresh conversation here (threads always have their own).`,
      `• \`${command} status\`: is your account linked?`,
      `• \`${command} link CODE\`: link your Slack account with a code from the web app.`,
      `• \`${command} schedule <when> [tz=<zone>] <prompt>\`: a scheduled job whose answers appear in this channel; ` +
        'when: `in 30m`, `in 2h`, `every 15m`, `every day 08:00`, `every weekday 08:00`, `cron(...)`, `rate(...)`, `at(...)`.',
      `• \`${command} schedules\`: your scheduled jobs; \`${command} unschedule <id>\`: delete one.`,
    ].join('\n'),

  emptyMessage: 'I only read text: ask me something in words, e.g. `@OpenClaw what is on my calendar today?`',

  tooLong: (length: number) =>
    `That message is ${length.toLocaleString('en')} characters long; I can take at most ` +
    `${MAX_MESSAGE_TEXT_CHARS.toLocaleString('en')}. Please shorten it or split it up.`,

  asked: (prompt: string) => {
    const preview = prompt.length > 200 ? `${prompt.slice(0, 200)}…` : prompt;
    return `Asked your agent: “${escapeMrkdwn(preview)}”. The answer will appear in this channel.`;
  },

  retryLater: 'Your previous copy of this message is still being sent. Please try again in a moment.',
  unavailable: 'Something went wrong on our side and the message was not sent. Please try again.',

  linked: 'Linked. Your Slack account now talks to your agent: mention me or write to me directly.',
  invalidCode: (command: string) =>
    'That code is not valid (or has expired, after five minutes). Create a new one in the web app and ' +
    `send \`${command} link CODE\` again.`,
  tooManyAttempts: 'Too many wrong codes. Please wait 15 minutes and then try again with a new code.',
  missingCode: (command: string) => `Send the code from the web app with it: \`${command} link 12345678\`.`,

  schedulesUnavailable: 'Scheduled jobs are not set up on this deployment.',

  newConversation:
    'Started a new conversation in this channel. Your agent will not see the earlier messages.',
  statusLinked: 'Your Slack account is linked to your agent.',
  statusStranger: (command: string) => `Your Slack account is not linked yet.\n${notices.linkHowTo(command)}`,
};

/** Slack's mrkdwn needs only these three escaped; everything else in text is shown as typed. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
