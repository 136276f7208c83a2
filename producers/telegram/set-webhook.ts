import { pathToFileURL } from 'node:url';
import { Api } from 'grammy';
import { createSecretReader } from '../../schemas/secrets.ts';
import { SECRET_TOKEN_PATTERN } from './secret-token.ts';

/**
 * Points the bot's webhook at this deployment:
 *
 *   node producers/telegram/set-webhook.ts https://<api-id>.execute-api.<region>.amazonaws.com/webhooks/telegram [--drop-pending-updates]
 *
 * The URL may come from TELEGRAM_WEBHOOK_URL instead. The bot token (TELEGRAM_BOT_TOKEN) and the webhook
 * secret (TELEGRAM_WEBHOOK_SECRET) are read like the Lambdas read them: from SSM under SECRETS_PREFIX when
 * set, else from the environment. TELEGRAM_API_ROOT points it at another Bot API server. Neither the
 * token nor the secret is ever printed.
 */

/** The updates the webhook handles; Telegram does not even send the others. */
export const ALLOWED_UPDATES = ['message'] as const;

export interface SetWebhookInput {
  api: Api;
  url: string;
  secretToken: string;
  dropPendingUpdates?: boolean;
}

export class SetWebhookError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SetWebhookError';
  }
}

/** Calls `setWebhook` and then `getWebhookInfo`, to report what Telegram now has. */
export async function setTelegramWebhook(input: SetWebhookInput) {
  if (!/^https:\/\/[^\s]+$/.test(input.url)) {
    throw new SetWebhookError(`Telegram delivers only to https URLs; got "${input.url}"`);
  }
  if (!SECRET_TOKEN_PATTERN.test(input.secretToken)) {
    throw new SetWebhookError(
      'TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - (try: openssl rand -hex 32)',
    );
  }
  await input.api.setWebhook(input.url, {
    secret_token: input.secretToken,
    allowed_updates: [...ALLOWED_UPDATES],
    drop_pending_updates: input.dropPendingUpdates ?? false,
  });
  const info = await input.api.getWebhookInfo();
  return {
    url: info.url,
    pendingUpdateCount: info.pending_update_count,
    allowedUpdates: info.allowed_updates ?? [...ALLOWED_UPDATES],
    ...(info.last_error_message ? { lastError: info.last_error_message } : {}),
  };
}

/** The command line: arguments and environment in, one line of result out. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = argv.find((arg) => !arg.startsWith('--')) ?? env.TELEGRAM_WEBHOOK_URL;
  if (!url) {
    throw new SetWebhookError(
      'Give the webhook URL: node producers/telegram/set-webhook.ts https://…/webhooks/telegram (or set TELEGRAM_WEBHOOK_URL)',
    );
  }
  const readSecret = createSecretReader({ env });
  const [token, secretToken] = await Promise.all([
    readSecret('TELEGRAM_BOT_TOKEN'),
    readSecret('TELEGRAM_WEBHOOK_SECRET'),
  ]);
  if (!token) throw new SetWebhookError('TELEGRAM_BOT_TOKEN is not set');
  if (!secretToken) throw new SetWebhookError('TELEGRAM_WEBHOOK_SECRET is not set');
  const api = new Api(token, { apiRoot: env.TELEGRAM_API_ROOT || undefined, timeoutSeconds: 15 });
  const result = await setTelegramWebhook({
    api,
    url,
    secretToken,
    dropPendingUpdates: argv.includes('--drop-pending-updates'),
  });
  return [
    `Webhook set: ${result.url}`,
    `allowed updates: ${result.allowedUpdates.join(', ')}`,
    `pending updates: ${result.pendingUpdateCount}`,
    ...(result.lastError ? [`last delivery error: ${result.lastError}`] : []),
  ].join('; ');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (line) => console.log(line),
    (error: Error) => {
      // grammY's messages name the method and Telegram's description, never the token (sensitiveLogs is off).
      console.error(`set-webhook failed: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
