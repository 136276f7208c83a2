import type { ReplyTo } from '../../schemas/index.ts';
import {
  JobLimitError,
  JobNotFoundError,
  JobSchedulerError,
  type JobStore,
  JobValidationError,
  type ScheduleJob,
} from '../schedule/index.ts';

/**
 * The chat commands for scheduled jobs, shared by every channel (Telegram, Discord, Slack, the web chat),
 * on the same JobStore as `/v1/schedules`:
 *
 * - `/schedule <expression> [tz=<IANA zone>] <prompt>` creates a job whose replies go to this chat.
 *   `<expression>` is `cron(...)`, `rate(...)`, `at(...)` as in EventBridge Scheduler, or a friendly form:
 *   `in 30m` / `in 2h` / `in 1d` (one time, becomes `at()`), `every 15m` / `every 2h` / `every 1d`
 *   (becomes `rate()`), `every day 08:00` / `every weekday 08:00` (becomes `cron()` in the zone).
 * - `/schedules` lists the user's jobs: short id, state, expression, next fire.
 * - `/unschedule <id>` deletes one, by its short id (any unique prefix of at least 4 characters).
 *
 * Every answer is a plain-text line or few, written for the user; the store's own errors
 * (JobValidationError, JobLimitError) are shown as they are. Only storage failures throw.
 */

/** The commands, by the name a channel sees after its own prefix (`/`, `/openclaw `). */
export const SCHEDULE_COMMANDS = ['schedule', 'schedules', 'unschedule'] as const;
export type ScheduleCommandName = (typeof SCHEDULE_COMMANDS)[number];

/** True for `schedule`, `schedules` and `unschedule` (case-insensitive). */
export function isScheduleCommand(name: string): name is ScheduleCommandName {
  return (SCHEDULE_COMMANDS as readonly string[]).includes(name.toLowerCase());
}

/** Characters of a job id shown by `/schedules` and accepted by `/unschedule`. */
export const SHORT_ID_LENGTH = 8;
const MIN_ID_PREFIX = 4;

/** Where the command was typed: the job's replies go back there, into this conversation. */
export interface ScheduleCommandContext {
  /** The internal user id; the caller has resolved it (strangers never reach these commands). */
  userId: string;
  replyTo: ReplyTo;
  conversationId: string;
}

/** What `/schedule` understood: the store's input without the chat's address. */
export interface ParsedScheduleRequest {
  expression: string;
  timeZone: string;
  prompt: string;
}

/** The text after `/schedule` is not a schedule; the message says what to type instead. */
export class ScheduleCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleCommandError';
  }
}

/** One line of usage, with `prefix` the way this channel starts a command (`/`, `/openclaw `). */
export function scheduleUsage(prefix = '/'): string {
  return [
    `${prefix}schedule <when> [tz=<zone>] <prompt> — when: in 30m | in 2h | every 15m | every day 08:00 | every weekday 08:00 | cron(...) | rate(...) | at(...)`,
    `Example: ${prefix}schedule every weekday 08:00 tz=Europe/Berlin Summarise my inbox`,
    `${prefix}schedules — your scheduled jobs; ${prefix}unschedule <id> — delete one`,
  ].join('\n');
}

const UNITS: Record<string, { ms: number; rate: string }> = {
  m: { ms: 60_000, rate: 'minute' },
  h: { ms: 3_600_000, rate: 'hour' },
  d: { ms: 86_400_000, rate: 'day' },
};

/** `30m`, `2h`, `1d`: a positive amount (at most 4 digits) and one unit letter. */
function amountOf(token: string | undefined, usage: string): { amount: number; unit: string } {
  const match = /^(\d{1,4})([mhd])$/i.exec(token ?? '');
  const amount = Number(match?.[1]);
  if (!match || amount < 1) {
    throw new ScheduleCommandError(`"${(token ?? '').slice(0, 20)}" is not a duration; write ${usage}.`);
  }
  return { amount, unit: match[2]!.toLowerCase() };
}

/** `08:00` -> [8, 0]; refuses anything but HH:MM on a 24-hour clock. */
function clockOf(token: string | undefined): [number, number] {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(token ?? '');
  if (!match) {
    throw new ScheduleCommandError(
      `"${(token ?? '').slice(0, 20)}" is not a time of day; write it as HH:MM, e.g. 08:00.`,
    );
  }
  return [Number(match[1]), Number(match[2])];
}

