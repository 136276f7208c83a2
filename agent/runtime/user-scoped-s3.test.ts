import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/aws-config.ts';
import { type FakeSts, startFakeSts } from '../../test/fixtures/fake-sts.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createSessionStore } from '../session-store.ts';
import {
  userS3SessionPolicy,
  userScopedS3Credentials,
  userScopedS3CredentialsFromEnv,
} from './user-scoped-s3.ts';

const ROLE = 'arn:aws:iam::123456789012:role/agent-s3';
const TASK_ROLE_KEYS = { accessKeyId: 'ASIATASKROLE', secretAccessKey: 'task-role-secret' };

/** Every S3 resource a policy names, ListBucket's prefix conditions included. */
function resourcesOf(policy: string): string[] {
  const statements = JSON.parse(policy).Statement as {
    Resource: string;
    Condition?: { StringLike: { 's3:prefix': string[] } };
  }[];
  return statements.flatMap((s) => [s.Resource, ...(s.Condition?.StringLike['s3:prefix'] ?? [])]);
}

describe('user-scoped S3 credentials for a Fargate task', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let sts: FakeSts;
  beforeAll(async () => {
    aws = await startLocalAws();
    // The fake STS hands out s3rver's own key pair, so S3 accepts what the role session signs.
    sts = await startFakeSts(LOCAL_CREDENTIALS);
    // The session store's own client, as in the task: endpoint and region from the environment.
    vi.stubEnv('AWS_ENDPOINT_URL_S3', aws.s3Endpoint);
    vi.stubEnv('AWS_REGION', LOCAL_REGION);
    vi.stubEnv('S3_FORCE_PATH_STYLE', 'true');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await sts.close();
    await aws.close();
  });

  it('names only the user’s own prefixes: sessions read/write, skills read, media write, list under both', () => {
    const policy = JSON.parse(userS3SessionPolicy('arn:aws:s3:::state', 'user:a'));

    expect(policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: 'arn:aws:s3:::state/sessions/user%3Aa/*',
      },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::state/skills/user%3Aa/*' },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::state/media/user%3Aa/*' },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::state',
        Condition: { StringLike: { 's3:prefix': ['sessions/user%3Aa/*', 'skills/user%3Aa/*'] } },
      },
    ]);
    // A user whose id starts like another's gets a prefix that cannot match the other's keys.
    for (const resource of resourcesOf(userS3SessionPolicy('arn:aws:s3:::state', 'user'))) {
      expect(resource).toMatch(/(sessions|skills|media)\/user\/\*$|^arn:aws:s3:::state$/);
    }
  });

  it('assumes the role once with the user’s session policy, and the session store works with those keys', async () => {
    // Prepare: the task's S3 client signs with the role session, the STS call with the task role's keys
    const credentials = userScopedS3Credentials({
      roleArn: ROLE,
      bucket: aws.bucket,
      userId: 'alice',
      stsConfig: {
        region: LOCAL_REGION,
        endpoint: sts.endpoint,
        credentials: TASK_ROLE_KEYS,
        maxAttempts: 1,
      },
    });
    const store = createSessionStore({ bucket: aws.bucket, credentials });
    const before = sts.calls.length;

    // Act: a save and a restore elsewhere, several S3 calls
    const { stateDir } = await store.restore('alice', join(aws.dir, 'task-1', 'alice'));
    await mkdir(join(stateDir, 'agents'), { recursive: true });
    await writeFile(join(stateDir, 'agents', 'note'), 'hello');
    await store.save('alice', stateDir);
    const restored = await store.restore('alice', join(aws.dir, 'task-2', 'alice'));

    // Assess
    expect(await readFile(join(restored.stateDir, 'agents', 'note'), 'utf8')).toBe('hello');
    const calls = sts.calls.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ roleArn: ROLE, durationSeconds: 3600, signedBy: 'ASIATASKROLE' });
    // The user id stays out of CloudTrail's session name.
    expect(calls[0]!.roleSessionName).toMatch(/^agent-[0-9a-f]{32}$/);
    expect(calls[0]!.roleSessionName).not.toContain('alice');
    const resources = resourcesOf(calls[0]!.policy!);
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources)
      expect(resource).toMatch(/(sessions|skills|media)\/alice\/\*$|:::test-bucket$/);
  });

  it('is off without AGENT_S3_ROLE_ARN (local mode: the default chain, s3rver’s keys)', () => {
    expect(userScopedS3CredentialsFromEnv('alice', { STATE_BUCKET: 'b' })).toBeUndefined();
    expect(
      typeof userScopedS3CredentialsFromEnv('alice', { STATE_BUCKET: 'b', AGENT_S3_ROLE_ARN: ROLE }),
    ).toBe('function');
    expect(() => userScopedS3CredentialsFromEnv('alice', { AGENT_S3_ROLE_ARN: ROLE })).toThrow(
      /STATE_BUCKET/,
    );
  });
});
