import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  IMAGE_EXTENSIONS,
  isReplyMediaKeyOf,
  MAX_REPLY_IMAGE_BYTES,
  type ReplyAttachment,
} from '../../schemas/reply-media.ts';

/** An attachment that is not this user's, or not what the event said it is: retrying cannot help. */
export class ReplyImageRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyImageRefusedError';
  }
}

export interface ReplyImageStoreOptions {
  /** @default a client from the environment; path-style when S3_FORCE_PATH_STYLE=true (s3rver) */
  client?: S3Client;
  /** @default process.env.STATE_BUCKET */
  bucket?: string;
}

/** The file name a channel shows for the `index`-th image of a reply. */
export const imageFileName = (attachment: ReplyAttachment, index: number) =>
  `image-${index + 1}.${IMAGE_EXTENSIONS[attachment.contentType]}`;

/**
 * Reads the images of a reply (`ReplyCompleted.attachments`) back out of the state bucket for the channel
 * consumers, and makes short-lived GET URLs of them for the web chat. Only keys under the reply's own
 * user's `media/` prefix are read, and never more than the size limit.
 */
export function createReplyImageStore(options: ReplyImageStoreOptions = {}) {
  const bucket = options.bucket ?? process.env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET or pass { bucket }');
  const client =
    options.client ??
    new S3Client({
      forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true',
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
    });

  function check(userId: string, attachment: ReplyAttachment): void {
    if (!isReplyMediaKeyOf(userId, attachment.key)) {
      throw new ReplyImageRefusedError("attachment key outside the user's media prefix");
    }
  }

  return {
    /** The image's bytes. Throws `ReplyImageRefusedError` for a key of another user or a wrong size. */
    async read(userId: string, attachment: ReplyAttachment): Promise<Buffer> {
      check(userId, attachment);
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: attachment.key }));
      if ((object.ContentLength ?? 0) > MAX_REPLY_IMAGE_BYTES) {
        object.Body?.transformToWebStream().cancel();
        throw new ReplyImageRefusedError('attachment larger than the limit');
      }
      return Buffer.from(await object.Body!.transformToByteArray());
    },

    /**
     * A presigned GET URL of the image, good for `expiresInSeconds`: what the web chat's `<img>` loads.
     * @param expiresInSeconds @default 900 (15 minutes)
     */
    async presignedUrl(userId: string, attachment: ReplyAttachment, expiresInSeconds = 900): Promise<string> {
      check(userId, attachment);
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: attachment.key }), {
        expiresIn: expiresInSeconds,
      });
    },
  };
}

export type ReplyImageStore = ReturnType<typeof createReplyImageStore>;
