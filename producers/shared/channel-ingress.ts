import { createHash, randomUUID } from 'node:crypto';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import type { Publisher } from '../../bus/index.ts';
import { EventSources, type MessageReceived, type ReplyTo } from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';
import { claimMessage, markPublished, releaseClaim } from './dedupe.ts';
import type { Identity } from './identity.ts';

/** The chat channels whose webhooks publish through this module. */
export type ChatChannel = 'telegram' | 'discord' | 'slack';

/** One user message as a chat platform delivered it, already verified and parsed by its producer. */
export interface ChannelMessage {
  channel: ChatChannel;
  /** The platform's id of the sender. */
  channelUserId: string;
  displayName?: string;
  /** The platform's id of this delivery (update_id, interaction id, event_id): retries carry the same. */
  deliveryId: string;
  /** The chat the message belongs to (chat id, channel id, thread): one conversation per chat key. */
  chatKey: string;
  text: string;
  /** Where the channel's consumer sends the reply. */
  replyTo: ReplyTo;
}

/**
 * What became of a message: on the bus (`published`), already on the bus from an earlier delivery
 * (`duplicate`), an earlier delivery of it is being published right now (`in-flight`: answer the platform
 * with a retryable error), or from someone with no agent (`stranger`: tell them how to link).
 */
export type IngressResult =
  | { kind: 'published'; messageId: string; userId: string; conversationId: string }
  | { kind: 'duplicate'; messageId: string }
  | { kind: 'in-flight' }
  | { kind: 'stranger' };

export interface ChannelIngressDeps {
  storage: Storage;
  publisher: Publisher;
  identity: Identity;
  /** @default Date.now */
  now?: () => number;
}

/** The conversation id a chat starts with: stable, URL-safe, and free of the platform's raw ids. */
export function defaultConversationId(channel: ChatChannel, chatKey: string): string {
  return `${channel}-${createHash('sha256').update(chatKey).digest('hex').slice(0, 20)}`;
}

/**
 * The part every chat producer shares once a request is verified: dedupe on the platform's delivery id
 * (so a retried webhook is answered once), resolve the sender to an internal user (strangers get no
 * agent and publish nothing), find the chat's current conversation, and publish `MessageReceived`.
 */
export function createChannelIngress(deps: ChannelIngressDeps) {
  const { storage, publisher, identity } = deps;
  const now = deps.now ?? Date.now;

  async function currentConversation(channel: ChatChannel, chatKey: string): Promise<string> {
    const { Item } = await storage.ChannelConversationEntity.build(GetItemCommand)
      .key({ channel, chatKey })
      .send();
    return Item?.conversationId ?? defaultConversationId(channel, chatKey);
  }

  return {
    currentConversation,

    /** Starts a fresh conversation in a chat (`/new`): the agent's next turn there has no history. */
    async newConversation(channel: ChatChannel, chatKey: string): Promise<string> {
      const conversationId = `${defaultConversationId(channel, chatKey)}-${now().toString(36)}`;
      await storage.ChannelConversationEntity.build(PutItemCommand)
        .item({ channel, chatKey, conversationId, startedAt: new Date(now()).toISOString() })
        .send();
      return conversationId;
    },

    async submit(message: ChannelMessage): Promise<IngressResult> {
      const userId = await identity.resolve(message.channel, message.channelUserId);
      if (!userId) return { kind: 'stranger' };
      const dedupeKey = `${message.channel}#${message.deliveryId}`;
      const messageId = randomUUID();
      const claim = await claimMessage(storage, dedupeKey, messageId, now());
      if (!claim.claimed) {
        return claim.state === 'published'
          ? { kind: 'duplicate', messageId: claim.existingMessageId }
          : { kind: 'in-flight' };
      }
      const conversationId = await currentConversation(message.channel, message.chatKey);
      const detail: MessageReceived = {
        userId,
        conversationId,
        messageId,
        text: message.text,
        receivedAt: new Date(now()).toISOString(),
        replyTo: message.replyTo,
        sender: {
          channelUserId: message.channelUserId,
          ...(message.displayName ? { displayName: message.displayName.slice(0, 200) } : {}),
        },
      };
      try {
        await publisher.publish({
          source: EventSources[message.channel],
          detailType: 'MessageReceived.v1',
          detail,
        });
      } catch (error) {
        // The platform retries a failed webhook; that retry must not be taken for a duplicate.
        await releaseClaim(storage, dedupeKey).catch(() => undefined);
        throw error;
      }
      // On the bus already: a failure here only makes a duplicate look in-flight until the claim expires.
      await markPublished(storage, dedupeKey).catch(() => undefined);
      return { kind: 'published', messageId, userId, conversationId };
    },
  };
}

export type ChannelIngress = ReturnType<typeof createChannelIngress>;
