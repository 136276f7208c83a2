import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyPng } from '../test/fixtures/images.ts';
import { startLocalAws } from '../test/fixtures/local-aws.ts';
import { createReplyImages } from './reply-images.ts';

describe('reply images into the blob store (s3rver)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let root: string;
  let stateDir: string;
  const skipped: string[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    root = await mkdtemp(join(tmpdir(), 'reply-images-'));
    stateDir = join(root, 'users', 'alice', 'state-1');
    await mkdir(join(stateDir, 'workspace'), { recursive: true });
  });
  afterAll(async () => {
    await aws.close();
    await rm(root, { recursive: true, force: true });
  });

  const images = () =>
    createReplyImages({
      client: aws.s3Client,
      bucket: aws.bucket,
      maxBytes: 64 * 1024,
      onSkip: (reason) => skipped.push(reason),
    });
  const file = async (name: string, bytes: Buffer | string) => {
    const path = join(stateDir, 'workspace', name);
    await writeFile(path, bytes);
    return { path, contentType: 'image/png' };
  };

  it('stores a PNG under the user prefix with its sniffed type and size', async () => {
    // Prepare
    const png = tinyPng(4, 3);
    const shot = await file('shot.png', png);

    // Act
    const result = await images().upload({
      userId: 'user/a b',
      messageId: 'msg-1',
      stateDir,
      images: [shot],
    });

    // Assess
    expect(result.notes).toEqual([]);
    expect(result.attachments).toEqual([
      {
        kind: 'image',
        key: 'media/user%2Fa%20b/msg-1/0.png',
        contentType: 'image/png',
        bytes: png.length,
        width: 4,
        height: 3,
      },
    ]);
    const object = await aws.s3Client.send(
      new GetObjectCommand({ Bucket: aws.bucket, Key: result.attachments[0]!.key }),
    );
    expect(object.ContentType).toBe('image/png');
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(png)).toBe(true);
  });

  it('refuses a text file named .png, an image over the limit and a missing file, with a note each', async () => {
    // Prepare
    const fake = await file('fake.png', '<svg onload="alert(1)"></svg>');
    const big = await file('big.png', Buffer.concat([tinyPng(1, 1), Buffer.alloc(70 * 1024)]));
    const missing = { path: join(stateDir, 'workspace', 'nope.png'), contentType: 'image/png' };

    // Act
    const result = await images().upload({
      userId: 'u1',
      messageId: 'msg-2',
      stateDir,
      images: [fake, big, missing],
    });

    // Assess
    expect(result.attachments).toEqual([]);
    expect(result.notes).toEqual([
      'A file that is not a PNG, JPEG, GIF or WebP image was left out.',
      'An image was left out: it is 0.1 MB, over the 0.1 MB limit.',
      'An image could not be found and was left out.',
    ]);
  });

  it('reads nothing outside the turn state directory, also through a symlink', async () => {
    // Prepare
    const outside = join(root, 'users', 'bob-secret.png');
    await writeFile(outside, tinyPng(2, 2));
    const link = join(stateDir, 'workspace', 'link.png');
    await symlink(outside, link);

    // Act
    const result = await images().upload({
      userId: 'u1',
      messageId: 'msg-3',
      stateDir,
      images: [
        { path: outside, contentType: 'image/png' },
        { path: link, contentType: 'image/png' },
        { path: join(stateDir, '..', 'bob-secret.png'), contentType: 'image/png' },
      ],
    });

    // Assess
    expect(result.attachments).toEqual([]);
    expect(result.notes).toEqual([
      'An image outside the agent workspace was left out.',
      'An image outside the agent workspace was left out.',
      'An image could not be found and was left out.',
    ]);
  });

  it('keeps at most four images a reply and says how many were left out', async () => {
    // Prepare
    const files = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => file(`n${n}.png`, tinyPng(n, 1))));

    // Act
    const result = await images().upload({ userId: 'u1', messageId: 'msg-4', stateDir, images: files });

    // Assess
    expect(result.attachments.map((a) => a.width)).toEqual([1, 2, 3, 4]);
    expect(result.notes).toEqual(['2 more images were left out (at most 4 a reply).']);
  });
});
