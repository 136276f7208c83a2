// The agent's own scheduling tools: "remind me in 2 hours" becomes a `schedule_create` call that stores
// a job for the user whose turn is running, replying into the conversation the message came from.
//
// Who and where never come from the model: the turn (user, replyTo, conversation) is bound by the turn
// runner through agent/tools/tool-bridge.ts, and the argument schemas are strict, so a `userId` or
// `conversationId` argument is refused rather than ignored. The texts are those of the chat commands
// (producers/shared/schedule-commands.ts), so the user hears the same limits either way.
import { z } from 'zod';
import { type JobStore, MAX_PROMPT_CHARS, type ScheduleJob } from '../../producers/schedule/index.ts';
import {
  describeJob,
  formatFireTime,
  parseScheduleWhen,
  SHORT_ID_LENGTH,
  scheduleErrorText,
} from '../../producers/shared/schedule-commands.ts';
import type { ReplyTo } from '../../schemas/index.ts';
import type { BridgedToolDefinition, BridgedToolResult, BridgedToolSet } from './tool-bridge.ts';

/** The tools, in the order OpenClaw lists them; also in the plugin's manifest (`contracts.tools`). */
export const SCHEDULE_TOOL_NAMES = [
  'schedule_create',
  'schedule_list',
  'schedule_delete',
  'schedule_pause',
  'schedule_resume',
] as const;
export type ScheduleToolName = (typeof SCHEDULE_TOOL_NAMES)[number];

/** The turn the tools act for; set by the turn runner, never by the model. */
export interface ScheduleToolTurn {
  userId: string;
  replyTo: ReplyTo;
  conversationId: string;
}

/** What {@link createScheduleToolSet} needs. */
export interface ScheduleToolsDeps {
  jobs: JobStore;
  /** The clock `in 2h` counts from. @default Date.now */
  now?: () => number;
}

const CreateArgsSchema = z.strictObject({
  when: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe(
      'When to run: "in 30m", "in 2h", "in 1d" (once), "every 15m", "every 2h", "every day 08:00", "every weekday 08:00", or cron(...), rate(...), at(yyyy-mm-ddThh:mm:ss) as in EventBridge Scheduler.',
    ),
  prompt: z
    .string()
    .trim()
    .min(1)
    .max(MAX_PROMPT_CHARS)
    .describe('The instruction the agent gets when the job runs, e.g. "Remind the user to call Sam."'),
  timeZone: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('IANA time zone for clock times such as "every day 08:00", e.g. Europe/Berlin. Default UTC.'),
});

const JobIdArgsSchema = z.strictObject({
  jobId: z
    .string()
    .trim()
    .min(4)
    .max(64)
    .describe('The job id from schedule_list or schedule_create (the first 8 characters are enough).'),
});

const ListArgsSchema = z.strictObject({});

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
};

/** The tools' definitions as OpenClaw gets them (JSON schemas from the zod schemas above). */
export const SCHEDULE_TOOL_DEFINITIONS: BridgedToolDefinition[] = [
  {
    name: 'schedule_create',
    label: 'Schedule a job',
    description:
      'Schedule a reminder or recurring task for the user. At that time the agent runs `prompt` and its reply is sent into this conversation. Returns the job id and next run time.',
    parameters: jsonSchema(CreateArgsSchema),
  },
  {
    name: 'schedule_list',
    label: 'List scheduled jobs',
    description: "List the user's scheduled jobs: id, schedule, next run time, prompt.",
    parameters: jsonSchema(ListArgsSchema),
  },
  {
    name: 'schedule_delete',
    label: 'Delete a scheduled job',
    description: "Delete one of the user's scheduled jobs by its id.",
    parameters: jsonSchema(JobIdArgsSchema),
  },
  {
    name: 'schedule_pause',
    label: 'Pause a scheduled job',
    description: "Pause one of the user's scheduled jobs by its id; it stops running until resumed.",
    parameters: jsonSchema(JobIdArgsSchema),
  },
  {
    name: 'schedule_resume',
    label: 'Resume a scheduled job',
    description: "Resume a paused scheduled job of the user's, by its id.",
    parameters: jsonSchema(JobIdArgsSchema),
  },
];

/** A tool call the model got wrong, or one the store refused; the text goes back to the model. */
class ScheduleToolRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleToolRefusal';
  }
}

function parseArgs<T extends z.ZodType>(tool: string, schema: T, params: unknown): z.output<T> {
  const parsed = schema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new ScheduleToolRefusal(`Invalid ${tool} arguments: ${where}${issue?.message ?? 'invalid'}.`);
}

