import { z } from 'zod';

/**
 * How a deployment is used, for the cost model: how many messages, where their turns run, how long
 * they take. Every field has a default describing one person chatting on the web; the defaults are the
 * assumptions docs/cost.md lists. Read from a JSON file (`npm run cost -- --profile usage.json`) or flags.
 */
export const UsageProfileSchema = z.object({
  /** Shown as the table's title. */
  name: z.string().default('custom'),
  /** Messages a day, all channels together. @default 30 */
  messagesPerDay: z.number().min(0).max(1_000_000).default(30),
  /** Share of turns run on Fargate (the rest on Lambda), 0–1. @default 0 */
  fargateShare: z.number().min(0).max(1).default(0),
  /** Hours a day an agent task runs (turns plus the idle timeout after the last one). @default 0 */
  fargateHoursPerDay: z
    .number()
    .min(0)
    .max(24 * 1000)
    .default(0),
  /** Task starts a day (each restores the state once and logs its boot). @default 0 */
  fargateStartsPerDay: z.number().min(0).default(0),
  /** The channel messages come from; only `web` uses the WebSocket API. @default 'web' */
  channel: z.enum(['web', 'telegram', 'discord', 'slack']).default('web'),
  /** A warm agent turn on Lambda, LLM wait included (the function bills while it waits). @default 10 */
  agentTurnSeconds: z.number().min(0).max(900).default(10),
  /** Share of Lambda turns that start a new execution environment. @default 0.35 */
  agentColdStartShare: z.number().min(0).max(1).default(0.35),
  /** What a cold start adds (measured: import 4.9 s + first turn 7.9 s, docs DESIGN). @default 13.6 */
  agentColdStartSeconds: z.number().min(0).max(900).default(13.6),
  /** Average billed duration of our small handlers (producers, consumers, selector), cold starts included. @default 150 */
  handlerMs: z.number().min(1).max(900_000).default(150),
  /** Average billed duration of one watchdog sweep. @default 200 */
  watchdogMs: z.number().min(1).max(900_000).default(200),
  /** Streaming pieces per reply (at most 4 a second are published). @default 8 */
  replyDeltas: z.number().int().min(0).max(10_000).default(8),
  /** Size of a completed reply, KB (DynamoDB writes are per KB). @default 2 */
  replyKb: z.number().min(0).max(256).default(2),
  /** Web chat visits a day: each opens one WebSocket connection and loads the page. @default 3 */
  webSessionsPerDay: z.number().min(0).default(3),
  /** How long a chat stays connected. @default 15 */
  webSessionMinutes: z.number().min(0).max(120).default(15),
  /** Management API calls a day (settings, schedules, link codes). @default 5 */
  apiRequestsPerDay: z.number().min(0).default(5),
  /** Scheduled job fires a day (each is one message too: count it in messagesPerDay). @default 0 */
  scheduleFiresPerDay: z.number().min(0).default(0),
  /** Distinct users (their session state is one object each). @default 1 */
  users: z.number().int().min(0).default(1),
  /** One user's session state tarball, MB. @default 2 */
  stateMb: z.number().min(0).default(2),
  /** Table size, GB (messages are not stored; settings, locks, records are small). @default 0.01 */
  tableGb: z.number().min(0).default(0.01),
  /** Log bytes a small handler writes an invocation (Lambda's START/END/REPORT lines included). @default 1500 */
  logBytesPerInvocation: z.number().min(0).default(1500),
  /** Log bytes the agent writes a turn. @default 10000 */
  logBytesPerTurn: z.number().min(0).default(10_000),
  /** Hours a day with at least one message: custom metrics bill per hour they are emitted. @default 6 */
  activeHoursPerDay: z.number().min(0).max(24).default(6),
  /** Share of turns answered with an error (each error hour bills the TurnErrors metric). @default 0.02 */
  turnErrorShare: z.number().min(0).max(1).default(0.02),
  /**
   * Compressed size (GB) of each container image in ECR, by Dockerfile target. Estimated: OpenClaw's
   * node_modules gzip to 0.15 GB (measured), plus each target's base image.
   * @default { lambda: 0.26, fargate: 0.23 }
   */
  imageGb: z.record(z.string(), z.number().min(0)).default({ lambda: 0.26, fargate: 0.23 }),
  /** How many deploys' images stay in ECR (run `npx cdk gc` to keep this at 1). @default 1 */
  retainedImageVersions: z.number().int().min(1).default(1),
  /** Monthly active Cognito users. @default 1 */
  monthlyActiveUsers: z.number().int().min(0).default(1),
});

export type UsageProfile = z.infer<typeof UsageProfileSchema>;
export type UsageProfileInput = z.input<typeof UsageProfileSchema>;

/** The three scenarios `npm run cost` prints, and the targets docs/cost.md checks. */
export const SCENARIOS: Record<'idle' | 'lambda30' | 'fargateHeavy', UsageProfileInput> = {
  idle: {
    name: 'idle (nobody uses it)',
    messagesPerDay: 0,
    webSessionsPerDay: 0,
    apiRequestsPerDay: 0,
    monthlyActiveUsers: 0,
    activeHoursPerDay: 0,
  },
  lambda30: { name: '30 messages a day on Lambda', messagesPerDay: 30 },
  fargateHeavy: {
    name: 'Fargate-heavy: 100 messages a day, 4 task-hours a day',
    messagesPerDay: 100,
    fargateShare: 0.8,
    fargateHoursPerDay: 4,
    fargateStartsPerDay: 3,
    webSessionsPerDay: 6,
    webSessionMinutes: 40,
    replyDeltas: 20,
    replyKb: 4,
    activeHoursPerDay: 10,
  },
};

/**
 * Validates a profile, filling in every default. Throws with the field and what is allowed.
 * @example parseUsageProfile({ messagesPerDay: 100, fargateShare: 0.5, fargateHoursPerDay: 2 })
 */
export function parseUsageProfile(input: unknown): UsageProfile {
  const parsed = UsageProfileSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`usage profile: "${issue?.path.join('.')}" ${issue?.message}`);
  }
  return parsed.data;
}
