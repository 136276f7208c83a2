import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReceived } from '../../schemas/types.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { messageAt } from '../../test/fixtures/messages.ts';
import { createPendingMessages, pendingSeq } from './pending-messages.ts';

describe('the pending-message queue (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const message = messageAt;

  it('gives messages back in arrival order even when enqueued out of order, concurrently', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const messages = Array.from({ length: 8 }, (_, i) => message('user-order', `m${i}`, i));
    const shuffled = [5, 2, 7, 0, 3, 6, 1, 4].map((i) => messages[i] as MessageReceived);

    // Act
    await Promise.all(shuffled.map((m) => queue.enqueue(m)));
    const listed = await queue.list('user-order');

    // Assess
    expect(listed.map((pending) => pending.message)).toEqual(messages);
    expect(listed.every((pending) => pending.attempts === 0)).toBe(true);
  });

  it('removes a queued item that is no longer a valid message, says so, and lists the rest', async () => {
    // Prepare: a good message either side of one an older deploy wrote in another shape
    const unreadable: string[] = [];
    const queue = createPendingMessages(aws.storage, { onUnreadable: (_user, seq) => unreadable.push(seq) });
    await queue.enqueue(message('user-poison', 'first', 0));
    await queue.enqueue(message('user-poison', 'third', 2));
    const badSeq = pendingSeq(message('user-poison', 'second', 1));
    await aws.storage.PendingMessageEntity.build(PutItemCommand)
      .item({
        userId: 'user-poison',
        seq: badSeq,
        message: JSON.stringify({ text: 'no ids, no reply address' }),
        attempts: 0,
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      })
      .send();

    // Act
    const listed = await queue.list('user-poison');
    const again = await queue.list('user-poison');

    // Assess
    expect(listed.map((pending) => pending.message.messageId)).toEqual(['first', 'third']);
    expect(unreadable).toEqual([badSeq]);
    expect(again.map((pending) => pending.message.messageId)).toEqual(['first', 'third']);
    expect(unreadable).toHaveLength(1);
  });

  it('orders by time, not by how receivedAt was written', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    // 10:00:00+02:00 is 08:00Z: earlier than 09:00Z though it sorts later as text.
    const later = { ...message('user-offset', 'later', 0), receivedAt: '2026-11-24T09:00:00Z' };
    const earlier = { ...message('user-offset', 'earlier', 0), receivedAt: '2026-11-24T10:00:00.5+02:00' };

    // Act
    await queue.enqueue(later);
    await queue.enqueue(earlier);
    const listed = await queue.list('user-offset');

    // Assess
    expect(listed.map((pending) => pending.message.messageId)).toEqual(['earlier', 'later']);
    expect(listed[0]?.seq).toBe('2026-11-24T08:00:00.500Z#earlier');
  });

  it('queues a redelivered message once and keeps its attempts', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const m = message('user-dupe', 'm1', 0);
    const first = await queue.enqueue(m);
    await queue.markAttempt('user-dupe', first.seq);

    // Act
    const again = await queue.enqueue(m);
    const listed = await queue.list('user-dupe');

    // Assess
    expect(first).toEqual({ seq: pendingSeq(m), enqueued: true });
    expect(again).toEqual({ seq: first.seq, enqueued: false });
    expect(listed).toEqual([{ seq: first.seq, message: m, attempts: 1 }]);
  });

  it('counts attempts and reports the new count', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const { seq } = await queue.enqueue(message('user-attempts', 'm1', 0));

    // Act
    const first = await queue.markAttempt('user-attempts', seq);
    const second = await queue.markAttempt('user-attempts', seq);

    // Assess
    expect([first, second]).toEqual([1, 2]);
    expect((await queue.list('user-attempts'))[0]?.attempts).toBe(2);
  });

  it('takes back an attempt for an interrupted turn, never below zero', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const user = 'user-release';
    const { seq } = await queue.enqueue(message(user, 'm1', 0));
    await queue.markAttempt(user, seq);
    await queue.markAttempt(user, seq);

    // Act
    await queue.releaseAttempt(user, seq);
    const afterOne = (await queue.list(user))[0]?.attempts;
    await queue.releaseAttempt(user, seq);
    await queue.releaseAttempt(user, seq);
    await queue.releaseAttempt(user, seq);
    const afterMore = (await queue.list(user))[0]?.attempts;
    const next = await queue.markAttempt(user, seq);

    // Assess
    expect(afterOne).toBe(1);
    expect(afterMore).toBe(0);
    expect(next).toBe(1);
  });

  it('ignores a release for a message that was removed, without bringing it back', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const user = 'user-release-gone';
    const { seq } = await queue.enqueue(message(user, 'answered', 0));
    await queue.markAttempt(user, seq);
    await queue.remove(user, seq);

    // Act
    const released = queue.releaseAttempt(user, seq);

    // Assess
    await expect(released).resolves.toBeUndefined();
    expect(await queue.list(user)).toEqual([]);
    expect(await queue.markAttempt(user, seq)).toBeUndefined();
  });

  it('removes a message, and does not bring it back on a late attempt', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const kept = message('user-remove', 'kept', 1);
    const { seq } = await queue.enqueue(message('user-remove', 'answered', 0));
    await queue.enqueue(kept);

    // Act
    await queue.remove('user-remove', seq);
    await queue.remove('user-remove', seq);
    const attempt = await queue.markAttempt('user-remove', seq);

    // Assess
    expect(attempt).toBeUndefined();
    expect((await queue.list('user-remove')).map((pending) => pending.message)).toEqual([kept]);
  });

  it('skips messages past their day, which the table may still hold', async () => {
    // Prepare
    const clock = { now: Date.UTC(2026, 10, 24, 10) };
    const queue = createPendingMessages(aws.storage, { now: () => clock.now });
    await queue.enqueue(message('user-expiry', 'old', 0));
    clock.now += 12 * 60 * 60_000;
    const fresh = message('user-expiry', 'fresh', 1);
    await queue.enqueue(fresh);

    // Act
    clock.now += 12 * 60 * 60_000 + 60_000;
    const listed = await queue.list('user-expiry');

    // Assess
    expect(listed.map((pending) => pending.message)).toEqual([fresh]);
  });

  it('keeps users apart', async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    const mine = message('user-a', 'same-id', 0);
    const theirs = message('user-ab', 'same-id', 0);

    // Act
    await Promise.all([queue.enqueue(mine), queue.enqueue(theirs)]);
    const listedA = await queue.list('user-a');
    const listedB = await queue.list('user-ab');
    const listedNobody = await queue.list('user-nobody');

    // Assess
    expect(listedA.map((pending) => pending.message)).toEqual([mine]);
    expect(listedB.map((pending) => pending.message)).toEqual([theirs]);
    expect(listedNobody).toEqual([]);
  });

  it("does not list the user's other items (task state, settings) as messages", async () => {
    // Prepare
    const queue = createPendingMessages(aws.storage);
    await aws.storage.UserSettingsEntity.build(PutItemCommand)
      .item({ userId: 'user-mixed', runtime: 'fargate', updatedAt: '2026-11-24T10:00:00Z' })
      .send();
    const m = message('user-mixed', 'm1', 0);
    await queue.enqueue(m);

    // Act
    const listed = await queue.list('user-mixed');

    // Assess
    expect(listed.map((pending) => pending.message)).toEqual([m]);
  });
});
