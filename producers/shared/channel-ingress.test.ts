import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Publisher } from '../../bus/index.ts';
import type { BusEvent } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { type ChannelMessage, createChannelIngress, defaultConversationId } from './channel-ingress.ts';
import { claimMessage, PENDING_CLAIM_SECONDS } from './dedupe.ts';
import { createIdentity } from './identity.ts';

/** A publisher that records events, and fails while `failing` is set (like a throttled PutEvents). */
function recordingPublisher() {
  const events: BusEvent[] = [];
  const state = { failing: false };
  const publisher: Publisher = {
    async publish(input) {
      if (state.failing) throw new Error('PutEvents throttled');
      events.push(...(Array.isArray(input) ? input : [input as BusEvent]));
    },
  };
  return { publisher, events, state };
}

describe('the shared ingress of the chat channels (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const message = (overrides: Partial<ChannelMessage> = {}): ChannelMessage => ({
    channel: 'telegram',
    channelUserId: '42',
    displayName: 'Ada',
    deliveryId: `update-${Math.random()}`,
    chatKey: '42',
    text: 'hello agent',
    replyTo: { channel: 'telegram', address: { chatId: 42 } },
    ...overrides,
  });

  function setup() {
    const bus = recordingPublisher();
    const identity = createIdentity({ storage: aws.storage, allowedUsers: ['telegram:42'] });
    const ingress = createChannelIngress({ storage: aws.storage, publisher: bus.publisher, identity });
    return { ...bus, ingress };
  }

  it('publishes a MessageReceived for a known sender, with the channel as source', async () => {
    // Prepare
    const { ingress, events } = setup();

    // Act
    const result = await ingress.submit(message({ deliveryId: 'u-1' }));

    // Assess
    expect(result).toMatchObject({ kind: 'published', userId: 'telegram:42' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'openclaw.telegram',
      detailType: 'MessageReceived.v1',
      detail: {
        userId: 'telegram:42',
        text: 'hello agent',
        conversationId: defaultConversationId('telegram', '42'),
        replyTo: { channel: 'telegram', address: { chatId: 42 } },
        sender: { channelUserId: '42', displayName: 'Ada' },
      },
    });
  });

  it('publishes a redelivered update once', async () => {
    // Prepare
    const { ingress, events } = setup();

    // Act
    const first = await ingress.submit(message({ deliveryId: 'u-2' }));
    const again = await ingress.submit(message({ deliveryId: 'u-2' }));

    // Assess
    expect(events).toHaveLength(1);
    expect(again).toEqual({ kind: 'duplicate', messageId: (first as { messageId: string }).messageId });
  });

  it('publishes nothing for a stranger', async () => {
    // Prepare
    const { ingress, events } = setup();

    // Act
    const result = await ingress.submit(message({ channelUserId: '666', deliveryId: 'u-3' }));

    // Assess
    expect(result).toEqual({ kind: 'stranger' });
    expect(events).toHaveLength(0);
  });

  it('lets the platform retry a message whose publish failed', async () => {
    // Prepare
    const { ingress, events, state } = setup();
    state.failing = true;

    // Act
    await expect(ingress.submit(message({ deliveryId: 'u-4' }))).rejects.toThrow('throttled');
    state.failing = false;
    const retried = await ingress.submit(message({ deliveryId: 'u-4' }));

    // Assess
    expect(retried.kind).toBe('published');
    expect(events).toHaveLength(1);
  });

  it('frees the claim of a delivery whose producer died before publishing, so the retry gets through', async () => {
    // Prepare: a claim left pending (the function timed out between the claim and the publish)
    const bus = recordingPublisher();
    let now = Date.UTC(2026, 10, 25, 12);
    const identity = createIdentity({ storage: aws.storage, allowedUsers: ['telegram:42'] });
    const ingress = createChannelIngress({
      storage: aws.storage,
      publisher: bus.publisher,
      identity,
      now: () => now,
    });
    await claimMessage(aws.storage, 'telegram#u-stuck', 'lost-message', now);

    // Act: the platform retries at once, then a minute later
    const soon = await ingress.submit(message({ deliveryId: 'u-stuck' }));
    now += (PENDING_CLAIM_SECONDS + 1) * 1000;
    const later = await ingress.submit(message({ deliveryId: 'u-stuck' }));

    // Assess
    expect(soon).toEqual({ kind: 'in-flight' });
    expect(later.kind).toBe('published');
    expect(bus.events).toHaveLength(1);
  });

  it('starts a fresh conversation in a chat on /new', async () => {
    // Prepare
    const { ingress, events } = setup();
    await ingress.submit(message({ deliveryId: 'u-5', chatKey: 'chat-new' }));

    // Act
    const fresh = await ingress.newConversation('telegram', 'chat-new');
    await ingress.submit(message({ deliveryId: 'u-6', chatKey: 'chat-new' }));

    // Assess
    const [before, after] = events.map(
      (event) => (event.detail as { conversationId: string }).conversationId,
    );
    expect(after).toBe(fresh);
    expect(after).not.toBe(before);
  });
});
