import { pathToFileURL } from 'node:url';

/**
 * Prints the Slack app manifest for this deployment, to paste into https://api.slack.com/apps →
 * "Create New App" → "From a manifest" (or an existing app's "App Manifest" page):
 *
 *   node producers/slack/app-manifest.ts https://<api-id>.execute-api.<region>.amazonaws.com/webhooks/slack [--command /openclaw] [--name OpenClaw]
 *
 * The URL may come from SLACK_WEBHOOK_URL instead. The manifest asks for the least the channel needs: read
 * mentions and the bot's direct messages, write messages, one slash command; no interactivity, no tokens.
 */

export interface AppManifestOptions {
  /** The webhook: Events API request URL and the slash command's URL alike. */
  webhookUrl: string;
  /** @default '/openclaw' */
  command?: string;
  /** The app's and the bot user's name. @default 'OpenClaw' */
  name?: string;
}

export class AppManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppManifestError';
  }
}

/** The Slack app manifest (JSON form) for one deployment. */
export function slackAppManifest(options: AppManifestOptions) {
  const command = options.command ?? '/openclaw';
  const name = options.name ?? 'OpenClaw';
  if (!/^https:\/\/\S+$/.test(options.webhookUrl)) {
    throw new AppManifestError(`Slack delivers only to https URLs; got "${options.webhookUrl}"`);
  }
  if (!/^\/[a-z0-9_-]{1,31}$/.test(command)) {
    throw new AppManifestError(
      `A slash command is "/" and up to 31 lower-case letters, digits, - or _; got "${command}"`,
    );
  }
  if (!name.trim() || name.length > 35) throw new AppManifestError('The app name must be 1-35 characters');
  return {
    display_information: {
      name,
      description: 'Your own OpenClaw agent, running on your AWS account.',
    },
    features: {
      // The Messages tab is where people write to the bot directly, and where replies fall back to.
      app_home: {
        home_tab_enabled: false,
        messages_tab_enabled: true,
        messages_tab_read_only_enabled: false,
      },
      bot_user: { display_name: name, always_online: true },
      slash_commands: [
        {
          command,
          url: options.webhookUrl,
          description: 'Ask your agent, or: link CODE, new, status, help',
          usage_hint: '[question] | link CODE | new | status | help',
          should_escape: false,
        },
      ],
    },
    oauth_config: {
      // files:write: reply images (screenshots) are uploaded into the thread.
      scopes: { bot: ['app_mentions:read', 'chat:write', 'commands', 'files:write', 'im:history'] },
    },
    settings: {
      event_subscriptions: { request_url: options.webhookUrl, bot_events: ['app_mention', 'message.im'] },
      interactivity: { is_enabled: false },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    },
  };
}

/** The command line: arguments and environment in, the manifest (pretty JSON) out. */
export function main(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const flagValue = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const flagValues = new Set([flagValue('--command'), flagValue('--name')]);
  const webhookUrl =
    argv.find((arg) => !arg.startsWith('--') && !flagValues.has(arg)) ?? env.SLACK_WEBHOOK_URL;
  if (!webhookUrl) {
    throw new AppManifestError(
      'Give the webhook URL: node producers/slack/app-manifest.ts https://…/webhooks/slack (or set SLACK_WEBHOOK_URL)',
    );
  }
  const command = flagValue('--command') ?? env.SLACK_COMMAND;
  const name = flagValue('--name');
  return JSON.stringify(
    slackAppManifest({ webhookUrl, ...(command ? { command } : {}), ...(name ? { name } : {}) }),
    null,
    2,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(main(process.argv.slice(2)));
  } catch (error) {
    console.error(`app-manifest failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
