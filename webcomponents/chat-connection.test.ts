import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_QUERY_PARAMETER as AUTHORIZER_TOKEN_PARAMETER } from '../producers/web/authorizer.ts';
import {
  MAX_MESSAGE_TEXT_CHARS,
  MAX_WEB_SOCKET_FRAME_BYTES,
  type SendMessageFrame,
} from '../schemas/index.ts';
import {
  ChatConnection,
  frameBytes,
  MAX_TEXT_CHARS,
  TOKEN_QUERY_PARAMETER,
  MAX_WEB_SOCKET_FRAME_BYTES as WEB_MAX_FRAME_BYTES,
  withToken,
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
    expect(TOKEN_QUERY_PARAMETER).toBe(AUTHORIZER_TOKEN_PARAMETER);
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

describe('withToken', () => {
  it.each([
    ['wss://api.example.com/prod', 'a.b.c', 'wss://api.example.com/prod?token=a.b.c'],
    ['ws://h:1/ws?x=1&y=a%20b', 'a.b.c', 'ws://h:1/ws?x=1&y=a%20b&token=a.b.c'],
    ['ws://h/ws?token=old&x=1', 'new', 'ws://h/ws?x=1&token=new'],
    ['ws://h/ws?', 'a+b/c=&d', 'ws://h/ws?token=a%2Bb%2Fc%3D%26d'],
  ])('adds the token to %s', (url, token, expected) => {
    expect(withToken(url, token)).toBe(expected);
  });
});

/** Records every socket the connection opens; sockets never open or close by themselves. */
class FakeSocket extends EventTarget {
  static readonly CLOSING = 2;
  static readonly made: FakeSocket[] = [];
  readyState = 0;
  readonly url: string;
  constructor(url: string) {
    super();
    this.url = url;
    FakeSocket.made.push(this);
  }
  send(): void {}
  close(): void {
    this.readyState = 3;
  }
}

describe('ChatConnection with an async url', () => {
  const host = { addController: () => {}, removeController: () => {}, requestUpdate: () => {} };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  beforeEach(() => {
    FakeSocket.made.length = 0;
    vi.stubGlobal('WebSocket', FakeSocket);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('opens one socket with the latest URL when an earlier resolution arrives after a reconnect', async () => {
    // Prepare
    const pending: ((url: string) => void)[] = [];
    const url = () => new Promise<string>((resolve) => pending.push(resolve));
    const connection = new ChatConnection(host as never, { url, onFrame: () => {} });

    // Act
    connection.hostConnected();
    expect(connection.state).toBe('connecting');
    connection.reconnect();
    pending[1]!('ws://h/ws?token=new');
    pending[0]!('ws://h/ws?token=stale');
    await settle();

    // Assess
    expect(FakeSocket.made.map((s) => s.url)).toEqual(['ws://h/ws?token=new']);
    expect(connection.url).toBe('ws://h/ws?token=new');
  });

  it('opens nothing when the url resolves after the host went away', async () => {
    let resolve: (url: string) => void = () => {};
    const url = () => new Promise<string>((r) => (resolve = r));
    const connection = new ChatConnection(host as never, { url, onFrame: () => {} });

    connection.hostConnected();
    connection.hostDisconnected();
    resolve('ws://h/ws');
    await settle();

    expect(FakeSocket.made).toEqual([]);
    expect(connection.state).toBe('closed');
  });

  it('treats a rejected url as a failed attempt and retries with backoff', async () => {
    // Prepare
    vi.useFakeTimers();
    let calls = 0;
    const url = async () => {
      calls += 1;
      if (calls === 1) throw new Error('no token');
      return 'ws://h/ws?token=t';
    };
    const connection = new ChatConnection(host as never, { url, onFrame: () => {}, initialDelayMs: 100 });

    // Act
    connection.hostConnected();
    await vi.advanceTimersByTimeAsync(0);

    // Assess
    expect(connection.state).toBe('reconnecting');
    expect(FakeSocket.made).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(2);
    expect(FakeSocket.made.map((s) => s.url)).toEqual(['ws://h/ws?token=t']);
  });
});
