import { describe, expect, it } from 'vitest';
import type { Publisher } from '../bus/index.ts';
import type { BusEvent } from '../schemas/index.ts';
import { capText, createReplyStream, MAX_REPLY_TEXT_BYTES } from './reply-stream.ts';

const recorder = () => {
  const events: BusEvent[] = [];
  const publisher: Publisher = {
    publish: async (e) => void events.push(...(Array.isArray(e) ? e : [e as BusEvent])),
  };
  return { events, publisher };
};

const base = {
  userId: 'u',
  conversationId: 'c',
  replyTo: { channel: 'web', address: { connectionId: 'x=' } },
  inReplyTo: 'm',
};

describe('capText', () => {
  it('leaves ordinary replies alone', () => {
    expect(capText('hello')).toBe('hello');
  });

  it.each([
    ['ASCII', 'a'],
    ['three-byte CJK', '漢'],
    ['four-byte emoji', '😀'],
    ['characters JSON escapes', '"\\n\u0001'],
  ])('fits %s text into the byte budget, marking the cut', (_name, unit) => {
    const capped = capText(unit.repeat(200_000));
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThanOrEqual(MAX_REPLY_TEXT_BYTES);
    expect(capped.endsWith('[reply truncated]')).toBe(true);
    expect(capped.length).toBeGreaterThan(1000);
    expect(capped).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('the reply stream', () => {
  it('sends the first delta at once, holds the rest within the interval, and completes with a higher seq', async () => {
    const { events, publisher } = recorder();
    const stream = createReplyStream({ publisher, ...base, minIntervalMs: 10_000 });
    stream.push('a');
    stream.push('ab');
    stream.push('abc');
    await stream.complete({ status: 'ok', text: 'abcde' });
    const seen = events.map((e) => [
      e.detailType,
      (e.detail as { seq: number }).seq,
      (e.detail as { text: string }).text,
    ]);
    expect(seen).toEqual([
      ['ReplyDelta.v1', 1, 'a'],
      ['ReplyCompleted.v1', 2, 'abcde'],
    ]);
  });

  it('sends the latest held text once the interval has passed', async () => {
    const { events, publisher } = recorder();
    const stream = createReplyStream({ publisher, ...base, minIntervalMs: 40 });
    stream.push('a');
    stream.push('ab');
    stream.push('abc');
    // The held text goes out once the 40 ms interval has passed; poll rather than guess the timer's lateness.
    await expect.poll(() => events.length, { timeout: 5_000 }).toBe(2);
    expect(events.map((e) => (e.detail as { text: string }).text)).toEqual(['a', 'abc']);
    await stream.complete({ status: 'ok', text: 'abc' });
  });

  it('does not wait forever on a delta publish that hangs', async () => {
    const publisher: Publisher = {
      publish: async (event) => {
        if (!Array.isArray(event) && (event as BusEvent).detailType === 'ReplyDelta.v1')
          await new Promise(() => undefined);
      },
    };
    const stream = createReplyStream({ publisher, ...base, minIntervalMs: 0, deltaWaitMs: 50 });
    stream.push('partial');
    const started = Date.now();
    await stream.complete({ status: 'ok', text: 'done' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
