import { createHash, createHmac } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyAttachment } from '../../schemas/reply-media.ts';
import { tinyPng } from '../../test/fixtures/images.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createReplyImageStore, ReplyImageRefusedError } from './reply-images.ts';

describe('reading reply images back (s3rver)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  const png = tinyPng(6, 6);
  const attachment: ReplyAttachment = {
    kind: 'image',
    key: 'media/alice/msg-1/0.png',
    contentType: 'image/png',
    bytes: png.length,
  };

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.s3Client.send(
      new PutObjectCommand({ Bucket: aws.bucket, Key: attachment.key, Body: png, ContentType: 'image/png' }),
    );
  });
  afterAll(() => aws.close());

  const store = () => createReplyImageStore({ client: aws.s3Client, bucket: aws.bucket });

  it("reads the bytes of the user's own image", async () => {
    expect((await store().read('alice', attachment)).equals(png)).toBe(true);
  });

  it("refuses a key under another user's prefix, or one that climbs out of it", async () => {
    await expect(store().read('bob', attachment)).rejects.toBeInstanceOf(ReplyImageRefusedError);
    await expect(
      store().read('alice', { ...attachment, key: 'media/alice/../bob/msg/0.png' }),
    ).rejects.toBeInstanceOf(ReplyImageRefusedError);
    await expect(store().presignedUrl('bob', attachment)).rejects.toBeInstanceOf(ReplyImageRefusedError);
  });

  it('makes a presigned GET URL that s3rver serves without credentials', async () => {
    // Act
    const url = await store().presignedUrl('alice', attachment, 60);
    const response = await fetch(url);

    // Assess
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/test-bucket\/media\/alice\/msg-1\/0\.png\?/);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(png)).toBe(true);
  });

  it('signs the URL the way SigV4 says (checked here by hand: s3rver does not check V4 signatures)', async () => {
    // Act
    const url = new URL(await store().presignedUrl('alice', attachment, 60));

    // Assess
    const params = url.searchParams;
    expect(params.get('X-Amz-Expires')).toBe('60');
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    expect(params.get('X-Amz-Signature')).toBe(sigV4(url, 'S3RVER'));
    // A URL for another key with the same signature no longer matches.
    expect(sigV4(new URL(url.href.replace('msg-1', 'msg-2')), 'S3RVER')).not.toBe(
      params.get('X-Amz-Signature'),
    );
  });

  it('refuses a URL past its expiry at the store', async () => {
    const url = new URL(await store().presignedUrl('alice', attachment, 1));
    url.searchParams.set('X-Amz-Date', '20200101T000000Z');
    expect((await fetch(url)).status).toBe(403);
  });
});

/** An independent SigV4 query-string signature of a GET with only `host` signed and an unsigned payload. */
function sigV4(url: URL, secret: string): string {
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams.entries()]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encode(key), encode(value)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonical = ['GET', url.pathname, query, `host:${url.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
  const date = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  const [day, region, service] = scope.split('/');
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [day!, region!, service!, 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}
