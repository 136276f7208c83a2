import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReceived } from '../../schemas/index.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { messageAt } from '../../test/fixtures/messages.ts';
import { storeReply } from '../turn-records.ts';
import { createPredecessorBackoff, createPredecessorGate, nextInSendingOrder } from './predecessor-gate.ts';

describe('the predecessor gate (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  const received = (id: string, msAgo: number, afterMessageId?: string): MessageReceived => ({
    ...messageAt('gate-user', id, 0),
    receivedAt: new Date(Date.now() - msAgo).toISOString(),
    ...(afterMessageId ? { afterMessageId } : {}),
  });
  const answer = (messageId: string, userId = 'gate-user') =>
    storeReply(aws.storage, {
      userId,
      conversationId: 'conv-1',
      replyTo: { channel: 'web', address: { connectionId: 'c' } },
      inReplyTo: messageId,
      seq: 0,
      status: 'error',
      text: '',
    });

  it('holds a fresh message back while the predecessor it names has no reply, and only then', async () => {
    // Prepare
    const mustWait = createPredecessorGate({ storage: aws.storage, maxWaitMs: 5_000 });
    await answer('gate-answered');
    await answer('gate-foreign', 'someone-else');

    // Act + Assess
    expect(await mustWait(received('gate-a', 0))).toBe(false); // names none
    expect(await mustWait(received('gate-b', 0, 'gate-unanswered'))).toBe(true);
    expect(await mustWait(received('gate-c', 0, 'gate-answered'))).toBe(false); // an error reply counts
    expect(await mustWait(received('gate-d', 0, 'gate-d'))).toBe(false); // itself
    // Another user's answered message: the hint is not the sender's to give, and is not waited on
    expect(await mustWait(received('gate-e', 0, 'gate-foreign'))).toBe(false);
    // Waited long enough already: answered now, whatever became of the predecessor
    expect(await mustWait(received('gate-f', 5_000, 'gate-unanswered'))).toBe(false);
  });

  it('answers a queued predecessor before the message naming it, though a clock put it behind', () => {
    // Prepare: m1 sorts first (its producer's clock ran early), m0 is the message it came after
    const item = (id: string, after?: string) => ({ message: received(id, 0, after) });
    const m1 = item('q-m1', 'q-m0');
    const m0 = item('q-m0', 'q-m-1'); // its own predecessor was answered long ago: not queued
    const other = item('q-other');

    // Act + Assess
    expect(nextInSendingOrder([m1, other, m0])).toBe(m0);
    expect(nextInSendingOrder([other, m1, m0])).toBe(other);
    expect(nextInSendingOrder([])).toBeUndefined();
    // A cycle of hints (a hostile client) still picks one message and ends
    const a = item('q-a', 'q-b');
    const b = item('q-b', 'q-a');
    expect([a, b]).toContain(nextInSendingOrder([a, b]));
  });

  it('looks again after 50 ms, doubling to 1 s while the same message waits, and from 50 ms for the next', () => {
    const nextDelayMs = createPredecessorBackoff(50);
    const delays = Array.from({ length: 7 }, () => nextDelayMs('m1'));
    expect(delays).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
    expect(nextDelayMs('m2')).toBe(50);
  });
});
