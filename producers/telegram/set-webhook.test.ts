import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTelegramApi, startFakeTelegramApi } from '../../test/fixtures/fake-telegram-api.ts';
import { main } from './set-webhook.ts';

const TOKEN = '111:set-webhook-token';
const SECRET = 'hook-secret-abcdef';

describe('the set-webhook command line', () => {
  let fake: FakeTelegramApi;
  beforeAll(async () => {
    fake = await startFakeTelegramApi({ token: TOKEN });
  });
  afterAll(() => fake.close());

  const env = (extra: Record<string, string> = {}) => ({
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_API_ROOT: fake.apiRoot,
    ...extra,
  });

  it('sets the webhook with the secret token and the handled update types, printing neither secret', async () => {
    // Act
    const output = await main(['https://api.example.com/webhooks/telegram', '--drop-pending-updates'], env());

    // Assess
    expect(fake.webhook).toEqual({
      url: 'https://api.example.com/webhooks/telegram',
      secret_token: SECRET,
      allowed_updates: ['message'],
      drop_pending_updates: true,
    });
    expect(output).toContain('Webhook set: https://api.example.com/webhooks/telegram');
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(SECRET);
  });

  it('takes the URL from TELEGRAM_WEBHOOK_URL', async () => {
    // Act
    await main([], env({ TELEGRAM_WEBHOOK_URL: 'https://other.example.com/webhooks/telegram' }));

    // Assess
    expect(fake.webhook).toMatchObject({
      url: 'https://other.example.com/webhooks/telegram',
      drop_pending_updates: false,
    });
  });

  it.each([
    ['a plain-http URL', ['http://api.example.com/webhooks/telegram'], {}, /https/],
    ['no URL', [], {}, /Give the webhook URL/],
    [
      'a secret Telegram would refuse',
      ['https://a.example.com/x'],
      { TELEGRAM_WEBHOOK_SECRET: 'has spaces!' },
      /1-256/,
    ],
    [
      'no bot token',
      ['https://a.example.com/x'],
      { TELEGRAM_BOT_TOKEN: '' },
      /TELEGRAM_BOT_TOKEN is not set/,
    ],
  ])('refuses %s with a message saying what to fix', async (_, argv, overrides, message) => {
    // Act
    const run = main(argv, env(overrides));

    // Assess
    await expect(run).rejects.toThrow(message);
  });

  it('reports Telegram’s refusal without the token', async () => {
    // Act
    const error = await main(
      ['https://a.example.com/x'],
      env({ TELEGRAM_BOT_TOKEN: '111:wrong-token' }),
    ).catch((thrown: Error) => thrown);

    // Assess
    expect((error as Error).message).toMatch(/401: Unauthorized/);
    expect((error as Error).message).not.toContain('wrong-token');
  });
});
