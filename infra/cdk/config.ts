import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { LlmSettingsSchema, RuntimePreferenceSchema } from '../../schemas/index.ts';

/** The memory (MB) Fargate allows for each CPU size, in steps of 1024. */
const FARGATE_MEMORY_MB = {
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
} as const;

/**
 * Everything a person chooses about their deployment, in one typed file: `deploy.config.json` at the
 * repository root (copy `deploy.config.example.json`). Every field has a default, so an empty file —
 * or none — deploys a working stack.
 */
export const DeploymentConfigSchema = z.object({
  /** Prefix of every stack and resource name; lets two deployments share an account. */
  stage: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{1,18}$/,
      'lower-case letters, digits and dashes, at most 19 characters (S3 bucket names)',
    )
    .default('prod'),
  /** @default the CLI's region (CDK_DEFAULT_REGION) */
  region: z.string().optional(),
  /** @default the CLI's account (CDK_DEFAULT_ACCOUNT) */
  account: z.string().optional(),
  /** Where turns run unless a user chooses otherwise. */
  defaultRuntime: RuntimePreferenceSchema.default('lambda'),
  /**
   * Which chat channels are deployed. Telegram, Discord and Slack each add a webhook route, a producer and
   * a consumer; their secrets must be in SSM first (docs/deployment.md, "Chat channels").
   */
  channels: z
    .object({
      web: z.boolean().default(true),
      telegram: z.boolean().default(false),
      discord: z.boolean().default(false),
      slack: z.boolean().default(false),
    })
    .prefault({}),
  /**
   * The web chat's address (the web stack's `WebUrl` output, known after the first deploy), shown to
   * strangers in the Telegram and Discord bots' linking instructions. @default none: they are told to
   * open the web chat without a link
   */
  webAppUrl: z.url().optional(),
  telegram: z
    .object({
      /** The bot's username without `@`, so the bot answers group messages that mention it. */
      botUsername: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]{4,31}$/, 'the bot’s username without @, e.g. my_openclaw_bot')
        .optional(),
    })
    .prefault({}),
  slack: z
    .object({
      /** The slash command's name if you changed it in the app manifest, e.g. `/openclaw`. */
      command: z
        .string()
        .regex(/^\/[a-z0-9_-]{1,31}$/, 'a slash command such as /openclaw')
        .optional(),
      /** The bot's user id; only needed if Slack ever sends events without `authorizations`. */
      botUserId: z
        .string()
        .regex(/^[UBW][A-Z0-9]{2,}$/, 'a Slack user id such as U0123ABCD')
        .optional(),
    })
    .prefault({}),
  /** A Fargate task with no message for this long stops itself. */
  idleTimeoutMinutes: z.number().int().min(1).max(240).default(15),
  /** Channel user ids allowed without pairing (e.g. `telegram:12345`); web users are Cognito users. */
  allowedUsers: z
    .array(
      z
        .string()
        .regex(/^(telegram|discord|slack):[^,\s]+$/, '`<channel>:<user id>`, e.g. telegram:123456789'),
    )
    .default([]),
  /** The deployment's default LLM; the key is an SSM SecureString named `<secretsPrefix><apiKeyRef>`. */
  llm: LlmSettingsSchema.default({
    provider: 'anthropic',
    api: 'anthropic-messages',
    model: 'claude-sonnet-4-5',
    baseUrl: 'https://api.anthropic.com',
    apiKeyRef: 'ANTHROPIC_API_KEY',
  }),
  agent: z
    .object({
      /** MB. OpenClaw peaks at 550–870 MB RSS; CPU scales with memory and the cold start is CPU-bound. */
      memoryMb: z.number().int().min(1024).max(10240).default(3008),
      /** Seconds. The turn's abort fires 8 s before this so the state is saved and the user told. */
      timeoutSeconds: z.number().int().min(60).max(900).default(300),
      /**
       * Caps concurrent agent Lambdas, a runaway-cost guard; 5 is a good value. Off by default because an
       * account whose concurrency quota is 10 (new accounts) cannot reserve any and the deploy would fail.
       */
      reservedConcurrency: z.number().int().min(1).max(1000).nullable().default(null),
      /** CPU units of the Fargate task (1024 = one vCPU). */
      fargateCpu: z.union([z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)]).default(1024),
      /** MB, in steps of 1024 within what Fargate allows for `fargateCpu` (see FARGATE_MEMORY_MB). */
      fargateMemoryMb: z.number().int().min(1024).max(30720).default(2048),
    })
    .superRefine((agent, context) => {
      const [min, max] = FARGATE_MEMORY_MB[agent.fargateCpu];
      if (agent.fargateMemoryMb >= min && agent.fargateMemoryMb <= max && agent.fargateMemoryMb % 1024 === 0)
        return;
      context.addIssue({
        code: 'custom',
        path: ['fargateMemoryMb'],
        message: `with fargateCpu ${agent.fargateCpu}, use a multiple of 1024 from ${min} to ${max}`,
      });
    })
    .prefault({}),
  auth: z
    .object({
      /** Off by default: an admin creates users (`aws cognito-idp admin-create-user`). */
      selfSignUp: z.boolean().default(false),
      /** Cognito hosted-UI domain prefix (globally unique); omit to use the SRP flow only. */
      hostedUiDomainPrefix: z.string().optional(),
      /** Where the hosted UI may redirect after sign-in (add the CloudFront site's URL after the first deploy). */
      callbackUrls: z.array(z.url()).default([]),
    })
    .prefault({}),
  throttling: z
    .object({
      /** Requests a second, steady state, per API. */
      rateLimit: z.number().positive().default(20),
      burstLimit: z.number().int().positive().default(40),
    })
    .prefault({}),
  /** E-mail for alarm notifications (dead letters, errors). */
  alarmEmail: z.email().optional(),
  /** How long the bus archive keeps events for replay. */
  archiveRetentionDays: z.number().int().min(1).max(365).default(7),
  /** Dashboard and alarms (infra/cdk/constructs/monitoring.ts); docs/cost.md prices each. */
  monitoring: z
    .object({
      /**
       * The CloudWatch dashboard. Off by default: CloudWatch gives 3 dashboards free, a 4th costs $3 a month.
       * @default false
       */
      dashboard: z.boolean().default(false),
      /** The Lambda-errors and task-running-too-long alarms (the dead-letter alarms are always on). @default true */
      alarms: z.boolean().default(true),
      /** A Fargate task running longer than this raises an alarm. @default 4 */
      maxTaskHours: z.number().min(0.5).max(72).default(4),
      /**
       * X-Ray active tracing on the Lambda functions (Powertools Tracer; the watchdog and the Fargate task
       * are never traced). Off by default: X-Ray's free 100,000 traces a month are the account's, shared
       * with whatever else runs there, and past them each million costs $5 (docs/cost.md counts them).
       * @default false
       */
      tracing: z.boolean().default(false),
    })
    .prefault({}),
  /** An AWS Budgets cost budget for the whole account, e-mailing when the month's cost (or forecast) passes it. @default none */
  budget: z
    .object({
      monthlyUsd: z.number().positive().max(1_000_000),
      email: z.email(),
    })
    .optional(),
});

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;

/** SSM parameter path under which the deployment's secrets live. */
export const secretsPrefix = (config: DeploymentConfig) => `/serverless-openclaw/${config.stage}/`;

/**
 * Reads and validates the deployment config. Throws with the field path and what to write instead.
 * @example loadDeploymentConfig('deploy.config.json')
 */
export function loadDeploymentConfig(path?: string): DeploymentConfig {
  const raw = path && existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  const parsed = DeploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: "${issue?.path.join('.')}" ${issue?.message}`);
  }
  return parsed.data;
}
