import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';

export interface SecretReaderOptions {
  /** SSM path the secrets live under (`/serverless-openclaw/prod/`). @default `SECRETS_PREFIX` of `env` */
  prefix?: string;
  /** Where secrets come from without a prefix (local mode, tests). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** How long a value read from SSM is reused; a rotated secret takes effect within it. @default 300 */
  maxAgeSeconds?: number;
  provider?: SSMProvider;
}

/** Reads one secret by name; undefined when it is not set. */
export type SecretReader = (name: string) => Promise<string | undefined>;

/**
 * Secrets (API keys, bot tokens, signing secrets) are read at run time, never put in templates or plain
 * environment variables on AWS: with a prefix, the SSM SecureString `<prefix><NAME>`, decrypted and cached
 * for five minutes; without one (local mode, tests), the environment variable `NAME`. A parameter that does
 * not exist reads as undefined; any other SSM failure throws (without the value, which it never had).
 */
export function createSecretReader(options: SecretReaderOptions = {}): SecretReader {
  const env = options.env ?? process.env;
  const rawPrefix = options.prefix ?? env.SECRETS_PREFIX;
  const maxAge = options.maxAgeSeconds ?? 300;
  if (!rawPrefix) return async (name) => env[name] || undefined;
  const prefix = rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  let provider = options.provider;
  return async (name) => {
    // Loaded on first use: handlers with a tight deadline (Discord's 3 s) do not pay for it at import.
    provider ??= new (await import('@aws-lambda-powertools/parameters/ssm')).SSMProvider();
    try {
      return (await provider.get(`${prefix}${name}`, { decrypt: true, maxAge })) || undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'ParameterNotFound') return undefined;
      if ((error as { cause?: { name?: string } }).cause?.name === 'ParameterNotFound') return undefined;
      throw new Error(`could not read the secret ${prefix}${name}: ${(error as Error).name}`);
    }
  };
}

/** A secret the component cannot work without: its absence is an error that says where it was looked for. */
export async function requireSecret(read: SecretReader, name: string, env = process.env): Promise<string> {
  const value = await read(name);
  if (value) return value;
  const where = env.SECRETS_PREFIX ? `the SSM parameter ${env.SECRETS_PREFIX}${name}` : 'the environment';
  throw new Error(`${name} is not set (looked in ${where})`);
}
