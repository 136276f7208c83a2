import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';

export interface SsmSecretResolverOptions {
  /** Parameter path the references live under, e.g. `/serverless-openclaw/prod/`. */
  prefix: string;
  /** How long a fetched value is reused, so a warm runtime does not call SSM every turn. @default 300 */
  maxAgeSeconds?: number;
  provider?: SSMProvider;
}

/**
 * Resolves an API key reference (`ANTHROPIC_API_KEY`) to the SSM SecureString `<prefix>ANTHROPIC_API_KEY`,
 * decrypted at run time and cached briefly. Keys never sit in templates or plain Lambda environment
 * variables; a missing parameter resolves to undefined and the turn reports it to the user.
 */
export function createSsmSecretResolver(options: SsmSecretResolverOptions) {
  const prefix = options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  const provider = options.provider ?? new SSMProvider();
  const maxAge = options.maxAgeSeconds ?? 300;
  return async function resolveSecret(ref: string): Promise<string | undefined> {
    try {
      return await provider.get(`${prefix}${ref}`, { decrypt: true, maxAge });
    } catch {
      return undefined;
    }
  };
}
