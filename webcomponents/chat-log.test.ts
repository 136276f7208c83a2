import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from './chat-connection.ts';
import {
  addUserMessage,
  applyAck,
  applyCompleted,
  applyDelta,
  applyError,
  applyImage,
  clearSendError,
  lastAckedMessageId,
  logFromHistory,
  replyInProgress,
} from './chat-log.ts';
import { renderChatPage } from './page.ts';

const conversationId = 'c1';
const delta = (seq: number, text: string, inReplyTo = 'm1') =>
  ({ type: 'delta', conversationId, inReplyTo, seq, text }) as const;

describe('chat log', () => {
  it('puts a reply under the message it answers and keeps only the highest seq', () => {
    let log = addUserMessage([], 'client-1', 'first');
    log = addUserMessage(log, 'client-2', 'second');
    log = applyAck(log, {
      type: 'ack',
      clientMessageId: 'client-1',
      messageId: 'm1',
      conversationId,
      duplicate: false,
    });

    log = applyDelta(log, delta(1, 'Hello wor'));
    log = applyDelta(log, delta(0, 'Hel'));

    expect(log.map((m) => m.text)).toEqual(['first', 'Hello wor', 'second']);
  });

  it('ignores deltas after completed, and shows the error of a failed reply', () => {
    let log = applyDelta([], delta(0, 'Partial'));
    log = applyCompleted(log, {
      type: 'completed',
      conversationId,
      inReplyTo: 'm1',
      seq: 0,
      status: 'error',
      text: 'Partial',
      error: { code: 'LLM_UNREACHABLE', message: 'The model did not answer.' },
    });
    const after = applyDelta(log, delta(5, 'late'));

    expect(after).toBe(log);
    expect(after[0]).toMatchObject({ text: 'Partial', done: true, error: 'The model did not answer.' });
  });

  it('marks the user message an error frame names', () => {
    const log = applyError(addUserMessage([], 'client-1', 'hi'), {
      type: 'error',
      code: 'TOO_LONG',
      message: 'Too long.',
      clientMessageId: 'client-1',
    });

    expect(log[0]?.error).toBe('Too long.');
  });
});

describe('resolveEndpoint', () => {
  it.each([
    [undefined, 'https://chat.example.com/app', 'wss://chat.example.com/ws'],
    ['', 'http://127.0.0.1:8787/', 'ws://127.0.0.1:8787/ws'],
    ['wss://api.example.com/prod', 'http://x/', 'wss://api.example.com/prod'],
    ['/socket', 'http://host:1/', 'ws://host:1/socket'],
    ['ftp://nope', 'http://x/', undefined],
  ])('maps %s on %s to %s', (endpoint, page, expected) => {
    expect(resolveEndpoint(endpoint, { href: page })).toBe(expected);
  });
});

describe('renderChatPage', () => {
  it('escapes the title and endpoint and loads the bundle with one module script', () => {
    const page = renderChatPage({
      scriptUrl: '/openclaw-chat.js',
      wsUrl: 'ws://h/ws?a=1&b=2',
      title: '<Me>',
    });

    expect(page).toContain('<openclaw-chat endpoint="ws://h/ws?a=1&amp;b=2" title="&lt;Me&gt;" open>');
    expect(page.match(/<script type="module"/g)).toHaveLength(1);
  });

  it('adds the fragment-token script before the bundle only when asked', () => {
    const plain = renderChatPage({ scriptUrl: '/openclaw-chat.js' });
    const signIn = renderChatPage({ scriptUrl: '/openclaw-chat.js', tokenFromFragment: true });

    expect(plain).not.toContain('location.hash');
    expect(signIn.match(/<script type="module"/g)).toHaveLength(2);
    expect(signIn.indexOf('location.hash')).toBeLessThan(signIn.indexOf('src="/openclaw-chat.js"'));
    expect(signIn).toContain('history.replaceState');
    expect(signIn).not.toMatch(/localStorage|sessionStorage/);
  });
});

