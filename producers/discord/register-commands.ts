import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  REST,
  type RESTPutAPIApplicationCommandsJSONBody,
  type RESTPutAPIApplicationCommandsResult,
  Routes,
  SlashCommandBuilder,
} from 'discord.js';
import { createSecretReader } from '../../schemas/secrets.ts';
import {
  CommandOptions,
  Commands,
  MAX_JOB_PROMPT_OPTION_CHARS,
  MAX_PROMPT_OPTION_CHARS,
} from './commands.ts';

/**
 * Registers the bot's application commands with Discord (`PUT /applications/{app}/commands`, which
 * replaces the whole set), globally or in one guild (`--guild <id>`: shows at once, handy while testing;
 * global commands can take a while to appear everywhere).
 *
 * @example DISCORD_APPLICATION_ID=… DISCORD_BOT_TOKEN=… node producers/discord/register-commands.ts --guild 123
 */

/** Usable in servers and in the bot's DMs; installed to a server (the bot answers late replies there). */
const WHERE = {
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integrationTypes: [ApplicationIntegrationType.GuildInstall],
};

/** The command set, as Discord's API takes it. */
export function buildCommands(): RESTPutAPIApplicationCommandsJSONBody {
  const slash = (name: string, description: string) =>
    new SlashCommandBuilder()
      .setName(name)
      .setDescription(description)
      .setContexts(WHERE.contexts)
      .setIntegrationTypes(WHERE.integrationTypes);
  return [
    slash(Commands.ask, 'Ask your OpenClaw agent')
      .addStringOption((option) =>
        option
          .setName(CommandOptions.prompt)
          .setDescription('What to ask')
          .setRequired(true)
          .setMaxLength(MAX_PROMPT_OPTION_CHARS),
      )
      .toJSON(),
    new ContextMenuCommandBuilder()
      .setName(Commands.askAboutMessage)
      .setType(ApplicationCommandType.Message)
      .setContexts(WHERE.contexts)
      .setIntegrationTypes(WHERE.integrationTypes)
      .toJSON(),
    slash(Commands.link, 'Link your Discord account to your OpenClaw agent')
      .addStringOption((option) =>
        option
          .setName(CommandOptions.code)
          .setDescription('The code from your OpenClaw web chat')
          .setRequired(true)
          .setMinLength(6)
          .setMaxLength(12),
      )
      .toJSON(),
    slash(Commands.newConversation, 'Start a new conversation with your agent in this chat').toJSON(),
    slash(Commands.status, 'Show whether your Discord account is linked').toJSON(),
    slash(Commands.help, 'What this bot does and how to link your account').toJSON(),
    slash(Commands.schedule, 'Schedule a job for your agent; its replies come to this channel')
      .addStringOption((option) =>
        option
          .setName(CommandOptions.when)
          .setDescription(
            'in 30m, in 2h, every 15m, every day 08:00, every weekday 08:00, cron(...), rate(...), at(...)',
          )
          .setRequired(true)
          .setMaxLength(256),
      )
      .addStringOption((option) =>
        option
          .setName(CommandOptions.prompt)
          .setDescription('What the agent should do each time')
          .setRequired(true)
          .setMaxLength(MAX_JOB_PROMPT_OPTION_CHARS),
      )
      .addStringOption((option) =>
        option
          .setName(CommandOptions.tz)
          .setDescription('Time zone, e.g. Europe/Berlin (default UTC)')
          .setMaxLength(64),
      )
      .toJSON(),
    slash(Commands.schedules, 'List your scheduled jobs').toJSON(),
    slash(Commands.unschedule, 'Delete one of your scheduled jobs')
      .addStringOption((option) =>
        option
          .setName(CommandOptions.id)
          .setDescription('The job id shown by /schedules')
          .setRequired(true)
          .setMinLength(4)
          .setMaxLength(64),
      )
      .toJSON(),
  ];
}

export interface RegisterCommandsOptions {
  rest: REST;
  applicationId: string;
  /** Register in this guild only; global when absent. */
  guildId?: string;
}

export async function registerCommands(
  options: RegisterCommandsOptions,
): Promise<RESTPutAPIApplicationCommandsResult> {
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  return (await options.rest.put(route, { body: buildCommands() })) as RESTPutAPIApplicationCommandsResult;
}

const USAGE = `Registers the Discord bot's commands.
Usage: node producers/discord/register-commands.ts [--guild <guild id>]
Environment: DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN (or SECRETS_PREFIX to read both from SSM),
optional DISCORD_API_BASE (another API base URL, for tests).`;

/** The CLI: returns the process exit code. */
export async function main(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
  out: Pick<Console, 'log' | 'error'> = console,
): Promise<number> {
  let guildId: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--help' || arg === '-h') {
      out.log(USAGE);
      return 0;
    }
    if (arg === '--guild') guildId = argv[++index];
    else if (arg.startsWith('--guild=')) guildId = arg.slice('--guild='.length);
    else {
      out.error(`Unknown argument "${arg}".\n${USAGE}`);
      return 2;
    }
  }
  if (guildId !== undefined && !/^\d{1,20}$/.test(guildId)) {
    out.error('--guild takes a guild id (digits): right-click the server → Copy Server ID.');
    return 2;
  }
  const readSecret = createSecretReader({ env });
  const applicationId = (await readSecret('DISCORD_APPLICATION_ID')) ?? env.DISCORD_APPLICATION_ID;
  const token = await readSecret('DISCORD_BOT_TOKEN');
  if (!applicationId || !/^\d{1,20}$/.test(applicationId) || !token) {
    out.error(`Set DISCORD_APPLICATION_ID (digits) and DISCORD_BOT_TOKEN.\n${USAGE}`);
    return 2;
  }
  const rest = new REST({ ...(env.DISCORD_API_BASE ? { api: env.DISCORD_API_BASE } : {}), timeout: 10_000 });
  rest.setToken(token);
  try {
    const registered = await registerCommands({ rest, applicationId, ...(guildId ? { guildId } : {}) });
    out.log(
      `Registered ${registered.length} commands ${guildId ? `in guild ${guildId}` : 'globally'}: ` +
        registered.map((command) => command.name).join(', '),
    );
    return 0;
  } catch (error) {
    // Discord's own message (e.g. "401: Unauthorized"); the request URL carries no secret here.
    out.error(`Registration failed: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
