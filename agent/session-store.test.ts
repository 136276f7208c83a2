import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
    const dir = join(aws.dir, 'fresh');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'leftover'), 'from someone else');
    expect(await store.restore('new-user', dir)).toBe('fresh');
    await expect(readFile(join(dir, 'leftover'))).rejects.toThrow();
  });

  it('round-trips nested files into a different machine directory', async () => {
    const source = join(aws.dir, 'machine-a');
    await mkdir(join(source, 'agents', 'main'), { recursive: true });
    await writeFile(join(source, 'agents', 'main', 'openclaw-agent.sqlite'), Buffer.from([0, 1, 2, 3, 255]));
    await writeFile(join(source, 'state.json'), '{"turns":2}');
    await store.save('user-1', source);

    const target = join(aws.dir, 'machine-b');
    expect(await store.restore('user-1', target)).toBe('downloaded');
    expect(await readFile(join(target, 'agents', 'main', 'openclaw-agent.sqlite'))).toEqual(
      Buffer.from([0, 1, 2, 3, 255]),
    );
    expect(await readFile(join(target, 'state.json'), 'utf8')).toBe('{"turns":2}');
  });

  it('keeps a warm copy that is already current, and replaces one that is stale', async () => {
    const warm = join(aws.dir, 'warm');
    await mkdir(warm, { recursive: true });
    await writeFile(join(warm, 'n'), '1');
    await store.save('user-2', warm);
    expect(await store.restore('user-2', warm)).toBe('cached');

    // Another runtime saves a newer state: our copy is stale now.
    const other = join(aws.dir, 'other-runtime');
    await store.restore('user-2', other);
    await writeFile(join(other, 'n'), '2');
    await store.save('user-2', other);
    expect(await store.restore('user-2', warm)).toBe('downloaded');
    expect(await readFile(join(warm, 'n'), 'utf8')).toBe('2');
    await rm(other, { recursive: true });
  });

  it('keeps users apart', async () => {
    const a = join(aws.dir, 'user-a');
    await mkdir(a, { recursive: true });
    await writeFile(join(a, 'secret'), 'a only');
    await store.save('user-a', a);
    const b = join(aws.dir, 'user-b');
    expect(await store.restore('user-b', b)).toBe('fresh');
    await expect(readFile(join(b, 'secret'))).rejects.toThrow();
  });
});
