import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore } from '../../producers/schedule/jobs.ts';
import { recordingScheduler } from '../../producers/schedule/test-fixtures.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import manifest from './schedule-plugin/openclaw.plugin.json' with { type: 'json' };
import { createScheduleToolSet, SCHEDULE_TOOL_DEFINITIONS, SCHEDULE_TOOL_NAMES } from './schedule-tools.ts';
import {
  AGENT_TOOL_BRIDGE_KEY,
  type AgentToolBridge,
  installToolBridge,
  runWithToolTurn,
} from './tool-bridge.ts';

const NOW = Date.parse('2026-11-25T09:00:00Z');

describe('the agent schedule tools (JobStore on dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup(overrides: { maxJobsPerUser?: number } = {}) {
    const { scheduler, calls } = recordingScheduler();
    const jobs = createJobStore({ storage: aws.storage, scheduler, now: () => NOW, ...overrides });
    users += 1;
    const turn = {
      userId: `tools-user-${users}`,
      replyTo: { channel: 'telegram' as const, address: { chatId: 7 } },
      conversationId: 'chat-1',
    };
    return { jobs, calls, turn, tools: createScheduleToolSet({ jobs, now: () => NOW }) };
  }

  it('creates "in 2h" for the turn\'s user and chat and tells the model the id and next run', async () => {
    // Prepare
    const { jobs, tools, turn } = setup();

    // Act
    const result = await tools.call(turn, 'schedule_create', { when: 'in 2h', prompt: 'Stretch' });

    // Assess
    const [job] = await jobs.list(turn.userId);
    expect(job).toMatchObject({
      userId: turn.userId,
      expression: 'at(2026-11-25T11:00:00)',
      timeZone: 'UTC',
      replyTo: turn.replyTo,
      conversationId: 'chat-1',
      prompt: 'Stretch',
    });
    expect(result.ok).toBe(true);
    expect(result.text).toContain(job!.jobId);
    expect(result.text).toContain('next run 2026-11-25 11:00 UTC (2026-11-25T11:00:00.000Z)');
    expect(result.details).toMatchObject({ jobId: job!.jobId, nextFireAt: '2026-11-25T11:00:00.000Z' });
  });

  it('keeps the zone for clock times, and lists, pauses, resumes and deletes by short id', async () => {
    // Prepare
    const { jobs, tools, turn, calls } = setup();
    const created = await tools.call(turn, 'schedule_create', {
      when: 'every day 08:00',
      timeZone: 'Europe/Berlin',
      prompt: 'Morning brief',
    });
    const jobId = created.details?.jobId as string;
    const short = jobId.slice(0, 8);

    // Act
    const listed = await tools.call(turn, 'schedule_list', {});
    const paused = await tools.call(turn, 'schedule_pause', { jobId: short });
    const resumed = await tools.call(turn, 'schedule_resume', { jobId: short });
    const deleted = await tools.call(turn, 'schedule_delete', { jobId: short });

    // Assess
    expect(created.text).toContain(
      'cron(0 8 * * ? *) Europe/Berlin, next run 2026-11-26 08:00 Europe/Berlin',
    );
    expect(listed).toMatchObject({ ok: true, details: { jobIds: [jobId] } });
    expect(listed.text).toContain('Morning brief');
    expect(paused).toMatchObject({ ok: true, details: { enabled: false } });
    expect(resumed).toMatchObject({ ok: true, details: { enabled: true } });
    expect(deleted).toEqual({ ok: true, text: `Deleted job ${jobId}.`, details: { jobId } });
    expect(await jobs.list(turn.userId)).toEqual([]);
    expect(calls.map((call) => call.action)).toEqual(['upsert', 'pause', 'resume', 'remove']);
  });

  it.each([
    [
      'an argument naming another user',
      { when: 'in 1h', prompt: 'x', userId: 'victim' },
      /Unrecognized key.*userId/,
    ],
    ['a missing prompt', { when: 'in 1h' }, /^Invalid schedule_create arguments: prompt:/],
    ['a schedule that is not one', { when: 'tomorrowish', prompt: 'x' }, /"tomorrowish" is not a schedule/],
    [
      'a prompt inside the schedule',
      { when: 'in 2h stretch', prompt: 'x' },
      /does not belong in the schedule/,
    ],
    ['a schedule firing too often', { when: 'every 1m', prompt: 'x' }, /may fire at most every 5 minutes/],
    ['an unknown zone', { when: 'every day 08:00', timeZone: 'Mars/Base', prompt: 'x' }, /Mars\/Base/],
  ])('refuses %s with a text for the model, storing nothing', async (_what, params, message) => {
    const { jobs, tools, turn } = setup();

    const result = await tools.call(turn, 'schedule_create', params);

    expect(result.ok).toBe(false);
    expect(result.text).toMatch(message);
    expect(await jobs.list(turn.userId)).toEqual([]);
  });

  it("says when the user's job limit is reached, and never touches another user's job", async () => {
    // Prepare
    const { tools, turn } = setup({ maxJobsPerUser: 1 });
    const first = await tools.call(turn, 'schedule_create', { when: 'in 1h', prompt: 'one' });
    const other = { ...turn, userId: `${turn.userId}-other` };

    // Act
    const second = await tools.call(turn, 'schedule_create', { when: 'in 2h', prompt: 'two' });
    const foreignDelete = await tools.call(other, 'schedule_delete', { jobId: first.details?.jobId });

    // Assess
    expect(second.ok).toBe(false);
    expect(second.text).toBe('You have 1 scheduled jobs already; delete one first.');
    expect(foreignDelete).toEqual({ ok: false, text: expect.stringContaining('no scheduled job') });
  });

  it('the bridge acts only inside a turn, for that turn', async () => {
    // Prepare
    const { jobs, tools, turn } = setup();
    installToolBridge(tools);
    const bridge = (globalThis as Record<symbol, unknown>)[AGENT_TOOL_BRIDGE_KEY] as AgentToolBridge;

    // Act
    const outside = await bridge.call('schedule_create', { when: 'in 1h', prompt: 'x' });
    const inside = await runWithToolTurn(turn, () =>
      bridge.call('schedule_create', { when: 'in 1h', prompt: 'y' }),
    );

    // Assess
    expect(outside).toEqual({ ok: false, text: 'This tool is not available outside a chat turn.' });
    expect(inside.ok).toBe(true);
    expect((await jobs.list(turn.userId)).map((job) => job.prompt)).toEqual(['y']);
    expect(bridge.definitions().map((definition) => definition.name)).toEqual([...SCHEDULE_TOOL_NAMES]);
  });

  it('declares every tool in the plugin manifest, with strict argument schemas', () => {
    expect(manifest.contracts.tools).toEqual([...SCHEDULE_TOOL_NAMES]);
    for (const definition of SCHEDULE_TOOL_DEFINITIONS) {
      expect(definition.parameters).toMatchObject({ type: 'object', additionalProperties: false });
      expect(JSON.stringify(definition.parameters)).not.toMatch(/userId|conversationId|replyTo/);
    }
  });
});
