import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebRequestError } from './errors.ts';
import { parseClientFrame } from './parse-frame.ts';

const valid = {
  action: 'sendMessage',
  conversationId: 'conv-1',
  clientMessageId: 'client-msg-1',
  text: 'hello',
};

const errorCode = (body: string | undefined) => {
  try {
    parseClientFrame(body);
    return 'OK';
  } catch (error) {
    if (!(error instanceof WebRequestError)) throw error;
    return error.code;
  }
};

describe('parseClientFrame', () => {
  it('accepts a valid sendMessage and ping', () => {
    expect(parseClientFrame(JSON.stringify(valid))).toEqual(valid);
    expect(parseClientFrame('{"action":"ping"}')).toEqual({ action: 'ping' });
  });

  it('decodes base64 bodies as API Gateway delivers binary frames', () => {
    expect(parseClientFrame(Buffer.from(JSON.stringify(valid)).toString('base64'), true)).toEqual(valid);
  });

  it.each([
    ['not JSON', 'hello', 'INVALID_JSON'],
    ['empty body', undefined, 'INVALID_JSON'],
    ['a JSON array', '[1,2]', 'INVALID_MESSAGE'],
    ['JSON null', 'null', 'INVALID_MESSAGE'],
    ['no action', '{"text":"hi"}', 'UNKNOWN_ACTION'],
    ['unknown action', '{"action":"deleteEverything"}', 'UNKNOWN_ACTION'],
    ['inherited property as action', '{"action":"toString"}', 'UNKNOWN_ACTION'],
    ['missing text', JSON.stringify({ ...valid, text: undefined }), 'INVALID_MESSAGE'],
    ['blank text', JSON.stringify({ ...valid, text: '   ' }), 'INVALID_MESSAGE'],
    ['bad conversation id', JSON.stringify({ ...valid, conversationId: '../../etc' }), 'INVALID_MESSAGE'],
    ['short client id', JSON.stringify({ ...valid, clientMessageId: 'x' }), 'INVALID_MESSAGE'],
    [
      'text over 32,000 characters',
      JSON.stringify({ ...valid, text: 'a'.repeat(32_001) }),
      'INVALID_MESSAGE',
    ],
    ['frame over 128 KB', JSON.stringify({ ...valid, text: 'a'.repeat(130 * 1024) }), 'MESSAGE_TOO_LARGE'],
  ])('rejects %s with %s', (_name, body, code) => {
    expect(errorCode(body)).toBe(code);
  });

  it('names the field that failed, and echoes the client id so the client can match the error', () => {
    try {
      parseClientFrame(JSON.stringify({ ...valid, text: '' }));
      expect.unreachable();
    } catch (error) {
      expect((error as WebRequestError).message).toContain('"text"');
      expect((error as WebRequestError).clientMessageId).toBe('client-msg-1');
      expect((error as WebRequestError).statusCode).toBe(400);
    }
  });

  it('throws nothing but WebRequestError for any input (fuzzed)', () => {
    const frames = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({
          action: fc.oneof(fc.constantFrom('sendMessage', 'ping', '__proto__', 'constructor'), fc.string()),
          conversationId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          clientMessageId: fc.oneof(fc.string(), fc.array(fc.string())),
          text: fc.oneof(fc.string(), fc.object()),
        })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(frames, fc.boolean(), (body, base64) => {
        const code = errorCode(base64 ? Buffer.from(body).toString('base64') : body);
        expect(typeof code).toBe('string');
      }),
      { numRuns: 5_000 },
    );
  });
});
