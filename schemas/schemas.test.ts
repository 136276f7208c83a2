import { describe, expect, it } from 'vitest';
import { jsonSchemas } from './export-json-schema.ts';
import {
  DETAIL_TYPES,
  EventCatalog,
  MessageReceivedSchema,
  parseDetail,
  ReplyDeltaSchema,
  UserLlmSettingsSchema,
} from './index.ts';

const message = {
  userId: 'user-1',
  conversationId: 'conv-1',
  messageId: '6f1c3a2e-0000-4000-8000-000000000001',
  text: 'hello',
  receivedAt: '2026-11-24T10:00:00.000Z',
  replyTo: { channel: 'telegram', address: { chatId: 12345 } },
};

describe('bus event schemas', () => {
  it('every detail-type names its version', () => {
    for (const detailType of DETAIL_TYPES) expect(detailType).toMatch(/^[A-Z][A-Za-z]+\.v\d+$/);
  });

  it('accept a MessageReceived from any channel, with an opaque reply address', () => {
    expect(MessageReceivedSchema.parse(message)).toEqual(message);
    expect(
      parseDetail('MessageReceived.v1', {
        ...message,
        replyTo: { channel: 'web', address: { connectionId: 'a=' } },
      }),
    ).toBeTruthy();
  });

  it.each([
    ['missing userId', { ...message, userId: undefined }],
    ['userId with a key separator', { ...message, userId: 'USER#x y' }],
    ['empty text', { ...message, text: '' }],
    ['unknown channel shape', { ...message, replyTo: { channel: 'Web Chat!', address: {} } }],
    ['non-ISO time', { ...message, receivedAt: 'yesterday' }],
  ])('reject %s', (_name, detail) => {
    expect(MessageReceivedSchema.safeParse(detail).success).toBe(false);
  });

  it('require a sequence number on deltas', () => {
    const delta = { ...message, inReplyTo: message.messageId, text: 'partial' };
    expect(ReplyDeltaSchema.safeParse(delta).success).toBe(false);
    expect(ReplyDeltaSchema.safeParse({ ...delta, seq: 1 }).success).toBe(true);
  });

  it('export a JSON Schema for every event and both frame directions', () => {
    const schemas = jsonSchemas();
    for (const detailType of Object.keys(EventCatalog)) {
      expect(schemas[detailType]).toMatchObject({ type: 'object', title: detailType });
    }
    expect(schemas['MessageReceived.v1']).toMatchObject({
      required: expect.arrayContaining(['userId', 'conversationId', 'replyTo', 'messageId', 'text']),
    });
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['web-socket.client-frame', 'web-socket.server-frame']),
    );
  });
});

describe('the committed JSON Schema files (schemas/json/)', () => {
  it('match the zod schemas; run `npm run schemas:export` after changing a schema', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const onDisk = JSON.parse(
        await readFile(join(import.meta.dirname, 'json', `${name}.schema.json`), 'utf8'),
      );
      expect(onDisk, name).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });
});

describe('LLM settings a user may choose', () => {
  const base = { provider: 'custom', api: 'openai-completions', model: 'm' } as const;

  it.each([
    ['https anywhere', { baseUrl: 'https://llm.example.com/v1', apiKeyRef: 'OPENAI_API_KEY' }],
    ['http on loopback (Ollama)', { baseUrl: 'http://127.0.0.1:11434/v1' }],
    ['their own key name', { apiKeyRef: 'OPENCLAW_KEY_MY_ROUTER' }],
  ])('accept %s', (_name, extra) => {
    expect(UserLlmSettingsSchema.safeParse({ ...base, ...extra }).success).toBe(true);
  });

  it.each([
    ['a key reference to AWS credentials', { apiKeyRef: 'AWS_SECRET_ACCESS_KEY' }],
    ['a key reference to NODE_OPTIONS', { apiKeyRef: 'NODE_OPTIONS' }],
    ['plain http to another host', { baseUrl: 'http://llm.example.com/v1' }],
    ['the instance metadata endpoint', { baseUrl: 'http://169.254.169.254/latest' }],
    ['a non-http scheme', { baseUrl: 'file:///etc/passwd' }],
  ])('reject %s', (_name, extra) => {
    expect(UserLlmSettingsSchema.safeParse({ ...base, ...extra }).success).toBe(false);
  });
});