/** `at()`'s wall-clock form of an instant, in UTC. */
function atExpression(epochMs: number): string {
  // Rounded up to the second: at() has no fractions, and rounding down could land in the past.
  const iso = new Date(Math.ceil(epochMs / 1000) * 1000).toISOString();
  return `at(${iso.slice(0, 19)})`;
}

/** A schedule read from the front of a text, and what follows it. */
interface ReadWhen {
  expression: string;
  /** `in 2h`: an instant already written in UTC, so a zone would only move it. */
  relative: boolean;
  rest: string;
}

/** Reads the schedule at the start of `text` (cron/rate/at or a friendly form); see {@link parseScheduleRequest}. */
function readWhen(text: string, nowMs: number): ReadWhen {
  const explicit = /^(cron|rate|at)\s*\(([^()]*)\)/i.exec(text);
  if (explicit) {
    return {
      expression: `${explicit[1]!.toLowerCase()}(${explicit[2]!.trim()})`,
      relative: false,
      rest: text.slice(explicit[0].length),
    };
  }
  const words = text.split(/\s+/);
  const first = words[0]!.toLowerCase();
  let expression: string;
  let relative = false;
  if (first === 'in') {
    const { amount, unit } = amountOf(words[1], '"in 30m", "in 2h" or "in 1d"');
    expression = atExpression(nowMs + amount * UNITS[unit]!.ms);
    relative = true;
    words.splice(0, 2);
  } else if (first === 'every') {
    const second = words[1]?.toLowerCase();
    if (second === 'day' || second === 'weekday') {
      const [hour, minute] = clockOf(words[2]);
      expression =
        second === 'day' ? `cron(${minute} ${hour} * * ? *)` : `cron(${minute} ${hour} ? * MON-FRI *)`;
      words.splice(0, 3);
    } else {
      const { amount, unit } = amountOf(
        words[1],
        '"every 15m", "every 2h", "every 1d", "every day 08:00" or "every weekday 08:00"',
      );
      const name = UNITS[unit]!.rate;
      expression = `rate(${amount} ${amount === 1 ? name : `${name}s`})`;
      words.splice(0, 2);
    }
  } else {
    throw new ScheduleCommandError(
      `"${words[0]!.slice(0, 20)}" is not a schedule. Start with in, every, cron(...), rate(...) or at(...).`,
    );
  }
  return { expression, relative, rest: words.join(' ') };
}

/**
 * Reads `<expression> [tz=<zone>] <prompt>` (the text after `/schedule`). The expression is only
 * recognised here; the store validates it (fields, zone, limits) and says what is wrong.
 *
 * @example parseScheduleRequest('every day 08:00 tz=Europe/Berlin Morning brief', Date.now())
 * // { expression: 'cron(0 8 * * ? *)', timeZone: 'Europe/Berlin', prompt: 'Morning brief' }
 */
export function parseScheduleRequest(text: string, nowMs: number): ParsedScheduleRequest {
  const trimmed = text.trim();
  if (!trimmed) throw new ScheduleCommandError('Say when and what.');
  const { expression, relative, rest: afterWhen } = readWhen(trimmed, nowMs);
  let rest = afterWhen;
  let timeZone = 'UTC';
  const zone = /^\s*tz=(\S+)/i.exec(rest);
  if (zone) {
    timeZone = zone[1]!;
    rest = rest.slice(zone[0].length);
  }
  const prompt = rest.trim();
  if (!prompt) throw new ScheduleCommandError('Add what the agent should do, after the schedule.');
  return { expression, timeZone: relative ? 'UTC' : timeZone, prompt };
}

/**
 * Reads a schedule on its own (the agent's `schedule_create` tool passes it apart from the prompt):
 * the same forms as `/schedule`. `relative` is true for `in 2h`, an instant already in UTC.
 *
 * @example parseScheduleWhen('in 2h', Date.parse('2026-01-01T10:00:00Z'))
 * // { expression: 'at(2026-01-01T12:00:00)', relative: true }
 */
export function parseScheduleWhen(text: string, nowMs: number): { expression: string; relative: boolean } {
  const trimmed = text.trim();
  if (!trimmed) throw new ScheduleCommandError('Say when the job should run.');
  const { expression, relative, rest } = readWhen(trimmed, nowMs);
  if (rest.trim()) {
    throw new ScheduleCommandError(
      `"${rest.trim().slice(0, 20)}" does not belong in the schedule; give only the schedule, e.g. "in 2h" or "every day 08:00".`,
    );
  }
  return { expression, relative };
}

