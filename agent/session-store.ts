import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import * as tar from 'tar';
import { traced } from '../bus/observability.ts';
import type { S3Credentials } from './runtime/user-scoped-s3.ts';
import { createAgentS3Client } from './s3-client.ts';

/** Per user, which local directory holds their state and which S3 version it matches. */
const POINTER_FILE = 'current.json';

interface StatePointer {
  /** Directory name under the user's folder. */
  dir: string;
  /** ETag of the S3 object the directory matches; absent until the first save. */
  etag?: string;
}

export interface SessionStoreOptions {
  /** @default process.env.STATE_BUCKET */
  bucket?: string;
  /** @default a client from the environment; path-style when S3_FORCE_PATH_STYLE=true (s3rver) */
  client?: S3Client;
  /** @default 'sessions/' */
  prefix?: string;
  /** The S3 client's credentials (a Fargate task's, scoped to its user); the default chain otherwise. */
  credentials?: S3Credentials;
}

/** `sessions/<userId>/`: one user's saved state (the user id URL-encoded). */
export const sessionUserPrefix = (userId: string, prefix = 'sessions/') =>
  `${prefix}${encodeURIComponent(userId)}/`;

export type RestoreOutcome = 'fresh' | 'downloaded' | 'cached';

export interface RestoredState {
  outcome: RestoreOutcome;
  /** The OpenClaw state directory to use for this turn (pass it back to `save`). */
  stateDir: string;
}

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

async function readPointer(userDir: string): Promise<StatePointer | undefined> {
  try {
    return JSON.parse(await readFile(join(userDir, POINTER_FILE), 'utf8')) as StatePointer;
  } catch {
    return undefined;
  }
}

const writePointer = (userDir: string, pointer: StatePointer) =>
  writeFile(join(userDir, POINTER_FILE), JSON.stringify(pointer));

/**
 * Keeps each user's OpenClaw state directory (SQLite sessions, workspace files) in S3 between turns:
 * one gzipped tarball per user. Call `restore` before a turn and `save` after it, both under the user's
 * session lock; the lock is what makes the read-modify-write safe.
 *
 * A warm runtime whose copy is still current skips the download (conditional GET). When another runtime
 * saved a newer state, it is unpacked into a NEW directory rather than over the old one: OpenClaw keeps
 * SQLite connections open after a turn, and replacing database files under an open connection is
 * undefined behaviour in SQLite. (openclaw 2026.9.6 happened to cope in our test; we do not rely on it.)
 */
export function createSessionStore(options: SessionStoreOptions = {}) {
  const bucket = options.bucket ?? process.env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET or pass { bucket }');
  const prefix = options.prefix ?? 'sessions/';
  const client =
    options.client ??
    traced(
      // State archives are a few MB; a stalled transfer must still end before the Lambda deadline.
      createAgentS3Client({ requestTimeoutMs: 30_000, credentials: options.credentials }),
    );
  const keyFor = (userId: string) => `${sessionUserPrefix(userId, prefix)}openclaw-state.tar.gz`;

  async function freshDir(userDir: string, previous: StatePointer | undefined): Promise<string> {
    const name = `state-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    await mkdir(join(userDir, name), { recursive: true });
    // Unlinking is safe even if handles are open: they keep the old inodes, we never read them again.
    if (previous) await rm(join(userDir, previous.dir), { recursive: true, force: true });
    return name;
  }

  return {
    /** Makes a directory under `userDir` hold the user's latest saved state, and returns it. */
    async restore(userId: string, userDir: string): Promise<RestoredState> {
      await mkdir(userDir, { recursive: true });
      const pointer = await readPointer(userDir);
      try {
        const object = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: keyFor(userId), IfNoneMatch: pointer?.etag }),
        );
        const archive = join(tmpdir(), `openclaw-state-${randomUUID()}.tar.gz`);
        try {
          await writeFile(archive, await object.Body!.transformToByteArray());
          const dir = await freshDir(userDir, pointer);
          await tar.x({ file: archive, cwd: join(userDir, dir), strict: true });
          await writePointer(userDir, { dir, ...(object.ETag ? { etag: object.ETag } : {}) });
          return { outcome: 'downloaded', stateDir: join(userDir, dir) };
        } finally {
          await rm(archive, { force: true });
        }
      } catch (error) {
        if (pointer && isNotModified(error))
          return { outcome: 'cached', stateDir: join(userDir, pointer.dir) };
        if (!isMissing(error)) throw error;
        // Nothing saved yet: a first conversation starts from an empty directory.
        const dir = await freshDir(userDir, pointer);
        await writePointer(userDir, { dir });
        return { outcome: 'fresh', stateDir: join(userDir, dir) };
      }
    },

    /** Uploads `stateDir` (from `restore`) as the user's state. Returns the archive size in bytes. */
    async save(userId: string, stateDir: string): Promise<number> {
      const archive = join(tmpdir(), `openclaw-state-${randomUUID()}.tar.gz`);
      let body: Buffer;
      try {
        // SQLite's -wal and -shm files go along: OpenClaw leaves its connections open, so the latest
        // writes may live only in the WAL.
        // `tmp/` is OpenClaw's scratch (plugin source captures, removed in the background after a turn:
        // archiving it raced that removal with ENOENT, measured with the schedule tool plugin).
        await tar.c({ file: archive, cwd: stateDir, gzip: true, portable: true, filter: keepInSnapshot }, [
          '.',
        ]);
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
      const userDir = join(stateDir, '..');
      const pointer = await readPointer(userDir);
      if (result.ETag && pointer) await writePointer(userDir, { ...pointer, etag: result.ETag });
      return body.length;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;

/** False for OpenClaw's scratch dir `tmp/` at the top of the state dir; tar then skips all of it. */
function keepInSnapshot(path: string): boolean {
  const relative = path.replace(/^\.\//, '');
  return relative !== 'tmp' && !relative.startsWith('tmp/');
}