/** The job's id, schedule and next fire, in words and as data, for the model to tell the user. */
function jobResult(verb: string, job: ScheduleJob): BridgedToolResult {
  const next =
    job.nextFireAt === undefined
      ? job.enabled
        ? 'it will not run again'
        : 'paused'
      : `next run ${formatFireTime(job.nextFireAt, job.timeZone)} (${new Date(job.nextFireAt).toISOString()})`;
  return {
    ok: true,
    text: `${verb} job ${job.jobId} (short id ${job.jobId.slice(0, SHORT_ID_LENGTH)}): ${job.expression}${job.timeZone === 'UTC' ? '' : ` ${job.timeZone}`}, ${next}.`,
    details: {
      jobId: job.jobId,
      expression: job.expression,
      timeZone: job.timeZone,
      enabled: job.enabled,
      ...(job.nextFireAt === undefined ? {} : { nextFireAt: new Date(job.nextFireAt).toISOString() }),
    },
  };
}

/** The user's one job whose id starts with `prefix`, as `/unschedule` finds it. */
async function findJob(jobs: JobStore, userId: string, prefix: string): Promise<ScheduleJob> {
  const wanted = prefix.toLowerCase();
  const matches = (await jobs.list(userId)).filter((job) => job.jobId.toLowerCase().startsWith(wanted));
  if (matches.length === 0) throw new ScheduleToolRefusal(`The user has no scheduled job ${wanted}.`);
  if (matches.length > 1)
    throw new ScheduleToolRefusal(`Several jobs start with ${wanted}; give more of the id.`);
  return matches[0]!;
}

/**
 * The schedule tools for the bridge: each call validates its arguments with zod and acts on the JobStore
 * for the turn's user. Refusals (bad arguments, JobValidationError, JobLimitError, unknown ids) come back
 * as `ok: false` with the chat commands' texts; storage failures throw, and OpenClaw reports them.
 */
export function createScheduleToolSet(deps: ScheduleToolsDeps): BridgedToolSet<ScheduleToolTurn> {
  const { jobs } = deps;
  const now = deps.now ?? Date.now;

  async function run(turn: ScheduleToolTurn, name: ScheduleToolName, params: unknown) {
    switch (name) {
      case 'schedule_create': {
        const args = parseArgs(name, CreateArgsSchema, params);
        const { expression, relative } = parseScheduleWhen(args.when, now());
        const job = await jobs.create(turn.userId, {
          expression,
          // "in 2h" is an instant already written in UTC: a zone would only move it.
          timeZone: relative ? 'UTC' : (args.timeZone ?? 'UTC'),
          prompt: args.prompt,
          replyTo: turn.replyTo,
          conversationId: turn.conversationId,
        });
        return jobResult('Scheduled', job);
      }
      case 'schedule_list': {
        parseArgs(name, ListArgsSchema, params);
        const all = await jobs.list(turn.userId);
        if (all.length === 0) return { ok: true, text: 'The user has no scheduled jobs.' };
        const sorted = [...all].sort(
          (a, b) => (a.nextFireAt ?? Number.MAX_SAFE_INTEGER) - (b.nextFireAt ?? Number.MAX_SAFE_INTEGER),
        );
        return {
          ok: true,
          text: [`Scheduled jobs (${all.length}):`, ...sorted.map(describeJob)].join('\n'),
          details: { jobIds: sorted.map((job) => job.jobId) },
        };
      }
      case 'schedule_delete': {
        const job = await findJob(jobs, turn.userId, parseArgs(name, JobIdArgsSchema, params).jobId);
        await jobs.delete(turn.userId, job.jobId);
        return { ok: true, text: `Deleted job ${job.jobId}.`, details: { jobId: job.jobId } };
      }
      case 'schedule_pause': {
        const job = await findJob(jobs, turn.userId, parseArgs(name, JobIdArgsSchema, params).jobId);
        return jobResult('Paused', await jobs.pause(turn.userId, job.jobId));
      }
      case 'schedule_resume': {
        const job = await findJob(jobs, turn.userId, parseArgs(name, JobIdArgsSchema, params).jobId);
        return jobResult('Resumed', await jobs.resume(turn.userId, job.jobId));
      }
    }
  }

  return {
    definitions: SCHEDULE_TOOL_DEFINITIONS,
    async call(turn, name, params) {
      if (!(SCHEDULE_TOOL_NAMES as readonly string[]).includes(name)) {
        return { ok: false, text: `Unknown tool ${name}.` };
      }
      try {
        return await run(turn, name as ScheduleToolName, params);
      } catch (error) {
        const text = error instanceof ScheduleToolRefusal ? error.message : scheduleErrorText(error);
        if (text === undefined) throw error;
        return { ok: false, text };
      }
    },
  };
}
