import { open, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  MAX_REPLY_IMAGE_BYTES,
  MAX_REPLY_IMAGES,
  type ReplyAttachment,
  replyImageKey,
} from '../schemas/reply-media.ts';
import { turnImagesDirOf } from './browser/turn-images.ts';
import { sniffImage } from './image-sniff.ts';
import type { S3Credentials } from './runtime/user-scoped-s3.ts';
import { createAgentS3Client } from './s3-client.ts';

/** An image a turn made: a local file (OpenClaw's `MEDIA:` reply line, a browser screenshot). */
export interface TurnImage {
  path: string;
  /** What the producer says it is; only a hint; the bytes decide. */
  contentType: string;
}

export interface ReplyImagesOptions {
  /** @default a client from the environment; path-style when S3_FORCE_PATH_STYLE=true (s3rver) */
  client?: S3Client;
  /** The S3 client's credentials (a Fargate task's, scoped to its user); the default chain otherwise. */
  credentials?: S3Credentials;
  /** @default process.env.STATE_BUCKET */
  bucket?: string;
  /** @default MAX_REPLY_IMAGE_BYTES (5 MiB) */
  maxBytes?: number;
  /** @default MAX_REPLY_IMAGES (4) */
  maxImages?: number;
  /** Told why an image was left out (never the file's content). @default none */
  onSkip?: (reason: string, detail: Record<string, unknown>) => void;
}

/** What went to the blob store, and what the user is told about the images left out. */
export interface UploadedImages {
  attachments: ReplyAttachment[];
  /** One short sentence per image left out, for the reply text. */
  notes: string[];
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Puts a turn's images into the state bucket under the user's prefix (`media/<userId>/<messageId>/`) for
 * the channel consumers to send. Only files inside the turn's state directory are read (the model picks
 * the `MEDIA:` path, and must not pick another user's files or `/etc`), only up to `maxBytes`, and only
 * when the bytes are a PNG, JPEG, GIF or WebP. Whatever is refused becomes a note for the user, never a
 * failed turn.
 */
export function createReplyImages(options: ReplyImagesOptions = {}) {
  const bucket = options.bucket ?? process.env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET or pass { bucket }');
  const client =
    options.client ?? createAgentS3Client({ requestTimeoutMs: 15_000, credentials: options.credentials });
  const maxBytes = options.maxBytes ?? MAX_REPLY_IMAGE_BYTES;
  const maxImages = options.maxImages ?? MAX_REPLY_IMAGES;
  const onSkip = options.onSkip ?? (() => {});

  /** The file's bytes, or why not: read through one handle, so a swapped file cannot slip past the checks. */
  async function readConfined(roots: string[], path: string): Promise<Buffer | string> {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return 'missing';
    }
    if (!roots.some((root) => real.startsWith(root + sep))) return 'outside';
    const handle = await open(real, 'r');
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return 'missing';
      if (stats.size > maxBytes) return `too-large:${stats.size}`;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  return {
    async upload(input: {
      userId: string;
      messageId: string;
      /** The turn's OpenClaw state directory: the workspace and OpenClaw's media store are inside it. */
      stateDir: string;
      images: TurnImage[];
    }): Promise<UploadedImages> {
      const attachments: ReplyAttachment[] = [];
      const notes: string[] = [];
      // The state dir (OpenClaw's `MEDIA:` files) and this run's own folder of browser screenshots, which
      // agent/browser/turn-images.ts moved out of the state dir; nowhere else.
      const roots = [await realpath(input.stateDir)];
      const screenshots = await realpath(turnImagesDirOf(input.messageId)).catch(() => undefined);
      if (screenshots) roots.push(screenshots);
      const unique = [...new Set(input.images.map((image) => image.path))];
      for (const [index, path] of unique.entries()) {
        if (attachments.length >= maxImages) {
          const left = unique.length - index;
          notes.push(
            `${left} more image${left === 1 ? ' was' : 's were'} left out (at most ${maxImages} a reply).`,
          );
          onSkip('too-many', { left });
          break;
        }
        const read = await readConfined(roots, path).catch(() => 'unreadable');
        if (typeof read === 'string') {
          const [reason, size] = read.split(':');
          onSkip(reason!, { index });
          notes.push(
            reason === 'too-large'
              ? `An image was left out: it is ${megabytes(Number(size))}, over the ${megabytes(maxBytes)} limit.`
              : reason === 'outside'
                ? 'An image outside the agent workspace was left out.'
                : 'An image could not be found and was left out.',
          );
          continue;
        }
        const sniffed = sniffImage(read);
        if (!sniffed) {
          onSkip('not-an-image', { index, bytes: read.length });
          notes.push('A file that is not a PNG, JPEG, GIF or WebP image was left out.');
          continue;
        }
        const key = replyImageKey(input.userId, input.messageId, attachments.length, sniffed.contentType);
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: read,
              ContentType: sniffed.contentType,
            }),
          );
        } catch (error) {
          onSkip('upload-failed', { index, error: (error as Error).name });
          notes.push('An image could not be stored and was left out.');
          continue;
        }
        attachments.push({ kind: 'image', key, bytes: read.length, ...sniffed });
      }
      return { attachments, notes };
    },
  };
}

export type ReplyImages = ReturnType<typeof createReplyImages>;
