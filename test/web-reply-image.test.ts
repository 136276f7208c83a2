import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenClawTurnRequest, OpenClawTurnResult } from '../agent/openclaw-adapter.ts';
import { type LocalStack, startLocalStack } from '../infra/local/stack.ts';
import type { ServerFrame } from '../schemas/index.ts';
import { signIn, TEST_USER_LIST, withToken } from './fixtures/local-auth.ts';
import { connectTestSocket } from './fixtures/ws-client.ts';

/*
 * A reply image end to end through the local stack: everything is real (turn runner, s3rver, bus, web
 * consumer, WebSocket gateway) except OpenClaw, which is a stand-in at the `loadAdapter` seam. The pinned
 * OpenClaw's lean config offers the model no file-writing tool, so without the browser (its own test,
 * test/local-browser.test.ts) a real turn cannot make an image. The stand-in does what OpenClaw does for a
 * `MEDIA:` line: a file in the turn's state dir, reported in `images`. The agent uploads the sniffed image,
 * ReplyCompleted carries its key, and the chat gets an `image` frame whose presigned URL serves the bytes.
 */

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** A 3 x 2 GIF whose bytes are all below 0x80, so a text-writing tool writes them unchanged. */
const GIF = Buffer.from([
  ...Buffer.from('GIF89a', 'ascii'),
  0x03,
  0x00,
  0x02,
  0x00,
  0x00,
  0x00,
  0x00, // size 3 x 2, no colour table
  0x2c,
  0x00,
  0x00,
  0x00,
  0x00,
  0x03,
  0x00,
  0x02,
  0x00,
  0x00, // image descriptor
  0x02,
  0x02,
  0x44,
  0x01,
  0x00, // LZW data
  0x3b,
]);

/** OpenClaw at the adapter seam: writes the picture into the turn's state dir and reports it. */
const standIn = {
  mode: 'embedded' as const,
  version: 'stand-in',
  async runTurn(req: OpenClawTurnRequest): Promise<OpenClawTurnResult> {
    const path = join(req.workspaceDir, 'picture.gif');
    await writeFile(path, GIF);
    // The extension is only a hint: the agent sniffs the bytes.
    return {
      text: 'Here is the picture.',
      isError: false,
      aborted: false,
      settled: true,
      stopReason: 'stop',
      images: [{ path, contentType: 'image/png' }],
    };
  },
};

describe('a reply image through the local stack (npm start) with a turn whose OpenClaw reports an image', () => {
  let dataDir: string;
  let stack: LocalStack;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-image-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      users: TEST_USER_LIST,
      signInFailureDelayMs: 0,
      logLevel: 'SILENT',
      preloadAgent: false,
      schedulerTickMs: 0,
      loadAdapter: async () => standIn,
      // The stand-in never calls it, but the turn runner wants an LLM configured before a turn.
      defaultLlm: {
        provider: 'custom',
        api: 'openai-completions',
        model: 'stand-in',
        baseUrl: 'http://127.0.0.1:9/v1',
        apiKeyRef: 'OPENCLAW_LLM_API_KEY',
      },
      env: { OPENCLAW_LLM_API_KEY: 'sk-stand-in-0123456789' },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reaches the web chat as an image frame whose presigned URL serves the bytes the agent made', async () => {
    // Prepare
    const socket = await connectTestSocket(withToken(stack.wsUrl, (await signIn(stack.url)).idToken));
    const clientMessageId = `image-${process.pid}`;

    // Act
    socket.send({
      action: 'sendMessage',
      conversationId: 'pictures',
      clientMessageId,
      text: 'draw me something',
    });
    const ack = await socket.waitFor(
      (frame): frame is Frame<'ack'> => frame.type === 'ack' && frame.clientMessageId === clientMessageId,
    );
    const image = await socket.waitFor(
      (frame): frame is Frame<'image'> => frame.type === 'image' && frame.inReplyTo === ack.messageId,
      30_000,
    );

    // Assess: the text without the MEDIA: line, then one image frame, small, with a URL that works
    const completed = socket.frames.find(
      (frame): frame is Frame<'completed'> => frame.type === 'completed' && frame.inReplyTo === ack.messageId,
    );
    expect(completed).toMatchObject({ status: 'ok', text: 'Here is the picture.' });
    expect(image).toMatchObject({ contentType: 'image/gif', width: 3, height: 2 });
    expect(image.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+X-Amz-Signature=/);
    expect(Buffer.byteLength(JSON.stringify(image))).toBeLessThan(4_096);
    const response = await fetch(image.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(GIF)).toBe(true);
    socket.close();
  }, 60_000);
});
