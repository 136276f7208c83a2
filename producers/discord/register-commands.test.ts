import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeDiscordApi,
  startFakeDiscordApi,
  TEST_APPLICATION_ID,
  TEST_GUILD_ID,
} from '../../test/fixtures/fake-discord-api.ts';
import { main } from './register-commands.ts';

describe('registering the Discord commands (fake Discord API)', () => {
  let discord: FakeDiscordApi;
  const output = { lines: [] as string[], errors: [] as string[] };
  const out = {
    log: (line: string) => output.lines.push(line),
    error: (line: string) => output.errors.push(line),
  };

  beforeAll(async () => {
    discord = await startFakeDiscordApi({ botToken: 'bot-token' });
  });
  afterAll(() => discord.close());

  const env = () => ({
    DISCORD_APPLICATION_ID: TEST_APPLICATION_ID,
    DISCORD_BOT_TOKEN: 'bot-token',
    DISCORD_API_BASE: discord.base,
  });

  it('puts the whole command set into a guild with the bot token', async () => {
    // Act
    const code = await main(['--guild', TEST_GUILD_ID], env(), out);

    // Assess
    expect(code).toBe(0);
    const request = discord.requests.find(
      (r) => r.path === `/applications/${TEST_APPLICATION_ID}/guilds/${TEST_GUILD_ID}/commands`,
    );
    expect(request).toMatchObject({ method: 'PUT', status: 200, authorization: 'Bot bot-token' });
    const commands = discord.commands.get(`guild:${TEST_GUILD_ID}`) as { name: string; type: number }[];
    expect(commands.map((command) => [command.name, command.type])).toEqual([
      ['ask', 1],
      ['Ask OpenClaw', 3],
      ['link', 1],
      ['new', 1],
      ['status', 1],
      ['help', 1],
      ['schedule', 1],
      ['schedules', 1],
      ['unschedule', 1],
    ]);
    expect(commands.find((command) => command.name === 'schedule')).toMatchObject({
      options: [
        { name: 'when', type: 3, required: true },
        { name: 'prompt', type: 3, required: true, max_length: 4000 },
        { name: 'tz', type: 3 },
      ],
    });
    expect(commands[0]).toMatchObject({
      options: [{ name: 'prompt', type: 3, required: true, max_length: 6000 }],
      contexts: [0, 1],
    });
    expect(output.lines.at(-1)).toContain(`in guild ${TEST_GUILD_ID}`);
  });

  it('registers globally without --guild', async () => {
    // Act
    const code = await main([], env(), out);

    // Assess
    expect(code).toBe(0);
    expect(discord.commands.get('global')).toHaveLength(9);
  });

  it('says what to set when the application id or token is missing, or the guild id is not one', async () => {
    // Act
    const noToken = await main([], { DISCORD_APPLICATION_ID: TEST_APPLICATION_ID }, out);
    const badGuild = await main(['--guild', 'my-server'], env(), out);

    // Assess
    expect(noToken).toBe(2);
    expect(badGuild).toBe(2);
    expect(output.errors.join('\n')).toContain('DISCORD_BOT_TOKEN');
  });

  it('reports a token Discord refuses, without crashing', async () => {
    // Act
    const code = await main([], { ...env(), DISCORD_BOT_TOKEN: 'wrong' }, out);

    // Assess
    expect(code).toBe(1);
    expect(output.errors.at(-1)).toContain('Unauthorized');
  });
});
