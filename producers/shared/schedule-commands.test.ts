import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createJobStore } from '../schedule/jobs.ts';
import { createLocalScheduler } from '../schedule/local-scheduler.ts';
import { recordingLogger, recordingPublisher } from '../schedule/test-fixtures.ts';
import {
  createScheduleCommands,
  formatFireTime,
  parseScheduleRequest,
  ScheduleCommandError,
} from './schedule-commands.ts';

const NOW = Date.parse('2026-11-25T07:00:00Z');

describe('parseScheduleRequest', () => {
  it.each([
    ['in 2h Remind me to stretch', 'at(2026-11-25T09:00:00)', 'UTC', 'Remind me to stretch'],
    ['in 30m tz=Europe/Berlin tea', 'at(2026-11-25T07:30:00)', 'UTC', 'tea'],
    ['IN 1d check', 'at(2026-11-26T07:00:00)', 'UTC', 'check'],
    ['every 15m check this page', 'rate(15 minutes)', 'UTC', 'check this page'],
    ['every 1h ping', 'rate(1 hour)', 'UTC', 'ping'],
    ['every 2d ping', 'rate(2 days)', 'UTC', 'ping'],
    ['every day 08:00 tz=Europe/Berlin brief', 'cron(0 8 * * ? *)', 'Europe/Berlin', 'brief'],
    ['every weekday 7:05 inbox', 'cron(5 7 ? * MON-FRI *)', 'UTC', 'inbox'],
    ['cron(0 8 ? * MON-FRI *) tz=America/New_York go', 'cron(0 8 ? * MON-FRI *)', 'America/New_York', 'go'],
    ['rate( 5 minutes ) go', 'rate(5 minutes)', 'UTC', 'go'],
    ['AT(2026-12-01T09:00:00) go on', 'at(2026-12-01T09:00:00)', 'UTC', 'go on'],
  ])('reads %j', (text, expression, timeZone, prompt) => {
    expect(parseScheduleRequest(text, NOW)).toEqual({ expression, timeZone, prompt });
  });

  it.each([
    ['', 'Say when and what'],
    ['tomorrow call mum', 'is not a schedule'],
    ['in 2 hours call', 'is not a duration'],
    ['in 0m call', 'is not a duration'],
    ['in 99999m call', 'is not a duration'],
    ['every 15s call', 'is not a duration'],
    ['every day 25:00 call', 'is not a time of day'],
    ['every day call', 'is not a time of day'],
    ['in 2h', 'Add what the agent should do'],
    ['cron(0 8 * * ? *) tz=Europe/Berlin', 'Add what the agent should do'],
  ])('refuses %j with a clear message', (text, message) => {
    expect(() => parseScheduleRequest(text, NOW)).toThrow(ScheduleCommandError);
    expect(() => parseScheduleRequest(text, NOW)).toThrow(message);
  });

  it('formats a fire time in the job’s zone', () => {
    expect(formatFireTime(Date.parse('2026-11-26T07:00:00Z'), 'Europe/Berlin')).toBe(
      '2026-11-26 08:00 Europe/Berlin',
    );
  });
});

describe('the schedule chat commands (dynalite, local scheduler)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup() {
    const clock = { now: NOW };
    const { publisher, events } = recordingPublisher();
    const scheduler = createLocalScheduler({
      publisher,
      logger: recordingLogger().logger,
      now: () => clock.now,
    });
    const jobs = createJobStore({ storage: aws.storage, scheduler, now: () => clock.now });
    const commands = createScheduleCommands({ jobs, now: () => clock.now });
    users += 1;
    const context = {
      userId: `chat-user-${users}`,
      replyTo: { channel: 'telegram', address: { chatId: 7 } },
      conversationId: 'chat-7',
    };
    return { commands, jobs, scheduler, events, clock, context };
  }

  it('creates a job that replies to the chat it was made in, lists it and deletes it', async () => {
    // Prepare
    const { commands, jobs, scheduler, context } = setup();

    // Act
    const created = await commands.run('schedule', 'every day 08:00 tz=Europe/Berlin Morning brief', context);
    const [job] = await jobs.list(context.userId);
    const listed = await commands.run('schedules', '', context);
    const deleted = await commands.run('unschedule', job!.jobId.slice(0, 8), context);

    // Assess
    expect(job).toMatchObject({
      expression: 'cron(0 8 * * ? *)',
      timeZone: 'Europe/Berlin',
      prompt: 'Morning brief',
      replyTo: context.replyTo,
      conversationId: 'chat-7',
    });
    expect(created).toContain(`Scheduled: ${job!.jobId.slice(0, 8)}`);
    expect(created).toContain('next 2026-11-25 08:00 Europe/Berlin');
    expect(listed).toContain('Your scheduled jobs (1):');
    expect(listed).toContain('Morning brief');
    expect(deleted).toContain('Deleted:');
    expect(await jobs.list(context.userId)).toEqual([]);
    expect(scheduler.nextFireAt(job!)).toBeUndefined();
  });

  it('answers the store’s limits and validation errors as text, and creates nothing', async () => {
    // Prepare
    const { commands, jobs, context } = setup();

    // Act
    const tooOften = await commands.run('schedule', 'every 1m spam', context);
    const badZone = await commands.run('schedule', 'every day 08:00 tz=Mars/Olympus hi', context);
    const badCron = await commands.run('schedule', 'cron(0 8 * * * *) hi', context);
    const past = await commands.run('schedule', 'at(2020-01-01T00:00:00) hi', context);
    const nonsense = await commands.run('schedule', 'whenever hi', context);

    // Assess
    expect(tooOften).toMatch(/at most every 5 minutes/);
    expect(badZone).toMatch(/Mars\/Olympus/);
    expect(badCron).toMatch(/\?/);
    expect(past).toMatch(/in the past/);
    expect(nonsense).toMatch(/is not a schedule/);
    expect(nonsense).toContain('/schedule <when>');
    expect(await jobs.list(context.userId)).toEqual([]);
  });

  it('shows usage for a bare /schedule, and refuses unknown or ambiguous ids', async () => {
    // Prepare
    const { commands, context } = setup();

    // Act
    const usage = await commands.run('schedule', '', context, '/openclaw ');
    const empty = await commands.run('schedules', '', context);
    const badId = await commands.run('unschedule', 'x', context);
    const unknown = await commands.run('unschedule', 'abcdef12', context);

    // Assess
    expect(usage).toContain('/openclaw schedule <when>');
    expect(empty).toContain('You have no scheduled jobs.');
    expect(badId).toContain('Name the job by its id');
    expect(unknown).toContain('You have no scheduled job abcdef12');
  });

  it('a job made with "in 10m" fires once at its time', async () => {
    // Prepare
    const { commands, scheduler, events, clock, context } = setup();
    await commands.run('schedule', 'in 10m Remind me', context);

    // Act
    const early = await scheduler.tick();
    clock.now = NOW + 10 * 60_000;
    const due = await scheduler.tick();

    // Assess
    expect(early).toBe(0);
    expect(due).toBe(1);
    expect(events.at(-1)).toMatchObject({
      detailType: 'ScheduleFired.v1',
      detail: { prompt: 'Remind me', replyTo: context.replyTo, firedAt: '2026-11-25T07:10:00.000Z' },
    });
  });
});