/** `2026-11-25 08:00 Europe/Berlin`: a fire time in the job's own zone. */
export function formatFireTime(epochMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epochMs));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${timeZone}`;
}

const shortId = (job: ScheduleJob) => job.jobId.slice(0, SHORT_ID_LENGTH);

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** One line of `/schedules`, also the confirmation of `/schedule`. */
export function describeJob(job: ScheduleJob): string {
  const when = !job.enabled
    ? 'paused'
    : job.nextFireAt === undefined
      ? 'finished'
      : `next ${formatFireTime(job.nextFireAt, job.timeZone)}`;
  return `${shortId(job)} · ${job.expression}${job.timeZone === 'UTC' ? '' : ` ${job.timeZone}`} · ${when} · “${clip(job.prompt, 60)}”`;
}

/**
 * The store's user-facing errors (and ScheduleCommandError) as an answer; undefined for anything else,
 * which is not ours to explain. Also the agent's schedule tools' error texts.
 */
export function scheduleErrorText(error: unknown): string | undefined {
  if (error instanceof ScheduleCommandError) return error.message;
  if (error instanceof JobValidationError || error instanceof JobLimitError) return error.message;
  if (error instanceof JobSchedulerError) return error.message;
  if (error instanceof JobNotFoundError) return 'That job no longer exists. See /schedules.';
  return undefined;
}

export interface ScheduleCommandsDeps {
  jobs: JobStore;
  /** Where `in 2h` counts from. @default the job store's clock (`jobs.now`), which its limits use too */
  now?: () => number;
}

/**
 * Runs `/schedule`, `/schedules` and `/unschedule` for a linked user and returns the text to answer
 * with. `prefix` is how the channel writes a command in its help (`/` or `/openclaw `).
 */
export function createScheduleCommands(deps: ScheduleCommandsDeps) {
  const { jobs } = deps;
  const now = deps.now ?? jobs.now;

  async function schedule(argument: string, context: ScheduleCommandContext, prefix: string) {
    if (!argument.trim()) return scheduleUsage(prefix);
    const request = parseScheduleRequest(argument, now());
    const job = await jobs.create(context.userId, {
      ...request,
      replyTo: context.replyTo,
      conversationId: context.conversationId,
    });
    return `Scheduled: ${describeJob(job)}\nDelete it with ${prefix}unschedule ${shortId(job)}.`;
  }

  async function list(context: ScheduleCommandContext, prefix: string) {
    const all = await jobs.list(context.userId);
    if (all.length === 0) return `You have no scheduled jobs.\n${scheduleUsage(prefix)}`;
    const sorted = [...all].sort(
      (a, b) => (a.nextFireAt ?? Number.MAX_SAFE_INTEGER) - (b.nextFireAt ?? Number.MAX_SAFE_INTEGER),
    );
    return [`Your scheduled jobs (${all.length}):`, ...sorted.map(describeJob)].join('\n');
  }

  async function unschedule(argument: string, context: ScheduleCommandContext, prefix: string) {
    const wanted = argument.trim().toLowerCase();
    if (!/^[a-z0-9-]{4,64}$/.test(wanted) || wanted.length < MIN_ID_PREFIX) {
      return `Name the job by its id from ${prefix}schedules, e.g. ${prefix}unschedule 1a2b3c4d.`;
    }
    const matches = (await jobs.list(context.userId)).filter((job) =>
      job.jobId.toLowerCase().startsWith(wanted),
    );
    if (matches.length === 0) return `You have no scheduled job ${wanted}. See ${prefix}schedules.`;
    if (matches.length > 1) return `Several jobs start with ${wanted}; give more of the id.`;
    const [job] = matches as [ScheduleJob];
    await jobs.delete(context.userId, job.jobId);
    return `Deleted: ${shortId(job)} · “${clip(job.prompt, 60)}”`;
  }

  return {
    /** The answer to one command; `argument` is the text after the command's name. */
    async run(
      name: ScheduleCommandName,
      argument: string,
      context: ScheduleCommandContext,
      prefix = '/',
    ): Promise<string> {
      try {
        switch (name) {
          case 'schedule':
            return await schedule(argument, context, prefix);
          case 'schedules':
            return await list(context, prefix);
          case 'unschedule':
            return await unschedule(argument, context, prefix);
        }
      } catch (error) {
        const text = scheduleErrorText(error);
        if (text === undefined) throw error;
        return `${text}${error instanceof ScheduleCommandError ? `\n${scheduleUsage(prefix)}` : ''}`;
      }
    },
  };
}

export type ScheduleCommands = ReturnType<typeof createScheduleCommands>;
