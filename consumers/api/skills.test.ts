import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalHttpApi, type HttpApiHandler } from '../../infra/local/http-api.ts';
import { SKILL_LIMITS } from '../../schemas/api.ts';
import { skillFileKey } from '../../schemas/skill-storage.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createSkillStore } from './skill-store.ts';
import { createSkillsHandler } from './skills.ts';

interface Request {
  sub?: unknown;
  name?: string;
  body?: string | Uint8Array;
  contentType?: string;
}

/** An HTTP API event as API Gateway builds it: binary bodies base64-encoded. */
function event(routeKey: string, request: Request = {}): APIGatewayProxyEventV2WithJWTAuthorizer {
  const sub = 'sub' in request ? request.sub : 'user-1';
  const { name, body, contentType } = request;
  const binary = body instanceof Uint8Array;
  return {
    routeKey,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    ...(name === undefined ? {} : { pathParameters: { name } }),
    ...(body === undefined ? {} : { body: binary ? Buffer.from(body).toString('base64') : body }),
    isBase64Encoded: binary,
    requestContext: { authorizer: { jwt: { claims: sub === undefined ? {} : { sub } } } },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

const skillMd = (name: string, description = `Use ${name} when asked.`, body = 'Steps.') =>
  `---\nname: ${name}\ndescription: ${description}\n---\n# ${name}\n\n${body}\n`;

interface Answer {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

describe('the custom skills API (/v1/skills)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  let users = 0;
  function setup(overrides: { maxSkillsPerUser?: number } = {}) {
    const logs: { level: string; message: string; extra: Record<string, unknown> }[] = [];
    const record =
      (level: string) =>
      (message: string, extra: Record<string, unknown> = {}) =>
        void logs.push({ level, message, extra });
    const skills = createSkillStore({
      storage: aws.storage,
      s3: aws.s3Client,
      bucket: aws.bucket,
      ...overrides,
    });
    const api = createSkillsHandler({
      skills,
      logger: { info: record('info'), warn: record('warn'), error: record('error') },
    });
    users += 1;
    const userId = `skills-user-${users}`;
    const call = async (routeKey: string, request: Request = {}, as = userId) => {
      const answer = (await api(event(routeKey, { sub: as, ...request }))) as Answer;
      return { ...answer, json: answer.body ? JSON.parse(answer.body) : undefined };
    };
    return { call, skills, userId, logs };
  }

  const readObject = async (key: string) => {
    try {
      const object = await aws.s3Client.send(new GetObjectCommand({ Bucket: aws.bucket, Key: key }));
      return await object.Body?.transformToString();
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  };

  it('uploads a SKILL.md, lists it, replaces it, disables it and deletes it', async () => {
    // Prepare
    const { call, skills, userId } = setup();

    // Act: upload
    const created = await call('POST /v1/skills', { body: skillMd('weather'), contentType: 'text/markdown' });

    // Assess
    expect(created.statusCode).toBe(201);
    expect(created.json).toEqual({
      name: 'weather',
      description: 'Use weather when asked.',
      enabled: true,
      files: 1,
      bytes: Buffer.byteLength(skillMd('weather')),
      updatedAt: expect.any(String),
    });
    const first = await skills.get(userId, 'weather');
    expect(await readObject(skillFileKey(userId, 'weather', first?.version ?? '', 'SKILL.md'))).toBe(
      skillMd('weather'),
    );
    expect((await call('GET /v1/skills')).json).toEqual({ skills: [created.json] });

    // Act: disable, then replace with new content
    const disabled = await call('PATCH /v1/skills/{name}', {
      name: 'weather',
      body: '{"enabled":false}',
      contentType: 'application/json',
    });
    const replaced = await call('POST /v1/skills', {
      body: skillMd('weather', 'Forecasts.', 'New steps.'),
      contentType: 'text/markdown; charset=utf-8',
    });

    // Assess: a replacement keeps the switch, and the old version's files are gone
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json.enabled).toBe(false);
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json).toMatchObject({ name: 'weather', description: 'Forecasts.', enabled: false });
    const second = await skills.get(userId, 'weather');
    expect(second?.version).not.toBe(first?.version);
    expect(
      await readObject(skillFileKey(userId, 'weather', first?.version ?? '', 'SKILL.md')),
    ).toBeUndefined();
    expect(await readObject(skillFileKey(userId, 'weather', second?.version ?? '', 'SKILL.md'))).toContain(
      'New steps.',
    );

    // Act: delete
    const deleted = await call('DELETE /v1/skills/{name}', { name: 'weather' });

    // Assess
    expect(deleted.statusCode).toBe(204);
    expect((await call('GET /v1/skills')).json).toEqual({ skills: [] });
    expect(
      await readObject(skillFileKey(userId, 'weather', second?.version ?? '', 'SKILL.md')),
    ).toBeUndefined();
    expect((await call('DELETE /v1/skills/{name}', { name: 'weather' })).statusCode).toBe(404);
  });

  it('uploads a zipped folder sent base64-encoded, with every file stored', async () => {
    // Prepare
    const { call, skills, userId } = setup();
    const zip = zipSync({
      'pdf-tools': {
        'SKILL.md': strToU8(skillMd('pdf-tools')),
        scripts: { 'split.py': strToU8('print(1)\n') },
      },
    });

    // Act
    const created = await call('POST /v1/skills', { body: zip, contentType: 'application/zip' });

    // Assess
    expect(created.statusCode).toBe(201);
    expect(created.json).toMatchObject({ name: 'pdf-tools', files: 2 });
    const stored = await skills.get(userId, 'pdf-tools');
    expect(stored?.paths.sort()).toEqual(['SKILL.md', 'scripts/split.py']);
    expect(
      await readObject(skillFileKey(userId, 'pdf-tools', stored?.version ?? '', 'scripts/split.py')),
    ).toBe('print(1)\n');
  });

  it("never shows, changes or deletes another user's skill", async () => {
    // Prepare
    const { call, userId } = setup();
    const other = `${userId}-other`;
    await call('POST /v1/skills', { body: skillMd('secret-skill'), contentType: 'text/markdown' });

    // Act
    const listed = await call('GET /v1/skills', {}, other);
    const patched = await call(
      'PATCH /v1/skills/{name}',
      { name: 'secret-skill', body: '{"enabled":false}', contentType: 'application/json' },
      other,
    );
    const deleted = await call('DELETE /v1/skills/{name}', { name: 'secret-skill' }, other);

    // Assess
    expect(listed.json).toEqual({ skills: [] });
    expect([patched.statusCode, patched.json.code]).toEqual([404, 'NOT_FOUND']);
    expect(deleted.statusCode).toBe(404);
    expect((await call('GET /v1/skills')).json.skills).toHaveLength(1);
  });

  it('refuses a new skill over the per-user limit with 409, but still replaces existing ones', async () => {
    // Prepare
    const { call } = setup({ maxSkillsPerUser: 2 });
    await call('POST /v1/skills', { body: skillMd('one'), contentType: 'text/markdown' });
    await call('POST /v1/skills', { body: skillMd('two'), contentType: 'text/markdown' });

    // Act
    const third = await call('POST /v1/skills', { body: skillMd('three'), contentType: 'text/markdown' });
    const replaced = await call('POST /v1/skills', {
      body: skillMd('two', 'Again.'),
      contentType: 'text/markdown',
    });

    // Assess
    expect([third.statusCode, third.json.code]).toEqual([409, 'TOO_MANY_SKILLS']);
    expect(replaced.statusCode).toBe(200);
  });

  it.each([
    ['no subject', { sub: undefined, body: skillMd('a'), contentType: 'text/markdown' }, 401, 'UNAUTHORIZED'],
    ['a JSON body', { body: '{"name":"a"}', contentType: 'application/json' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', { body: skillMd('a') }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an empty body', { body: '', contentType: 'text/markdown' }, 400, 'EMPTY_BODY'],
    [
      'a SKILL.md over 64 KB',
      { body: skillMd('a', 'b', 'x'.repeat(SKILL_LIMITS.maxSkillMdBytes)), contentType: 'text/markdown' },
      413,
      'BODY_TOO_LARGE',
    ],
    [
      'a zip over 1 MB',
      { body: new Uint8Array(SKILL_LIMITS.maxZipBytes + 1), contentType: 'application/zip' },
      413,
      'BODY_TOO_LARGE',
    ],
    [
      'no front matter',
      { body: '# Just a heading\n', contentType: 'text/markdown' },
      422,
      'MISSING_FRONT_MATTER',
    ],
    [
      'a bad skill name',
      { body: skillMd('Bad_Name'), contentType: 'text/markdown' },
      422,
      'INVALID_SKILL_NAME',
    ],
    [
      'a corrupt zip',
      { body: strToU8('PK\u0003\u0004 nope'), contentType: 'application/zip' },
      400,
      'INVALID_ZIP',
    ],
    [
      'a zip with ..',
      {
        body: zipSync({ 'SKILL.md': strToU8(skillMd('a')), '../x': strToU8('x') }),
        contentType: 'application/zip',
      },
      422,
      'UNSAFE_PATH',
    ],
  ])('refuses an upload with %s', async (_case, request, status, code) => {
    // Prepare
    const { call, logs } = setup();

    // Act
    const answer = await call('POST /v1/skills', request as Request, (request as Request).sub as string);

    // Assess
    expect(answer.statusCode).toBe(status);
    expect(answer.json).toEqual({ code, message: expect.any(String) });
    expect(logs.some((log) => log.level === 'warn')).toBe(true);
    expect(logs.some((log) => log.level === 'error')).toBe(false);
  });

  it.each([
    ['a bad name in the path', { name: 'Not..Valid', body: '{"enabled":true}' }, 400, 'INVALID_SKILL_NAME'],
    ['invalid JSON', { name: 'x', body: '{enabled' }, 400, 'INVALID_JSON'],
    ['an unknown field', { name: 'x', body: '{"enabled":true,"name":"y"}' }, 400, 'INVALID_SKILL_UPDATE'],
    ['a non-boolean', { name: 'x', body: '{"enabled":"yes"}' }, 400, 'INVALID_SKILL_UPDATE'],
    ['a skill that does not exist', { name: 'nope', body: '{"enabled":true}' }, 404, 'NOT_FOUND'],
    ['a body over 1 KB', { name: 'x', body: ' '.repeat(2000) }, 413, 'BODY_TOO_LARGE'],
  ])('refuses a change with %s', async (_case, request, status, code) => {
    // Prepare
    const { call } = setup();

    // Act
    const answer = await call('PATCH /v1/skills/{name}', { contentType: 'application/json', ...request });

    // Assess
    expect([answer.statusCode, answer.json.code]).toEqual([status, code]);
  });

  it('takes a zip and a SKILL.md over the local HTTP API, as npm start serves them', async () => {
    // Prepare: the same route table shape infra/local/stack.ts declares, on a real socket
    const { skills } = setup();
    const handler = createSkillsHandler({
      skills,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    }) as unknown as HttpApiHandler;
    const api = createLocalHttpApi({
      routes: [
        { method: 'POST', path: '/v1/skills', signedIn: true, handler },
        { method: 'GET', path: '/v1/skills', signedIn: true, handler },
      ],
      // The bearer check is local-auth's (tested there); this test is about the upload bodies.
      authorize: (request) => {
        const user = new URL(request.url ?? '/', 'http://localhost').searchParams.get('user');
        return user ? { sub: user } : undefined;
      },
    });
    const server = createServer((req, res) => void api(req, res));
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/skills?user=http-user`;
    try {
      // Act
      const zip = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/zip' },
        body: zipSync({ 'from-zip': { 'SKILL.md': strToU8(skillMd('from-zip')) } }),
      });
      const md = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'text/markdown' },
        body: skillMd('from-md'),
      });
      const list = await (await fetch(base)).json();

      // Assess
      expect([zip.status, md.status]).toEqual([201, 201]);
      expect(list.skills.map((skill: { name: string }) => skill.name)).toEqual(['from-md', 'from-zip']);
    } finally {
      server.close();
    }
  });

  it('answers an unknown route with 404', async () => {
    const { call } = setup();
    expect((await call('PUT /v1/skills')).statusCode).toBe(404);
  });
});
