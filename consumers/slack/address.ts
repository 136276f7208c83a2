import { z } from 'zod';
import type { SlackMessageRef } from './slack-api.ts';

const SlackIdSchema = z.string().regex(/^[A-Z0-9]{2,40}$/);

/**
 * The Slack channel's reply address, as the Slack producer writes it into `replyTo.address`: the channel
 * (or direct message), the thread to answer in (absent: the top level), and who asked, so an answer the
 * channel refuses (the app was never invited there) can go to that person's direct message instead.
 */
export const SlackAddressSchema = z.object({
  channel: SlackIdSchema,
  threadTs: z
    .string()
    .regex(/^\d{1,12}\.\d{1,9}$/)
    .optional(),
  userId: SlackIdSchema.optional(),
  teamId: SlackIdSchema.optional(),
});

export type SlackAddress = z.infer<typeof SlackAddressSchema>;

/** A posted message as kept in the reply's progress record: `<channel>/<ts>`. */
export function encodeMessageRef(ref: SlackMessageRef): string {
  return `${ref.channel}/${ref.ts}`;
}

export function decodeMessageRef(stored: string): SlackMessageRef {
  const [channel = '', ts = ''] = stored.split('/', 2);
  return { channel, ts };
}
