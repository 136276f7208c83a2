import { z } from 'zod';

/*
 * Images in replies (browser screenshots, files the agent made): the bytes go to the state bucket under
 * a prefix per user, and `ReplyCompleted` carries only their keys, so events stay far under EventBridge's
 * 256 KB. The agent writes them (`agent/reply-images.ts`); the channel consumers read them
 * (`consumers/shared/reply-images.ts`). The IAM policies of both name the prefix.
 */

/** Every reply image's key starts with this. */
export const REPLY_MEDIA_PREFIX = 'media/';

/** Largest image one reply may carry; a larger one is left out with a note in the reply. 5 MiB. */
export const MAX_REPLY_IMAGE_BYTES = 5 * 1024 * 1024;

/** Most images one reply carries; the rest are left out with a note. */
export const MAX_REPLY_IMAGES = 4;

/** The image types every channel shows natively, as sniffed from the bytes (never the file name). */
export const ImageContentTypeSchema = z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
export type ImageContentType = z.infer<typeof ImageContentTypeSchema>;

/** File name extension per type, for keys and for the file names channels show. */
export const IMAGE_EXTENSIONS: Record<ImageContentType, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** `media/<userId>/`: everything of one user (the user id URL-encoded, as the session store does). */
export const replyMediaUserPrefix = (userId: string) => `${REPLY_MEDIA_PREFIX}${encodeURIComponent(userId)}/`;

/** The key of the `index`-th image of the reply to `messageId`. */
export const replyImageKey = (userId: string, messageId: string, index: number, type: ImageContentType) =>
  `${replyMediaUserPrefix(userId)}${encodeURIComponent(messageId)}/${index}.${IMAGE_EXTENSIONS[type]}`;

/** Whether `key` lies under this user's media prefix: consumers read no other user's objects. */
export const isReplyMediaKeyOf = (userId: string, key: string) =>
  key.startsWith(replyMediaUserPrefix(userId)) && !key.includes('..');

/** One image of a reply, as `ReplyCompleted.attachments` carries it. */
export const ReplyAttachmentSchema = z.object({
  kind: z.literal('image'),
  /** S3 key in the state bucket, under `media/<userId>/`. */
  key: z.string().min(1).max(1024),
  contentType: ImageContentTypeSchema,
  bytes: z.number().int().positive().max(MAX_REPLY_IMAGE_BYTES),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type ReplyAttachment = z.infer<typeof ReplyAttachmentSchema>;
