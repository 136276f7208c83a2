import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import * as tar from 'tar';

/** Remembers which S3 version the local copy came from, so a warm runtime skips the download. */
const ETAG_MARKER = '.restored-etag';

export interface SessionStoreOptions {
  /** @default process.env.STATE_BUCKET */
  bucket?: string;
  /** @default a client from the environment; path-style when S3_FORCE_PATH_STYLE=true (s3rver) */
  client?: S3Client;
  /** @default 'sessions/' */
  prefix?: string;
}

export type RestoreOutcome = 'fresh' | 'downloaded' | 'cached';

function isNotModified(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 304;
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    (error instanceof S3ServiceException &&
      (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404))
  );
}

/**
 * Keeps each user's OpenClaw state directory (SQLite sessions, workspace files) in S3 between turns:
 * one gzipped tarball per user. Call `restore` before a turn and `save` after it, both under the user's
 * session lock; the lock is what makes the read-modify-write safe.
 */
export function createSessionStore(options: SessionStoreOptions = {}) {
  const bucket = options.bucket ?? process.env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET or pass { bucket }');
  const prefix = options.prefix ?? 'sessions/';
  const client =
    options.client ?? new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  const keyFor = (userId: string) => `${prefix}${encodeURIComponent(userId)}/openclaw-state.tar.gz`;

  async function readMarker(dir: string): Promise<string | undefined> {
    try {
      return (await readFile(join(dir, ETAG_MARKER), 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  return {
    /** Makes `dir` hold the user's latest saved state. Keeps a local copy that is already current. */
    async restore(userId: string, dir: string): Promise<RestoreOutcome> {
      const localEtag = await readMarker(dir);
      try {
        const object = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: keyFor(userId), IfNoneMatch: localEtag }),
        );
        const archive = join(tmpdir(), `openclaw-state-${randomUUID()}.tar.gz`);
        try {
          await writeFile(archive, await object.Body!.transformToByteArray());
          await rm(dir, { recursive: true, force: true });
          await mkdir(dir, { recursive: true });
          await tar.x({ file: archive, cwd: dir, strict: true });
        } finally {
          await rm(archive, { force: true });
        }
        if (object.ETag) await writeFile(join(dir, ETAG_MARKER), object.ETag);
        return 'downloaded';
      } catch (error) {
        if (isNotModified(error)) return 'cached';
        if (!isMissing(error)) throw error;
        // Nothing saved yet: a first conversation starts from an empty directory.
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        return 'fresh';
      }
    },

    /** Uploads `dir` as the user's state. Returns the archive size in bytes. */
    async save(userId: string, dir: string): Promise<number> {
      const archive = join(tmpdir(), `openclaw-state-${randomUUID()}.tar.gz`);
      let body: Buffer;
      try {
        await tar.c(
          {
            file: archive,
            cwd: dir,
            gzip: true,
            portable: true,
            filter: (path) => !path.endsWith(ETAG_MARKER),
          },
          ['.'],
        );
        body = await readFile(archive);
      } finally {
        await rm(archive, { force: true });
      }
      const result = await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keyFor(userId),
          Body: body,
          ContentType: 'application/gzip',
        }),
      );
      if (result.ETag) await writeFile(join(dir, ETAG_MARKER), result.ETag);
      return body.length;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
