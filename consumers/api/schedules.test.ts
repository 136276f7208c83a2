import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore } from '../../producers/schedule/index.ts';
import { jobInput, recordingLogger, recordingScheduler } from '../../producers/schedule/test-fixtures.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createSchedulesHandler, MAX_BODY_BYTES } from './schedules.ts';

const START = Date.parse('2026-07-06T06:00:00Z');

interface Request {
  sub?: unknown;
  jobId?: string;
  body?: unknown;
  /** Sent as is (not JSON-encoded) when a string. */
  rawBody?: string;
  headers?: Record<string, string>;
  isBase64Encoded?: boolean;
}

function event(routeKey: string, request: Request = {}): APIGatewayProxyEventV2WithJWTAuthorizer {
  // A `sub` key set to undefined means "no subject", not the default user.
  const sub = 'sub' in request ? request.sub : 'user-1';
  const { jobId, body, rawBody, headers = {}, isBase64Encoded = false } = request;
  return {
    routeKey,
    headers: { 'content-type': 'application/json', ...headers },
    ...(jobId === undefined ? {} : { pathParameters: { jobId } }),
    ...(rawBody !== undefined ? { body: rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    isBase64Encoded,
    requestContext: { authorizer: { jwt: { claims: sub === undefined ? {} : { sub } } } },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

interface Answer {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

describe('the scheduled jobs API (/v1/schedules)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup(overrides: { maxJobsPerUser?: number } = {}) {
    const clock = { now: START };
    const sched = recordingScheduler();
    const log = recordingLogger();
    const jobs = createJobStore({
      storage: aws.storage,
      scheduler: sched.scheduler,
      now: () => clock.now,
      ...overrides,
    });
    const api = createSchedulesHandler({ jobs, logger: log.logger });
    users += 1;
    const userId = `user-${users}`;
    const call = async (routeKey: string, request: Request = {}) => {
      const answer = (await api(event(routeKey, { sub: userId, ...request }))) as Answer;
      return { ...answer, json: answer.body ? JSON.parse(answer.body) : undefined };
    };
    return { api, jobs, call, clock, userId, ...sched, ...log };
  }

  const webReply = { channel: 'web', address: { connectionId: 'abc=' } };
  const newJob = (overrides: Record<string, unknown> = {}) => ({
    prompt: 'Summarise my inbox',
    expression: 'cron(0 8 ? * mon-fri *)',
    timeZone: 'Europe/Berlin',
    replyTo: webReply,
    ...overrides,
  });

  it('creates, lists, gets, edits, pauses, resumes and deletes a job', async () => {
    // Prepare
    const { call, calls, userId, jobs } = setup();

    // Act: create
    const created = await call('POST /v1/schedules', { body: newJob() });

    // Assess
    expect(created.statusCode).toBe(201);
    expect(created.headers?.etag).toBe('"1"');
    const jobId = created.json.jobId as string;
    expect(created.json).toMatchObject({
      prompt: 'Summarise my inbox',
      expression: 'cron(0 8 ? * MON-FRI *)',
      timeZone: 'Europe/Berlin',
      replyTo: webReply,
      enabled: true,
      version: 1,
      nextFireAt: '2026-07-06T06:00:00.000Z',
    });
    expect(created.json.conversationId).toMatch(/^schedule-/);
    expect(created.json).not.toHaveProperty('userId');
    expect((await jobs.get(userId, jobId))?.prompt).toBe('Summarise my inbox');

    // Act: list and get
    const listed = await call('GET /v1/schedules');
    const got = await call('GET /v1/schedules/{jobId}', { jobId });

    // Assess
    expect(listed.statusCode).toBe(200);
    expect(listed.json).toEqual({ schedules: [created.json] });
    expect(got.statusCode).toBe(200);
    expect(got.json).toEqual(created.json);

    // Act: edit, conditional on the version just read
    const edited = await call('PATCH /v1/schedules/{jobId}', {
      jobId,
      body: { prompt: 'Summarise my calendar', expression: 'rate(1 hour)', runtime: 'fargate' },
      headers: { 'if-match': String(created.headers?.etag) },
    });

    // Assess
    expect(edited.statusCode).toBe(200);
    expect(edited.json).toMatchObject({
      prompt: 'Summarise my calendar',
      expression: 'rate(1 hour)',
      runtime: 'fargate',
      version: 2,
    });

    // Act: pause and resume
    const paused = await call('POST /v1/schedules/{jobId}/pause', { jobId });
    const resumed = await call('POST /v1/schedules/{jobId}/resume', { jobId });

    // Assess
    expect(paused.statusCode).toBe(200);
    expect(paused.json).toMatchObject({ enabled: false, version: 3, nextFireAt: null });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json).toMatchObject({ enabled: true, version: 4 });
    expect(resumed.json.nextFireAt).not.toBeNull();

    // Act: delete
    const deleted = await call('DELETE /v1/schedules/{jobId}', { jobId });

    // Assess
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect((await call('GET /v1/schedules/{jobId}', { jobId })).statusCode).toBe(404);
    expect((await call('GET /v1/schedules')).json).toEqual({ schedules: [] });
    expect(calls.map((c) => c.action)).toEqual(['upsert', 'upsert', 'pause', 'resume', 'remove']);
  });

  it('keeps a conversationId and optional fields the caller gives', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const created = await call('POST /v1/schedules', {
      body: newJob({
        conversationId: 'morning-brief',
        replyTo: { channel: 'telegram', address: { chatId: 42 } },
        endDate: '2026-12-31T00:00:00Z',
      }),
    });

    // Assess
    expect(created.statusCode).toBe(201);
    expect(created.json).toMatchObject({
      conversationId: 'morning-brief',
      replyTo: { channel: 'telegram', address: { chatId: 42 } },
      endDate: '2026-12-31T00:00:00.000Z',
    });
  });

  it.each([
    ['no subject', undefined],
    ['a subject that is not an id', 'a b#c'],
    ['a non-string subject', 42],
  ])('refuses %s with 401 and touches nothing', async (_name, sub) => {
    // Prepare
    const { api, calls } = setup();

    // Act
    const answer = (await api(event('POST /v1/schedules', { sub, body: newJob() }))) as Answer;

    // Assess
    expect(answer.statusCode).toBe(401);
    expect(JSON.parse(answer.body!)).toEqual({ code: 'UNAUTHORIZED', message: 'Sign in again.' });
    expect(calls).toEqual([]);
  });

  it("answers another user's job with 404, exactly like a missing one, and leaves it alone", async () => {
    // Prepare
    const owner = setup();
    const other = setup();
    const { jobId } = await owner.jobs.create(owner.userId, jobInput());
    const routes = [
      ['GET /v1/schedules/{jobId}', undefined],
      ['PATCH /v1/schedules/{jobId}', { prompt: 'mine now' }],
      ['DELETE /v1/schedules/{jobId}', undefined],
      ['POST /v1/schedules/{jobId}/pause', undefined],
      ['POST /v1/schedules/{jobId}/resume', undefined],
    ] as const;

    // Act
    const answers = await Promise.all(routes.map(([route, body]) => other.call(route, { jobId, body })));
    const missing = await other.call('GET /v1/schedules/{jobId}', { jobId: 'no-such-job' });

    // Assess
    for (const answer of answers) {
      expect(answer.statusCode).toBe(404);
      expect(answer.json).toEqual(missing.json);
    }
    expect(missing.json).toEqual({ code: 'NOT_FOUND', message: 'No scheduled job with this id.' });
    expect(answers.map((a) => a.body).join('')).not.toContain(owner.userId);
    expect((await other.call('GET /v1/schedules')).json).toEqual({ schedules: [] });
    expect(await owner.jobs.get(owner.userId, jobId)).toMatchObject({ version: 1, enabled: true });
  });

  it.each([
    ['bad JSON', { rawBody: '{"prompt": ' }, 400, 'INVALID_JSON'],
    ['an empty body', { rawBody: '' }, 400, 'INVALID_JSON'],
    ['a JSON array', { body: [newJob()] }, 400, 'INVALID_JSON'],
    ['JSON null', { rawBody: 'null' }, 400, 'INVALID_JSON'],
    [
      'a form body',
      { body: newJob(), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['a body over the cap', { body: newJob({ prompt: 'x'.repeat(MAX_BODY_BYTES) }) }, 413, 'BODY_TOO_LARGE'],
    [
      'a base64 body over the cap',
      { rawBody: Buffer.from('x'.repeat(MAX_BODY_BYTES + 1)).toString('base64'), isBase64Encoded: true },
      413,
      'BODY_TOO_LARGE',
    ],
    ['an unknown field', { body: newJob({ userId: 'someone-else' }) }, 400, 'UNKNOWN_FIELD'],
    ['no replyTo', { body: newJob({ replyTo: undefined }) }, 400, 'MISSING_REPLY_TO'],
  ] as const)(
    'refuses %s on create with a clear error and creates nothing',
    async (_name, request, status, code) => {
      // Prepare
      const { call, calls } = setup();

      // Act
      const answer = await call('POST /v1/schedules', request as Request);

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.json.code).toBe(code);
      expect(answer.json.message).toEqual(expect.any(String));
      expect(calls).toEqual([]);
      expect((await call('GET /v1/schedules')).json).toEqual({ schedules: [] });
    },
  );

  it('names the unknown field and the allowed ones', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const answer = await call('POST /v1/schedules', { body: newJob({ userId: 'someone-else' }) });

    // Assess
    expect(answer.json.fields).toEqual(['userId']);
    expect(answer.json.message).toContain('"userId"');
    expect(answer.json.message).toContain('prompt');
  });

  it('accepts a base64-encoded JSON body', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const answer = await call('POST /v1/schedules', {
      rawBody: Buffer.from(JSON.stringify(newJob())).toString('base64'),
      isBase64Encoded: true,
    });

    // Assess
    expect(answer.statusCode).toBe(201);
  });

  it('refuses an invalid cron with the store message, naming the field', async () => {
    // Prepare
    const { call, calls } = setup();

    // Act
    const answer = await call('POST /v1/schedules', { body: newJob({ expression: 'cron(0 8 * * * *)' }) });

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(answer.json).toMatchObject({ code: 'INVALID_JOB', field: 'expression' });
    expect(answer.json.message).toMatch(/day-of-month|day-of-week/);
    expect(calls).toEqual([]);
  });

  it.each([
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, 'timeZone'],
    ['an empty prompt', { prompt: '' }, 'prompt'],
    ['a replyTo of the wrong shape', { replyTo: { channel: 'Bad Channel', address: {} } }, 'replyTo'],
    ['an at() in the past', { expression: 'at(2026-07-01T08:00:00)' }, 'expression'],
  ])('refuses %s with 400 and the field', async (_name, overrides, field) => {
    // Prepare
    const { call } = setup();

    // Act
    const answer = await call('POST /v1/schedules', { body: newJob(overrides) });

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(answer.json).toMatchObject({ code: 'INVALID_JOB', field });
  });

  it('refuses a schedule that fires more often than every 5 minutes, on create and on edit', async () => {
    // Prepare
    const { call, jobs, userId } = setup();
    const { jobId } = await jobs.create(userId, jobInput());

    // Act
    const created = await call('POST /v1/schedules', { body: newJob({ expression: 'rate(1 minute)' }) });
    const edited = await call('PATCH /v1/schedules/{jobId}', {
      jobId,
      body: { expression: 'rate(2 minutes)' },
    });

    // Assess
    for (const answer of [created, edited]) {
      expect(answer.statusCode).toBe(422);
      expect(answer.json.code).toBe('TOO_FREQUENT');
      expect(answer.json.message).toContain('every 5 minutes');
    }
    expect(await jobs.list(userId)).toHaveLength(1);
    expect((await jobs.get(userId, jobId))?.version).toBe(1);
  });

  it('refuses a job over the per-user limit', async () => {
    // Prepare
    const { call, jobs, userId } = setup({ maxJobsPerUser: 2 });
    await jobs.create(userId, jobInput());
    await jobs.create(userId, jobInput());

    // Act
    const answer = await call('POST /v1/schedules', { body: newJob() });

    // Assess
    expect(answer.statusCode).toBe(422);
    expect(answer.json).toEqual({
      code: 'TOO_MANY_JOBS',
      message: 'You have 2 scheduled jobs already; delete one first.',
    });
    expect(await jobs.list(userId)).toHaveLength(2);
  });

  it('answers a stale If-Match with 409 and the current version, and a malformed one with 400', async () => {
    // Prepare
    const { call, jobs, userId } = setup();
    const { jobId } = await jobs.create(userId, jobInput());
    await jobs.pause(userId, jobId);

    // Act
    const stale = await call('PATCH /v1/schedules/{jobId}', {
      jobId,
      body: { prompt: 'late edit' },
      headers: { 'if-match': '"1"' },
    });
    const malformed = await call('DELETE /v1/schedules/{jobId}', {
      jobId,
      headers: { 'if-match': 'yesterday' },
    });

    // Assess
    expect(stale.statusCode).toBe(409);
    expect(stale.json).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 2 });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json.code).toBe('INVALID_IF_MATCH');
    expect(await jobs.get(userId, jobId)).toMatchObject({ version: 2, prompt: 'Summarise my inbox' });
  });

  it('refuses edits that are empty or name unknown fields, and job ids that are not ids', async () => {
    // Prepare
    const { call, jobs, userId } = setup();
    const { jobId } = await jobs.create(userId, jobInput());

    // Act
    const empty = await call('PATCH /v1/schedules/{jobId}', { jobId, body: {} });
    const unknown = await call('PATCH /v1/schedules/{jobId}', { jobId, body: { enabled: false } });
    const badId = await call('GET /v1/schedules/{jobId}', { jobId: '../other#job' });
    const noId = await call('POST /v1/schedules/{jobId}/pause');

    // Assess
    expect([empty.statusCode, empty.json.code]).toEqual([400, 'EMPTY_EDIT']);
    expect([unknown.statusCode, unknown.json.code]).toEqual([400, 'UNKNOWN_FIELD']);
    expect([badId.statusCode, badId.json.code]).toEqual([400, 'INVALID_JOB_ID']);
    expect([noId.statusCode, noId.json.code]).toEqual([400, 'INVALID_JOB_ID']);
    expect((await jobs.get(userId, jobId))?.version).toBe(1);
  });

  it('answers 502 when the scheduler refuses, without a stack, and leaves the table as it was', async () => {
    // Prepare
    const { call, jobs, userId, state, lines } = setup();
    const existing = await jobs.create(userId, jobInput());
    state.failing = true;

    // Act
    const created = await call('POST /v1/schedules', { body: newJob() });
    const edited = await call('PATCH /v1/schedules/{jobId}', {
      jobId: existing.jobId,
      body: { prompt: 'changed' },
    });
    const paused = await call('POST /v1/schedules/{jobId}/pause', { jobId: existing.jobId });
    const deleted = await call('DELETE /v1/schedules/{jobId}', { jobId: existing.jobId });

    // Assess
    for (const answer of [created, edited, paused, deleted]) {
      expect(answer.statusCode).toBe(502);
      expect(answer.json).toMatchObject({ code: 'SCHEDULER_UNAVAILABLE', retryable: true });
      expect(answer.json.message).toContain('nothing was changed; try again');
      expect(answer.body).not.toContain('scheduler unavailable');
      expect(answer.body).not.toMatch(/\bat .*\.ts:\d+/);
    }
    expect(await jobs.list(userId)).toEqual([existing]);
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(4);
  });

  it('answers an unknown route with 404', async () => {
    // Prepare
    const { call } = setup();

    // Act
    const answer = await call('PUT /v1/schedules');

    // Assess
    expect(answer.statusCode).toBe(404);
    expect(answer.json.code).toBe('NO_SUCH_ROUTE');
  });
});
