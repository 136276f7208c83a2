import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_TEXT_CHARS,
  MAX_WEB_SOCKET_FRAME_BYTES,
  type SendMessageFrame,
} from '../schemas/index.ts';
import {
  ChatConnection,
  frameBytes,
  MAX_TEXT_CHARS,
  MAX_WEB_SOCKET_FRAME_BYTES as WEB_MAX_FRAME_BYTES,
} from './chat-connection.ts';

const frame = (text: string): SendMessageFrame => ({
  action: 'sendMessage',
  conversationId: 'web-c1',
  clientMessageId: 'client-0001',
  text,
});

describe('limits', () => {
  it('re-declares the protocol limits with the same values (the bundle must not import zod)', () => {
    expect(WEB_MAX_FRAME_BYTES).toBe(MAX_WEB_SOCKET_FRAME_BYTES);
    expect(MAX_TEXT_CHARS).toBe(MAX_MESSAGE_TEXT_CHARS);
  });

  it('measures the serialized frame in UTF-8 bytes, JSON escapes included', () => {
    const empty = frameBytes(frame(''));

    expect(frameBytes(frame('€'))).toBe(empty + 3);
    expect(frameBytes(frame('😀'))).toBe(empty + 4);
    expect(frameBytes(frame('\u0001'))).toBe(empty + 6);
  });
});

describe('ChatConnection.send', () => {
  it('refuses a frame over the limit without queuing it, and queues one under it', () => {
    const host = { addController: () => {}, removeController: () => {}, requestUpdate: () => {} };
    const connection = new ChatConnection(host as never, { url: () => undefined, onFrame: () => {} });
    // 24,000 control characters are 144,000 bytes once JSON-escaped, though within the 32,000-char limit.
    const big = { ...frame('\u0001'.repeat(24_000)), clientMessageId: 'client-big' };

    expect(connection.send(big)).toBe('too-large');
    expect(connection.isPending('client-big')).toBe(false);
    expect(connection.send(frame('hello'))).toBe('queued');
    expect(connection.isPending('client-0001')).toBe(true);
  });
});
