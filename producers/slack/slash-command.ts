import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MAX_MESSAGE_TEXT_CHARS } from '../../schemas/index.ts';
import type { ChannelIngress } from '../shared/channel-ingress.ts';
import { jsonResponse } from '../shared/http.ts';
import type { Identity } from '../shared/identity.ts';
import { isScheduleCommand, type ScheduleCommands } from '../shared/schedule-commands.ts';
import { escapeMrkdwn, notices } from './notices.ts';
import type { SlashCommand } from './payloads.ts';
import { fromSlackMarkup } from './slack-text.ts';

export interface SlashCommandDeps {
  ingress: ChannelIngress;
  identity: Identity;
  logger: Logger;
  /** `schedule`, `schedules`, `unschedule`; without it they answer that jobs are not set up. */
  scheduleCommands?: ScheduleCommands;
}

/** Slack shows an `ephemeral` answer only to the person who typed the command. */
const ephemeral = (text: string) => jsonResponse(200, { response_type: 'ephemeral', text });

/**
 * `/openclaw …`: `help`, `link CODE`, `new`, `status`, `schedule …`, `schedules`, `unschedule <id>`, or anything else as a question for the agent. The
 * answer to the command itself is the HTTP response (ephemeral); a question is published like a message
 * (deduplicated on the `trigger_id`) and its reply is posted to the channel the command was typed in.
 * Subcommands are recognised only as the whole text (`link` plus one word), so "link these two notes" is a
 * question, not a failed link attempt. The exception is `schedule …` (and `schedules`, `unschedule <id>`):
 * its first word makes it a scheduled-job command, whose replies go to this channel.
 */
export function createSlashCommandHandler(deps: SlashCommandDeps) {
  const { ingress, identity, logger } = deps;

  return async function handleSlashCommand(
    command: SlashCommand,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    // Slack escapes & < > in command text (and sends <@U…|name> markup when escaping is on).
    const text = fromSlackMarkup(command.text);
    const [first = '', ...rest] = text.split(/\s+/);
    const word = first.toLowerCase();
    const log = { triggerId: command.trigger_id, channelUserId: command.user_id };

    if (!text || (word === 'help' && rest.length === 0)) return ephemeral(notices.help(command.command));

    if (word === 'link' && rest.length <= 1) {
      const code = rest[0];
      if (!code) return ephemeral(notices.missingCode(command.command));
      const linked = await identity.link('slack', command.user_id, code);
      logger.info('slack link attempt', {
        ...log,
        linked: linked.linked,
        ...(linked.linked ? {} : { reason: linked.reason }),
      });
      if (linked.linked) return ephemeral(notices.linked);
      return ephemeral(
        linked.reason === 'too-many-attempts'
          ? notices.tooManyAttempts
          : notices.invalidCode(command.command),
      );
    }

    if ((word === 'new' || word === 'status') && rest.length === 0) {
      const userId = await identity.resolve('slack', command.user_id);
      if (word === 'status') {
        return ephemeral(userId ? notices.statusLinked : notices.statusStranger(command.command));
      }
      if (!userId) return ephemeral(notices.linkHowTo(command.command));
      const conversationId = await ingress.newConversation('slack', command.channel_id);
      logger.info('slack conversation restarted', { ...log, userId, conversationId });
      return ephemeral(notices.newConversation);
    }

    if (isScheduleCommand(word) && (word === 'schedule' || rest.length <= 1)) {
      const userId = await identity.resolve('slack', command.user_id);
      if (!userId) return ephemeral(notices.linkHowTo(command.command));
      if (!deps.scheduleCommands) return ephemeral(notices.schedulesUnavailable);
      const conversationId = await ingress.currentConversation('slack', command.channel_id);
      const answer = await deps.scheduleCommands.run(
        word,
        text.slice(first.length).trim(),
        {
          userId,
          conversationId,
          replyTo: {
            channel: 'slack',
            address: { channel: command.channel_id, userId: command.user_id, teamId: command.team_id },
          },
        },
        `${command.command} `,
      );
      logger.info('slack schedule command answered', { ...log, userId, command: word });
      return ephemeral(escapeMrkdwn(answer));
    }

    if (text.length > MAX_MESSAGE_TEXT_CHARS) return ephemeral(notices.tooLong(text.length));
    const result = await ingress.submit({
      channel: 'slack',
      channelUserId: command.user_id,
      ...(command.user_name ? { displayName: command.user_name } : {}),
      deliveryId: `command:${command.trigger_id}`,
      // The channel's top level: the same conversation as the bot's direct messages when typed there.
      chatKey: command.channel_id,
      text,
      replyTo: {
        channel: 'slack',
        address: { channel: command.channel_id, userId: command.user_id, teamId: command.team_id },
      },
    });
    switch (result.kind) {
      case 'published':
        logger.info('slack command published', {
          ...log,
          messageId: result.messageId,
          userId: result.userId,
          conversationId: result.conversationId,
        });
        return ephemeral(notices.asked(text));
      case 'duplicate':
        return ephemeral(notices.asked(text));
      case 'in-flight':
        return ephemeral(notices.retryLater);
      case 'stranger':
        logger.info('slack command from a stranger; told how to link', log);
        return ephemeral(notices.linkHowTo(command.command));
    }
  };
}
