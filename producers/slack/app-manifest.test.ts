import { describe, expect, it } from 'vitest';
import { AppManifestError, main, slackAppManifest } from './app-manifest.ts';

describe('the Slack app manifest', () => {
  it('points the events and the slash command at the webhook, with the scopes the channel needs', () => {
    // Act
    const manifest = slackAppManifest({ webhookUrl: 'https://api.example.com/webhooks/slack' });

    // Assess
    expect(manifest.settings.event_subscriptions).toEqual({
      request_url: 'https://api.example.com/webhooks/slack',
      bot_events: ['app_mention', 'message.im'],
    });
    expect(manifest.features.slash_commands[0]).toMatchObject({
      command: '/openclaw',
      url: 'https://api.example.com/webhooks/slack',
    });
    expect(manifest.oauth_config.scopes.bot).toEqual([
      'app_mentions:read',
      'chat:write',
      'commands',
      'files:write',
      'im:history',
    ]);
  });

  it('reads the URL, command and name from the command line', () => {
    // Act
    const printed = JSON.parse(
      main(['--command', '/agent', 'https://api.example.com/webhooks/slack', '--name', 'Claw'], {}),
    ) as ReturnType<typeof slackAppManifest>;

    // Assess
    expect(printed.features.slash_commands[0]?.command).toBe('/agent');
    expect(printed.features.bot_user.display_name).toBe('Claw');
    expect(printed.settings.event_subscriptions.request_url).toBe('https://api.example.com/webhooks/slack');
  });

  it('refuses what Slack would refuse, saying what to give instead', () => {
    // Assess
    expect(() => slackAppManifest({ webhookUrl: 'http://api.example.com/webhooks/slack' })).toThrow(
      AppManifestError,
    );
    expect(() => slackAppManifest({ webhookUrl: 'https://x.example', command: 'openclaw' })).toThrow(
      /slash command/,
    );
    expect(() => main([], {})).toThrow(/Give the webhook URL/);
  });
});
