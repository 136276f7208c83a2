import { randomInt } from 'node:crypto';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { $add, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import { epochSeconds, isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';

/** A link code lives this long. */
export const LINK_CODE_TTL_SECONDS = 5 * 60;
/** Link codes are this many digits: 10^8 codes, and at most `MAX_LINK_FAILURES` guesses per window. */
export const LINK_CODE_DIGITS = 8;
/** Wrong codes one channel account may send per window before `/link` refuses it for the rest of it. */
export const MAX_LINK_FAILURES = 5;
/** How long wrong codes count against an account. */
export const LINK_FAILURE_WINDOW_SECONDS = 15 * 60;

/** `ALLOWED_USERS="telegram:42, discord:7"` -> `['telegram:42', 'discord:7']`. */
export function parseAllowedUsers(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

export interface IdentityOptions {
  storage: Storage;
  /**
   * Channel accounts that get an agent without linking, as `<channel>:<channel user id>` (the deployment's
   * `allowedUsers`). Their internal user id is that same string.
   */
  allowedUsers?: readonly string[];
  /** @default Date.now */
  now?: () => number;
}

/** Why `/link` did not link. */
export type LinkFailure = 'invalid-code' | 'too-many-attempts';

/**
 * Who a channel account is to us. A Telegram, Discord or Slack user gets an agent only when they linked
 * their account to a signed-in web user (one-time code, single use, five minutes), or when the deployment
 * allow-lists them; everyone else is a stranger. A person who links several channels talks to one agent
 * with one memory from all of them, because they all resolve to the same internal user id.
 */
export function createIdentity(options: IdentityOptions) {
  const { storage } = options;
  const now = options.now ?? Date.now;
  const allowed = new Set(options.allowedUsers ?? []);

  return {
    /** The internal user id of a channel account, or undefined for a stranger. */
    async resolve(channel: string, channelUserId: string): Promise<string | undefined> {
      const { Item } = await storage.ChannelIdentityEntity.build(GetItemCommand)
        .key({ channel, channelUserId })
        .send();
      if (Item) return Item.userId;
      const listed = `${channel}:${channelUserId}`;
      return allowed.has(listed) ? listed : undefined;
    },

    /** Mints a one-time code for a signed-in user to send to a bot. */
    async createLinkCode(userId: string): Promise<{ code: string; expiresAt: number }> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const code = String(randomInt(0, 10 ** LINK_CODE_DIGITS)).padStart(LINK_CODE_DIGITS, '0');
        const expiresAt = epochSeconds(now()) + LINK_CODE_TTL_SECONDS;
        try {
          // A live code is never overwritten: two users must not share one.
          await storage.LinkCodeEntity.build(PutItemCommand)
            .item({ code, userId, expiresAt })
            .options({
              condition: {
                or: [
                  { attr: 'code', exists: false },
                  { attr: 'expiresAt', lt: epochSeconds(now()) },
                ],
              },
            })
            .send();
          return { code, expiresAt };
        } catch (error) {
          if (!isConditionalCheckFailure(error)) throw error;
        }
      }
      throw new Error('could not mint a unique link code');
    },

    /**
     * Links a channel account with a code: the code is consumed (deleted, so it works once) and the
     * account resolves to the code's user from now on. Wrong codes count against the account.
     */
    async link(
      channel: string,
      channelUserId: string,
      code: string,
    ): Promise<{ linked: true; userId: string } | { linked: false; reason: LinkFailure }> {
      const attempts = await storage.LinkAttemptsEntity.build(GetItemCommand)
        .key({ channel, channelUserId })
        .options({ consistent: true })
        .send();
      const nowSeconds = epochSeconds(now());
      if (
        attempts.Item &&
        attempts.Item.expiresAt > nowSeconds &&
        attempts.Item.failures >= MAX_LINK_FAILURES
      ) {
        return { linked: false, reason: 'too-many-attempts' };
      }
      const consumed = /^\d{6,12}$/.test(code) ? await consume(code, nowSeconds) : undefined;
      if (!consumed) {
        await countFailure(channel, channelUserId, nowSeconds, attempts.Item?.expiresAt);
        return { linked: false, reason: 'invalid-code' };
      }
      const linkedAt = new Date(now()).toISOString();
      // The per-user listing first: a crash in between leaves a listed link that does not resolve yet
      // (harmless, and unlinking cleans it), never a working link the user cannot see or remove.
      await storage.UserChannelLinkEntity.build(PutItemCommand)
        .item({ userId: consumed, channel, channelUserId, linkedAt })
        .send();
      await storage.ChannelIdentityEntity.build(PutItemCommand)
        .item({ channel, channelUserId, userId: consumed, linkedAt })
        .send();
      await storage.LinkAttemptsEntity.build(DeleteItemCommand).key({ channel, channelUserId }).send();
      return { linked: true, userId: consumed };
    },
  };

  /** Deletes a live code and returns its user; undefined when it does not exist or has expired. */
  async function consume(code: string, nowSeconds: number): Promise<string | undefined> {
    try {
      const { Attributes } = await storage.LinkCodeEntity.build(DeleteItemCommand)
        .key({ code })
        .options({ condition: { attr: 'expiresAt', gt: nowSeconds }, returnValues: 'ALL_OLD' })
        .send();
      return Attributes?.userId;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }

  async function countFailure(
    channel: string,
    channelUserId: string,
    nowSeconds: number,
    windowEndsAt: number | undefined,
  ): Promise<void> {
    // A window that ran out starts again at one failure.
    if (windowEndsAt === undefined || windowEndsAt <= nowSeconds) {
      await storage.LinkAttemptsEntity.build(PutItemCommand)
        .item({ channel, channelUserId, failures: 1, expiresAt: nowSeconds + LINK_FAILURE_WINDOW_SECONDS })
        .send();
      return;
    }
    await storage.LinkAttemptsEntity.build(UpdateItemCommand)
      .item({ channel, channelUserId, failures: $add(1) })
      .send();
  }
}

export type Identity = ReturnType<typeof createIdentity>;
