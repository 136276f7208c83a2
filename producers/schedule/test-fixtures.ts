import type { Publisher } from '../../bus/index.ts';
import type { BusEvent } from '../../schemas/index.ts';
import type { JobInput, JobRef, JobScheduler, ScheduleJob } from './jobs.ts';

/** A publisher that records events, and fails while `failing` is set (like a throttled PutEvents). */
export function recordingPublisher() {
  const events: BusEvent[] = [];
  const state = { failing: false };
  const publisher: Publisher = {
    async publish(input) {
      if (state.failing) throw new Error('PutEvents throttled');
      events.push(...(Array.isArray(input) ? input : [input as BusEvent]));
    },
  };
  return { publisher, events, state };
}

/** A JobScheduler that records calls, and refuses them while `failing` is set. */
export function recordingScheduler() {
  const calls: { action: string; jobId: string; enabled?: boolean }[] = [];
  const state = { failing: false };
  const record = (action: string) => async (job: ScheduleJob | JobRef) => {
    if (state.failing) throw new Error('scheduler unavailable');
    calls.push({ action, jobId: job.jobId, ...('enabled' in job ? { enabled: job.enabled } : {}) });
  };
  const scheduler: JobScheduler = {
    upsert: record('upsert'),
    remove: record('remove'),
    pause: record('pause'),
    resume: record('resume'),
  };
  return { scheduler, calls, state };
}

/** A logger that keeps its lines, for asserting on drops and give-ups. */
export function recordingLogger() {
  const lines: { level: string; message: string; extra: object[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: object[]) =>
      lines.push({ level, message, extra });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A valid job input; override what a test is about. */
export function jobInput(overrides: Partial<JobInput> = {}): JobInput {
  return {
    prompt: 'Summarise my inbox',
    expression: 'cron(0 8 ? * MON-FRI *)',
    timeZone: 'Europe/Berlin',
    replyTo: { channel: 'telegram', address: { chatId: 42 } },
    conversationId: 'morning-brief',
    ...overrides,
  };
}