describe('stored history and the reply in progress', () => {
  it('turns stored messages into finished bubbles, a failed reply with its message', () => {
    // Prepare
    const at = '2026-12-01T10:00:00.000Z';

    // Act
    const log = logFromHistory({
      messages: [
        { role: 'user', messageId: 'm1', text: 'hi', at },
        { role: 'assistant', messageId: 'm1', text: 'hello', at, status: 'ok' },
        { role: 'user', messageId: 'm2', text: 'again', at },
        {
          role: 'assistant',
          messageId: 'm2',
          text: '',
          at,
          status: 'error',
          error: { code: 'X', message: 'No.' },
        },
      ],
    });

    // Assess
    expect(log.map((m) => [m.role, m.text, m.done, m.error])).toEqual([
      ['user', 'hi', true, undefined],
      ['assistant', 'hello', true, undefined],
      ['user', 'again', true, undefined],
      ['assistant', '', true, 'No.'],
    ]);
    expect(replyInProgress(log)).toBeUndefined();
    // A late delta for a stored reply changes nothing.
    expect(applyDelta(log, { type: 'delta', conversationId: 'c', inReplyTo: 'm1', seq: 5, text: 'x' })).toBe(
      log,
    );
  });

  it('finds the acked message whose reply is still running, and not a refused one', () => {
    let log = addUserMessage([], 'cid-1', 'q1');
    expect(replyInProgress(log)).toBeUndefined(); // not acked yet: nothing to stop
    log = applyAck(log, {
      type: 'ack',
      clientMessageId: 'cid-1',
      messageId: 'm1',
      conversationId: 'c',
      duplicate: false,
    });
    expect(replyInProgress(log)?.messageId).toBe('m1');
    log = applyDelta(log, { type: 'delta', conversationId: 'c', inReplyTo: 'm1', seq: 0, text: 'par' });
    expect(replyInProgress(log)?.messageId).toBe('m1');
    log = applyCompleted(log, {
      type: 'completed',
      conversationId: 'c',
      inReplyTo: 'm1',
      seq: 1,
      status: 'aborted',
      text: 'par',
    });
    expect(replyInProgress(log)).toBeUndefined();
    log = applyError(addUserMessage(log, 'cid-2', 'q2'), {
      type: 'error',
      code: 'X',
      message: 'No.',
      clientMessageId: 'cid-2',
    });
    expect(log.at(-1)?.error).toBe('No.');
    expect(clearSendError(log, 'cid-2').at(-1)?.error).toBeUndefined();
  });

  it('names the latest acked message sent from this page before a message as its predecessor', () => {
    const ack = (clientMessageId: string, messageId: string) =>
      ({ type: 'ack', clientMessageId, messageId, conversationId: 'c', duplicate: false }) as const;
    const history = logFromHistory({
      messages: [{ role: 'user', messageId: 'h1', text: 'old', at: '2026-12-01T00:00:00.000Z' }],
    } as never);
    expect(lastAckedMessageId([])).toBeUndefined();
    expect(lastAckedMessageId(history)).toBeUndefined(); // stored: answered long ago
    let log = applyAck(addUserMessage(history, 'cid-1', 'q1'), ack('cid-1', 'm1'));
    log = addUserMessage(log, 'cid-2', 'q2'); // not acked yet: no predecessor of a later one
    expect(lastAckedMessageId(log)).toBe('m1');
    log = applyAck(log, ack('cid-2', 'm2'));
    expect(lastAckedMessageId(log)).toBe('m2');
    // Sent again (a refused send retried): the message before it in the log, not itself or a later one.
    expect(lastAckedMessageId(log, 'cid-2')).toBe('m1');
    expect(lastAckedMessageId(log, 'cid-1')).toBeUndefined();
  });
});

describe('reply images', () => {
  const image = (url: string, inReplyTo = 'm1') =>
    ({ type: 'image', conversationId, inReplyTo, url, contentType: 'image/png', alt: 'Screenshot' }) as const;

  it('adds http(s) images to their reply, once each and at most four, and refuses other schemes', () => {
    let log = applyCompleted([], {
      type: 'completed',
      conversationId,
      inReplyTo: 'm1',
      seq: 1,
      status: 'ok',
      text: 'Look:',
    });
    for (const url of [
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      'file:///etc/passwd',
      'not a url',
    ]) {
      expect(applyImage(log, image(url))).toBe(log);
    }
    log = applyImage(log, image('https://bucket.s3.amazonaws.com/media/u/1/0.png?X-Amz-Signature=a'));
    log = applyImage(log, image('https://bucket.s3.amazonaws.com/media/u/1/0.png?X-Amz-Signature=a'));
    for (const n of [1, 2, 3, 4]) log = applyImage(log, image(`http://127.0.0.1:4569/b/media/u/1/${n}.png`));
    expect(log).toHaveLength(1);
    expect(log[0]?.text).toBe('Look:');
    expect(log[0]?.images?.map((i) => i.url.split('/').pop())).toEqual([
      '0.png?X-Amz-Signature=a',
      '1.png',
      '2.png',
      '3.png',
    ]);
  });

  it('keeps an image that arrives before its reply text, and the text then completes the reply', () => {
    let log = applyImage([], image('https://example.test/shot.png', 'm2'));
    log = applyCompleted(log, {
      type: 'completed',
      conversationId,
      inReplyTo: 'm2',
      seq: 1,
      status: 'ok',
      text: 'Done',
    });
    expect(log).toMatchObject([
      { text: 'Done', done: true, images: [{ url: 'https://example.test/shot.png' }] },
    ]);
  });
});
