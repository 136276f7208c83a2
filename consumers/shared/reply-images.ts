import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
// The presigning half of @aws-sdk/s3-request-presigner, which this project does not install: the S3
// client's own SigV4 signer (a dependency of @aws-sdk/client-s3), used in query-string mode.
import { SignatureV4 } from '@smithy/signature-v4';
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

/** Stops the command after it is built (endpoint resolved) and before it is signed or sent. */
class BuiltRequest extends Error {
  readonly request: unknown;
  constructor(request: unknown) {
    super('request built');
    this.request = request;
  }
}

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
      const command = new GetObjectCommand({ Bucket: bucket, Key: attachment.key });
      command.middlewareStack.add(
        () => async (args) => {
          throw new BuiltRequest(args.request);
        },
        { step: 'build', priority: 'low', name: 'captureBuiltRequest' },
      );
      let request: {
        protocol: string;
        hostname: string;
        port?: number;
        path: string;
        method: string;
        query?: Record<string, string>;
      };
      try {
        await client.send(command);
        throw new Error('GetObject was sent instead of presigned');
      } catch (error) {
        if (!(error instanceof BuiltRequest)) throw error;
        request = error.request as typeof request;
      }
      // The SDK's operation marker means nothing to a browser's GET; the presigner drops it too.
      const { 'x-id': _operation, ...query } = request.query ?? {};
      const host = `${request.hostname}${request.port ? `:${request.port}` : ''}`;
      const signer = new SignatureV4({
        service: 's3',
        region: await client.config.region(),
        credentials: client.config.credentials,
        sha256: client.config.sha256,
        uriEscapePath: false,
        applyChecksum: false,
      });
      const signed = await signer.presign(
        {
          method: 'GET',
          protocol: request.protocol,
          hostname: request.hostname,
          ...(request.port ? { port: request.port } : {}),
          path: request.path,
          query,
          headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { expiresIn: expiresInSeconds },
      );
      const search = new URLSearchParams(signed.query as Record<string, string>).toString();
      return `${request.protocol}//${host}${request.path}?${search}`;
    },
  };
}

export type ReplyImageStore = ReturnType<typeof createReplyImageStore>;
