import { createSecretReader, requireSecret } from '../../schemas/secrets.ts';

/** Reads the bot token at run time (see schemas/secrets.ts); a missing one is an error, never a value. */
export function createBotTokenReader(env: NodeJS.ProcessEnv = process.env) {
  const read = createSecretReader({ env });
  return (): Promise<string> => requireSecret(read, 'SLACK_BOT_TOKEN', env);
}
