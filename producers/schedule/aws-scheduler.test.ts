import { ConflictException, ResourceNotFoundException } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { ScheduleFiredSchema } from '../../schemas/index.ts';
import { createAwsJobScheduler, SCHEDULED_TIME_PLACEHOLDER, scheduleName } from './aws-scheduler.ts';
import type { ScheduleJob } from './jobs.ts';

/** A SchedulerClient whose `send` records each command and answers from a script. */
function fakeClient(answers: ((name: string) => unknown)[] = []) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      const answer = answers.shift();
      const result = answer?.(name);
      if (result instanceof Error) throw result;
      return result ?? {};
    },
  };
  return { client: client as never, sent };
}

const job: ScheduleJob = {
  userId: 'web:ada-1',
  jobId: 'job-1',
  prompt: 'Summarise my inbox',
  expression: 'cron(0 8 ? * MON-FRI *)',
  timeZone: 'Europe/Berlin',
  replyTo: { channel: 'telegram', address: { chatId: 42 } },
  conversationId: 'morning-brief',
  runtime: 'lambda',
  enabled: true,
  endDate: '2027-01-01T00:00:00.000Z',
  createdAt: '2026-07-06T06:00:00.000Z',
  updatedAt: '2026-07-06T06:00:00.000Z',
  version: 1,
};

const env = {
  groupName: 'openclaw-jobs',
  eventBusArn: 'arn:aws:events:eu-central-1:123456789012:event-bus/openclaw',
  roleArn: 'arn:aws:iam::123456789012:role/openclaw-scheduler',
  deadLetterArn: 'arn:aws:sqs:eu-central-1:123456789012:openclaw-schedule-dlq',
};

describe('the AWS job scheduler (EventBridge Scheduler, mocked client)', () => {
  it('names schedules within 64 allowed characters, without the raw user id', () => {
    // Act
    const name = scheduleName(job);

    // Assess
    expect(name).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
    expect(name).not.toContain('ada');
    expect(name).toBe(scheduleName({ userId: job.userId, jobId: job.jobId }));
    expect(name).not.toBe(scheduleName({ userId: job.userId, jobId: 'job-2' }));
  });

  it('creates the schedule with the exact request shape: bus target, role, retries, DLQ, ScheduleFired input', async () => {
    // Prepare
    const { client, sent } = fakeClient();
    const scheduler = createAwsJobScheduler({ client, ...env });

    // Act
    await scheduler.upsert(job);

    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]?.name).toBe('CreateScheduleCommand');
    const { Target, ...rest } = (sent[0]?.input ?? {}) as { Target: { Input: string } };
    expect(rest).toEqual({
      Name: scheduleName(job),
      GroupName: 'openclaw-jobs',
      Description: 'openclaw job job-1',
      ScheduleExpression: 'cron(0 8 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      EndDate: new Date('2027-01-01T00:00:00Z'),
      ActionAfterCompletion: 'NONE',
    });
    expect(Target).toEqual({
      Arn: env.eventBusArn,
      RoleArn: env.roleArn,
      EventBridgeParameters: { DetailType: 'ScheduleFired.v1', Source: 'openclaw.scheduler' },
      Input: expect.any(String),
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: env.deadLetterArn },
    });
    const input = JSON.parse(Target.Input);
    expect(input).toEqual({
      userId: job.userId,
      scheduleId: 'job-1',
      firedAt: SCHEDULED_TIME_PLACEHOLDER,
      prompt: job.prompt,
      conversationId: job.conversationId,
      replyTo: job.replyTo,
      runtime: 'lambda',
    });
    // Once AWS substitutes the scheduled time, the input is a valid ScheduleFired detail.
    const substituted = Target.Input.replace(SCHEDULED_TIME_PLACEHOLDER, '2026-07-07T06:00:00Z');
    expect(ScheduleFiredSchema.safeParse(JSON.parse(substituted)).success).toBe(true);
  });

  it('deletes one-time at() schedules after completion and sends no EndDate for them', async () => {
    // Prepare
    const { client, sent } = fakeClient();
    const scheduler = createAwsJobScheduler({ client, ...env });
    const { endDate: _none, ...rest } = job;

    // Act
    await scheduler.upsert({ ...rest, expression: 'at(2026-07-10T08:00:00)' });

    // Assess
    expect(sent[0]?.input).toMatchObject({
      ActionAfterCompletion: 'DELETE',
      ScheduleExpression: 'at(2026-07-10T08:00:00)',
    });
    expect(sent[0]?.input).not.toHaveProperty('EndDate');
  });

  it('updates when the schedule exists already (ConflictException), and pauses as DISABLED', async () => {
    // Prepare
    const conflict = () => new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
    const { client, sent } = fakeClient([conflict, () => ({}), conflict, () => ({})]);
    const scheduler = createAwsJobScheduler({ client, ...env });

    // Act
    await scheduler.upsert(job);
    await scheduler.pause({ ...job, enabled: false });

    // Assess
    expect(sent.map((s) => s.name)).toEqual([
      'CreateScheduleCommand',
      'UpdateScheduleCommand',
      'CreateScheduleCommand',
      'UpdateScheduleCommand',
    ]);
    expect(sent[1]?.input).toEqual(sent[0]?.input);
    expect(sent[3]?.input).toMatchObject({ State: 'DISABLED' });
  });

  it('treats deleting a missing schedule as done, and passes other errors on', async () => {
    // Prepare
    const missing = () => new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} });
    const throttled = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const { client, sent } = fakeClient([missing, throttled]);
    const scheduler = createAwsJobScheduler({ client, ...env });

    // Act
    await scheduler.remove(job);
    const error = await scheduler.remove(job).catch((e: unknown) => e);

    // Assess
    expect(sent[0]).toEqual({
      name: 'DeleteScheduleCommand',
      input: { Name: scheduleName(job), GroupName: 'openclaw-jobs' },
    });
    expect((error as Error).name).toBe('ThrottlingException');
  });

  it('refuses to start without its configuration, naming the variable to set', () => {
    // Act / Assess
    expect(() => createAwsJobScheduler({ ...env, groupName: '' })).toThrow(/SCHEDULE_GROUP_NAME/);
  });
});
