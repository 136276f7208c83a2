import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { USER_KEY_PREFIX } from './common.ts';

/**
 * A user's own secrets (the LLM API key they typed into the settings page): write-only through the API,
 * readable only by the agent for that same user. On AWS an SSM SecureString per user and name under the
 * app's secrets prefix (`<prefix>users/<userId>/<name>`; standard parameters cost nothing); in local mode
 * a file per secret under the data directory, mode 0600.
 */
export interface UserSecretStore {
  put(userId: string, name: string, value: string): Promise<void>;
  /** Removes it; a secret that does not exist is not an error. */
  delete(userId: string, name: string): Promise<void>;
  /** undefined when the user has no such secret. */
  read(userId: string, name: string): Promise<string | undefined>;
}

/** Where users' secrets sit under the app's secrets prefix: `<prefix>users/<userId>/<name>`. */
export const USER_SECRETS_PATH = 'users/';

/** The name the settings API stores a user's LLM key under. */
export const USER_LLM_KEY_NAME = 'llm-api-key';

/** The key reference stored in the user's LLM settings for that key; the agent resolves it per user. */
export const USER_LLM_KEY_REF = `${USER_KEY_PREFIX}LLM_API_KEY`;

const SECRET_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * The user secret a key reference names: `OPENCLAW_KEY_LLM_API_KEY` -> `llm-api-key`. undefined for a
 * reference that is not a user's own (a deployment key such as `OPENAI_API_KEY`).
 */
export function userSecretNameOf(ref: string): string | undefined {
  if (!ref.startsWith(USER_KEY_PREFIX)) return undefined;
  const name = ref.slice(USER_KEY_PREFIX.length).toLowerCase().replaceAll('_', '-');
  return SECRET_NAME.test(name) ? name : undefined;
}

/** Both parts become a path (SSM name or file): refuse anything that could step out of the user's own. */
function check(userId: string, name: string): void {
  if (!USER_ID.test(userId) || userId.includes('..')) throw new Error('invalid user id for a secret');
  if (!SECRET_NAME.test(name)) throw new Error('invalid secret name');
}

/** SSM SecureStrings under `<prefix>users/<userId>/<name>`, encrypted with the account's default key. */
export function createSsmUserSecretStore(options: { prefix: string; client?: SSMClient }): UserSecretStore {
  const prefix = options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  let client = options.client;
  // Loaded on first use: most handlers that build a store never touch it.
  const ssm = async () => {
    const sdk = await import('@aws-sdk/client-ssm');
    client ??= new sdk.SSMClient({});
    return { client, sdk };
  };
  const path = (userId: string, name: string) => `${prefix}${USER_SECRETS_PATH}${userId}/${name}`;
  const notFound = (error: unknown) => (error as { name?: string }).name === 'ParameterNotFound';
  return {
    async put(userId, name, value) {
      check(userId, name);
      const { client, sdk } = await ssm();
      await client.send(
        new sdk.PutParameterCommand({
          Name: path(userId, name),
          Value: value,
          Type: 'SecureString',
          Overwrite: true,
        }),
      );
    },
    async delete(userId, name) {
      check(userId, name);
      const { client, sdk } = await ssm();
      try {
        await client.send(new sdk.DeleteParameterCommand({ Name: path(userId, name) }));
      } catch (error) {
        if (!notFound(error)) throw new Error(`could not delete a user secret: ${(error as Error).name}`);
      }
    },
    async read(userId, name) {
      check(userId, name);
      const { client, sdk } = await ssm();
      try {
        const { Parameter } = await client.send(
          new sdk.GetParameterCommand({ Name: path(userId, name), WithDecryption: true }),
        );
        return Parameter?.Value || undefined;
      } catch (error) {
        if (notFound(error)) return undefined;
        // Never the value (we do not have it) nor the SDK's message: only what kind of failure.
        throw new Error(`could not read a user secret: ${(error as Error).name}`);
      }
    },
  };
}

/** Files `<dir>/<userId>/<name>`, the directory 0700 and each file 0600 (local mode). */
export function createFileUserSecretStore(options: { dir: string }): UserSecretStore {
  const file = (userId: string, name: string) => join(options.dir, encodeURIComponent(userId), name);
  return {
    async put(userId, name, value) {
      check(userId, name);
      const dir = join(options.dir, encodeURIComponent(userId));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(file(userId, name), value, { mode: 0o600 });
      // writeFile keeps the mode of a file that already existed.
      await chmod(file(userId, name), 0o600);
    },
    async delete(userId, name) {
      check(userId, name);
      await rm(file(userId, name), { force: true });
    },
    async read(userId, name) {
      check(userId, name);
      try {
        return (await readFile(file(userId, name), 'utf8')) || undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/**
 * The store the environment configures: SSM under `SECRETS_PREFIX` on AWS, files under
 * `USER_SECRETS_DIR` in local mode; undefined when neither is set (users cannot store keys then).
 */
export function userSecretStoreFromEnv(env: NodeJS.ProcessEnv = process.env): UserSecretStore | undefined {
  if (env.SECRETS_PREFIX) return createSsmUserSecretStore({ prefix: env.SECRETS_PREFIX });
  if (env.USER_SECRETS_DIR) return createFileUserSecretStore({ dir: env.USER_SECRETS_DIR });
  return undefined;
}
