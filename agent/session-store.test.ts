import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../test/fixtures/local-aws.ts';
import { createSessionStore } from './session-store.ts';

describe('the session store (state directory <-> S3 on s3rver)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let store: ReturnType<typeof createSessionStore>;
  beforeAll(async () => {
    aws = await startLocalAws();
    store = createSessionStore({ bucket: aws.bucket, client: aws.s3Client });
  });
  afterAll(() => aws.close());

  it('starts a user with nothing saved from an empty directory', async () => {
    const { outcome, stateDir } = await store.restore('new-user', join(aws.dir, 'machine-0', 'new-user'));
    expect(outcome).toBe('fresh');
    await expect(readFile(join(stateDir, 'anything'))).rejects.toThrow();
  });

  it('round-trips nested files, SQLite WAL included, to another machine', async () => {
    // Prepare
    const { stateDir: source } = await store.restore('user-1', join(aws.dir, 'machine-a', 'user-1'));
    await mkdir(join(source, 'agents', 'main'), { recursive: true });
    await writeFile(join(source, 'agents', 'main', 'openclaw-agent.sqlite'), Buffer.from([0, 1, 2, 3, 255]));
    await writeFile(join(source, 'agents', 'main', 'openclaw-agent.sqlite-wal'), 'wal');

    // Act
    await store.save('user-1', source);
    const restored = await store.restore('user-1', join(aws.dir, 'machine-b', 'user-1'));

    // Assess
    expect(restored.outcome).toBe('downloaded');
    expect(await readFile(join(restored.stateDir, 'agents', 'main', 'openclaw-agent.sqlite'))).toEqual(
      Buffer.from([0, 1, 2, 3, 255]),
    );
    expect(
      await readFile(join(restored.stateDir, 'agents', 'main', 'openclaw-agent.sqlite-wal'), 'utf8'),
    ).toBe('wal');
  });

  it('keeps a warm copy that is current, and unpacks a newer state into a new directory', async () => {
    // Prepare: machine W saves, then machine O saves a newer state
    const warmUser = join(aws.dir, 'machine-w', 'user-2');
    const first = await store.restore('user-2', warmUser);
    await writeFile(join(first.stateDir, 'n'), '1');
    await store.save('user-2', first.stateDir);
    const cached = await store.restore('user-2', warmUser);
    const other = await store.restore('user-2', join(aws.dir, 'machine-o', 'user-2'));
    await writeFile(join(other.stateDir, 'n'), '2');
    await store.save('user-2', other.stateDir);

    // Act
    const refreshed = await store.restore('user-2', warmUser);

    // Assess
    expect(cached).toEqual({ outcome: 'cached', stateDir: first.stateDir });
    expect(refreshed.outcome).toBe('downloaded');
    expect(refreshed.stateDir).not.toBe(first.stateDir);
    expect(await readFile(join(refreshed.stateDir, 'n'), 'utf8')).toBe('2');
    await expect(readFile(join(first.stateDir, 'n'))).rejects.toThrow();
  });

  it("leaves OpenClaw's scratch dir tmp/ out of the snapshot, but not files merely named tmp", async () => {
    // Prepare
    const { stateDir: source } = await store.restore('user-tmp', join(aws.dir, 'machine-a', 'user-tmp'));
    await mkdir(join(source, 'tmp', 'plugin-captures', 'x'), { recursive: true });
    await writeFile(join(source, 'tmp', 'plugin-captures', 'x', 'index.ts'), 'scratch');
    await mkdir(join(source, 'agents', 'tmp'), { recursive: true });
    await writeFile(join(source, 'agents', 'tmp', 'kept.txt'), 'kept');

    // Act
    await store.save('user-tmp', source);
    const restored = await store.restore('user-tmp', join(aws.dir, 'machine-b', 'user-tmp'));

    // Assess
    expect(await readFile(join(restored.stateDir, 'agents', 'tmp', 'kept.txt'), 'utf8')).toBe('kept');
    await expect(
      readFile(join(restored.stateDir, 'tmp', 'plugin-captures', 'x', 'index.ts')),
    ).rejects.toThrow();
  });

  it('keeps users apart', async () => {
    const a = await store.restore('user-a', join(aws.dir, 'machine-c', 'user-a'));
    await writeFile(join(a.stateDir, 'secret'), 'a only');
    await store.save('user-a', a.stateDir);
    const b = await store.restore('user-b', join(aws.dir, 'machine-c', 'user-b'));
    expect(b.outcome).toBe('fresh');
    await expect(readFile(join(b.stateDir, 'secret'))).rejects.toThrow();
  });
});
