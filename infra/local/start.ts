/**
 * `npm start`: the whole system on this machine, with the web chat at http://127.0.0.1:8787.
 * Settings: PORT, HOST, DATA_DIR, LOG_LEVEL, LOCAL_TURN_TIMEOUT_MS, DEFAULT_RUNTIME (lambda, fargate or
 * auto), IDLE_TIMEOUT_MS (the local container's), ALLOWED_USERS (`telegram:<id>,…`), LOCAL_USERS
 * (`alice:secret,bob:other`) or LOCAL_PASSWORD (for the default user `local`), the chat bots'
 * secrets (see infra/local/channels.ts), and the LLM variables printed below.
 */

import { parseAllowedUsers } from '../../producers/shared/identity.ts';
import { RuntimePreferenceSchema } from '../../schemas/index.ts';
import { defaultLlmSettingsFromEnv, LLM_ENV_HELP } from '../../schemas/llm-defaults.ts';
import { startLocalStack } from './stack.ts';

// A stray rejection deep in a dependency must not take the whole local system down mid-turn; it is
// logged loudly instead (Lambda isolates each invocation; one process here serves everything).
process.on('unhandledRejection', (reason) => {
  console.error('[local] unhandled promise rejection:', reason);
});

const llm = defaultLlmSettingsFromEnv();
const stack = await startLocalStack({
  port: Number(process.env.PORT ?? 8787),
  host: process.env.HOST ?? '127.0.0.1',
  dataDir: process.env.DATA_DIR ?? '.data',
  logLevel: (process.env.LOG_LEVEL?.toUpperCase() as 'INFO' | undefined) ?? 'WARN',
  turnTimeoutMs: Number(process.env.LOCAL_TURN_TIMEOUT_MS ?? 120_000),
  defaultRuntime: RuntimePreferenceSchema.catch('lambda').parse(process.env.DEFAULT_RUNTIME),
  idleTimeoutMs: Number(process.env.IDLE_TIMEOUT_MS) || undefined,
  allowedUsers: parseAllowedUsers(process.env.ALLOWED_USERS),
});

if (llm) {
  console.log(`  LLM: ${llm.provider} / ${llm.model}${llm.baseUrl ? ` at ${llm.baseUrl}` : ''}\n`);
} else {
  console.log('  No LLM is configured: the chat will answer with this same advice. Set one of:');
  for (const line of LLM_ENV_HELP) console.log(`    ${line}`);
  console.log('  then run `npm start` again.\n');
}
if (!['127.0.0.1', 'localhost', '::1'].includes(process.env.HOST ?? '127.0.0.1')) {
  console.warn(
    '  WARNING: local mode serves plain HTTP. Passwords and tokens cross the network unencrypted, and\n' +
      '  whoever signs in gets your LLM key and the tools it runs on this machine. Prefer HOST=127.0.0.1 and an SSH tunnel.\n',
  );
}
const generated = stack.auth.generatedPassword;
const signIn = generated
  ? `user "${generated.username}", password ${generated.password}\n             (kept in ${generated.file}; set LOCAL_PASSWORD or LOCAL_USERS to choose)`
  : process.env.LOCAL_USERS?.trim()
    ? 'the users in LOCAL_USERS'
    : 'user "local" with LOCAL_PASSWORD';
// Printed last: tests (and people) take the "web chat" line as the sign that everything is up.
console.log(
  `serverless-openclaw (local mode) is running.\n  web chat:  ${stack.url}\n  sign in:   ${signIn}\n` +
    `  sign-in endpoint (Cognito InitiateAuth): ${stack.auth.endpoint}, client id ${stack.auth.clientId}\n`,
);

const shutdown = async (signal: string) => {
  console.log(`\n${signal}: stopping…`);
  await stack.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
