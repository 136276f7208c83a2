import { createSecretReader, requireSecret } from '../../schemas/secrets.ts';

/** The Slack app's secrets, by the names used for SSM parameters and local environment variables. */
export type SlackSecretName = 'SLACK_SIGNING_SECRET' | 'SLACK_BOT_TOKEN';

/**
 * Reads a Slack secret at run time (see schemas/secrets.ts); a missing one is an error naming where it
 * was looked for, never a value.
 * @example const token = await createSecrets()('SLACK_BOT_TOKEN')
 */
export function createSecrets(env: NodeJS.ProcessEnv = process.env) {
  const read = createSecretReader({ env });
  return (name: SlackSecretName): Promise<string> => requireSecret(read, name, env);
}
