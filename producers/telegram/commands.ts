import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import type { LlmSettings, RuntimePreference } from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import type { ChannelIngress } from '../shared/channel-ingress.ts';
import type { Identity } from '../shared/identity.ts';
import { isScheduleCommand, type ScheduleCommands } from '../shared/schedule-commands.ts';
import { describeLlm, readUserAgentSettings, resetUserModel, setUserModel } from './model-setting.ts';
import { helpText, pairingText, texts } from './texts.ts';
import type { BotCommand } from './update.ts';

/** The commands this bot answers itself; any other `/word` goes to the agent as text. */
export const BOT_COMMANDS = [
  'start',
  'help',
  'new',
  'status',
  'model',
  'link',
  'schedule',
  'schedules',
  'unschedule',
] as const;

export function isBotCommand(name: string): boolean {
  return (BOT_COMMANDS as readonly string[]).includes(name);
}

/** Who sent a command, and where. */
export interface CommandContext {
  channelUserId: string;
  chatKey: string;
  isPrivate: boolean;
  /** The sender's internal user id; undefined for a stranger. */
  userId: string | undefined;
  /** The chat, and its forum topic: where the replies of a job made here go. */
  chatId: number;
  threadId?: number;
}

export interface CommandDeps {
  storage: Storage;
  identity: Identity;
  ingress: ChannelIngress;
  /** The deployment's default LLM, shown by `/status` and the base of `/model <id>` for users without a setting. */
  defaultLlm: LlmSettings | undefined;
  /** The runtime a user without settings gets; written when `/model` creates their settings. */
  defaultRuntime: RuntimePreference;
  webAppUrl?: string;
  now: () => number;
  /** `/schedule`, `/schedules`, `/unschedule`; without it they answer that jobs are not set up. */
  scheduleCommands?: ScheduleCommands;
}

const TASK_STATUS_TEXT: Record<string, string> = {
  idle: 'idle (a turn starts it when needed)',
  starting: 'starting',
  running: 'running',
  stopping: 'stopping',
};

/** Answers the bot's own commands with the text to send back. */
export function createCommands(deps: CommandDeps) {
  const { storage, identity, ingress } = deps;
  const defaultModelText = () =>
    deps.defaultLlm ? `deployment default (${describeLlm(deps.defaultLlm)})` : 'deployment default';

  async function link(context: CommandContext, rawCode: string): Promise<string> {
    // A code typed in a group is read by everyone there before it is used.
    if (!context.isPrivate) return texts.linkInGroup;
    const code = rawCode.replace(/[\s-]/g, '');
    if (!code) return texts.linkUsage;
    const result = await identity.link('telegram', context.channelUserId, code);
    if (result.linked) return texts.linked;
    return result.reason === 'too-many-attempts' ? texts.linkTooManyAttempts : texts.linkInvalid;
  }

  async function status(context: CommandContext): Promise<string> {
    const { userId } = context;
    if (!userId) return `Linked: no\n\n${pairingText(deps.webAppUrl)}`;
    const [conversationId, settings, task] = await Promise.all([
      ingress.currentConversation('telegram', context.chatKey),
      readUserAgentSettings(storage, userId),
      storage.TaskStateEntity.build(GetItemCommand).key({ userId }).send(),
    ]);
    const allowListed = userId === `telegram:${context.channelUserId}`;
    return [
      `Linked: yes (${allowListed ? "on the deployment's allow-list" : 'to your web account'})`,
      `Conversation: ${conversationId}`,
      `Agent container: ${TASK_STATUS_TEXT[task.Item?.status ?? 'idle'] ?? 'idle'}`,
      `Runtime: ${settings.runtime ? `${settings.runtime} (your setting)` : 'deployment default'}`,
      `Model: ${settings.llm ? `${describeLlm(settings.llm)} (your setting)` : defaultModelText()}`,
    ].join('\n');
  }

  async function model(userId: string, argument: string): Promise<string> {
    if (!argument) {
      const { llm } = await readUserAgentSettings(storage, userId);
      const shown = llm ? `${describeLlm(llm)} (your setting)` : defaultModelText();
      return `Model: ${shown}\nChange it with /model <model id>, or go back to the default with /model reset.`;
    }
    if (/^(reset|default)$/i.test(argument)) {
      await resetUserModel(storage, userId, deps.now());
      return `Your agent uses the ${defaultModelText()} again.`;
    }
    const result = await setUserModel(storage, userId, argument, {
      fallback: deps.defaultLlm,
      defaultRuntime: deps.defaultRuntime,
      now: deps.now(),
    });
    if (result.ok) return `Model set to ${describeLlm(result.llm)}. Your next message uses it.`;
    if (result.reason === 'no-base') {
      return 'No language model is configured to start from. Choose a provider and model in the web settings first.';
    }
    if (result.field === 'model') {
      return 'That does not look like a model id. Example: /model claude-sonnet-4-5';
    }
    return `Your current model setting cannot be reused for a new model (${result.field}). Change it in the web settings.`;
  }

  async function schedule(command: BotCommand, context: CommandContext): Promise<string> {
    const { userId } = context;
    if (!userId) return pairingText(deps.webAppUrl);
    if (!deps.scheduleCommands || !isScheduleCommand(command.name)) return texts.schedulesUnavailable;
    // A job made here answers here: this chat (and topic), in the chat's current conversation.
    const conversationId = await ingress.currentConversation('telegram', context.chatKey);
    return deps.scheduleCommands.run(command.name, command.argument, {
      userId,
      conversationId,
      replyTo: {
        channel: 'telegram',
        address: {
          chatId: context.chatId,
          ...(context.threadId ? { messageThreadId: context.threadId } : {}),
        },
      },
    });
  }

  return {
    /** The answer to `command`; it must be one of `BOT_COMMANDS`. */
    async run(command: BotCommand, context: CommandContext): Promise<string> {
      const linked = context.userId !== undefined;
      switch (command.name) {
        case 'start':
          // A deep link `t.me/<bot>?start=<code>` arrives as `/start <code>`: linking in one tap.
          if (/^\d[\d\s-]*$/.test(command.argument)) return link(context, command.argument);
          return helpText(linked, deps.webAppUrl);
        case 'link':
          return link(context, command.argument);
        case 'status':
          return status(context);
        case 'new':
          if (!context.userId) return pairingText(deps.webAppUrl);
          await ingress.newConversation('telegram', context.chatKey);
          return texts.newConversation;
        case 'model':
          if (!context.userId) return pairingText(deps.webAppUrl);
          return model(context.userId, command.argument);
        case 'schedule':
        case 'schedules':
        case 'unschedule':
          return schedule(command, context);
        default:
          return helpText(linked, deps.webAppUrl);
      }
    },
  };
}

export type Commands = ReturnType<typeof createCommands>;
