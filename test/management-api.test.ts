import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConversationListSchema, ConversationSchema, SettingsViewSchema } from '../schemas/api.ts';
import type { ServerFrame } from '../schemas/index.ts';
import { type FakeLlm, startFakeLlm, userTexts } from './fixtures/fake-llm.ts';
import { bearer, signIn, TEST_LOCAL_USERS, withToken } from './fixtures/local-auth.ts';
import { type LocalProcess, startLocalProcess } from './fixtures/local-process.ts';
import { connectTestSocket, type TestSocket } from './fixtures/ws-client.ts';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
const isType =
  <T extends ServerFrame['type']>(type: T, match: (frame: Frame<T>) => boolean = () => true) =>
  (frame: ServerFrame): frame is Frame<T> =>
    frame.type === type && match(frame as Frame<T>);

const USER_KEY = 'sk-user-own-key-never-shown-0123456789';
const DEPLOYMENT_KEY = 'sk-deployment-key-0123456789';
/** Long enough to stream for several seconds at the fake's pace, so a stop lands mid-reply. */
const SLOW_REPLY = `${'This is a long and slow answer. '.repeat(60)}THE END`;

let clientIds = 0;
async function send(socket: TestSocket, conversationId: string, text: string) {
  const clientMessageId = `mgmt-msg-${process.pid}-${++clientIds}`;
  socket.send({ action: 'sendMessage', conversationId, clientMessageId, text });
  return socket.waitFor(isType('ack', (f) => f.clientMessageId === clientMessageId));
}
const completedOf = (socket: TestSocket, messageId: string) =>
  socket.waitFor(
    isType('completed', (f) => f.inReplyTo === messageId),
    90_000,
  );

describe('the management API and the stop button through the local stack (npm start), with real OpenClaw turns', () => {
  let llm: FakeLlm;
  let dataDir: string;
  let stack: LocalProcess;
  // Each user signs in once through the local issuer; REST calls carry the bearer token, sockets ?token=.
  const tokens = new Map<string, Promise<string>>();
  const tokenOf = (user: string) => {
    if (!tokens.has(user))
      tokens.set(
        user,
        signIn(stack.url, user, `test-password-${user}`).then((signedIn) => signedIn.idToken),
      );
    return tokens.get(user) as Promise<string>;
  };
  const api = async (path: string, user: string, init: RequestInit = {}) =>
    fetch(`${stack.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...bearer(await tokenOf(user)), ...init.headers },
    });
  const connectAs = async (user: string) => connectTestSocket(withToken(stack.wsUrl, await tokenOf(user)));

  beforeAll(async () => {
    llm = await startFakeLlm({
      chunkDelayMs: 40,
      reply: (request) =>
        userTexts(request).at(-1)?.includes('slowly') ? SLOW_REPLY : `Echo: ${userTexts(request).at(-1)}`,
    });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-mgmt-'));
    stack = await startLocalProcess({
      DATA_DIR: dataDir,
      OPENCLAW_LLM_BASE_URL: llm.baseUrl,
      OPENCLAW_LLM_MODEL: 'fake-model',
      OPENCLAW_LLM_API_KEY: DEPLOYMENT_KEY,
      LOG_LEVEL: 'INFO',
      LOCAL_USERS: `${TEST_LOCAL_USERS},carol:test-password-carol,mallory:test-password-mallory`,
    });
  });

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.log(stack?.output().slice(-8000));
  });

  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses the model and key set in settings on the next turn, never shows the key, and keeps the history', async () => {
    // Prepare
    const user = 'alice';
    const socket = await connectAs(user);
    const conversationId = `conv-settings-${Date.now()}`;
    const first = await send(socket, conversationId, 'Hello with the default model');
    await completedOf(socket, first.messageId);
    expect(llm.requests.at(-1)).toMatchObject({
      model: 'fake-model',
      authorization: `Bearer ${DEPLOYMENT_KEY}`,
    });

    // Act: a new model and the user's own key, over HTTP
    const put = await api('/v1/settings', user, {
      method: 'PUT',
      body: JSON.stringify({
        llm: {
          provider: 'openai-compatible',
          model: 'users-own-model',
          baseUrl: llm.baseUrl,
          apiKey: USER_KEY,
        },
        idleTimeoutMinutes: 10,
      }),
    });
    const second = await send(socket, conversationId, 'Hello with my own model');
    const reply = await completedOf(socket, second.messageId);

    // Assess: the next turn used the new model and the user's key
    expect(put.status).toBe(200);
    expect(reply.status).toBe('ok');
    expect(llm.requests.at(-1)).toMatchObject({
      model: 'users-own-model',
      authorization: `Bearer ${USER_KEY}`,
    });
    const putText = JSON.stringify(await put.json());
    const view = SettingsViewSchema.parse(await (await api('/v1/settings', user)).json());
    expect(view.llm).toEqual({
      provider: 'openai-compatible',
      model: 'users-own-model',
      baseUrl: llm.baseUrl,
      apiKeySet: true,
    });
    expect(view.idleTimeoutMinutes).toBe(10);
    expect(putText + JSON.stringify(view)).not.toContain(USER_KEY);
    // The key is a file under the data directory, and never in what the stack printed
    expect(await readdir(join(dataDir, 'secrets', `local-${user}`))).toEqual(['llm-api-key']);
    expect(stack.output()).not.toContain(USER_KEY);

    // Assess: both turns are in the history, and another user cannot see them
    const list = ConversationListSchema.parse(await (await api('/v1/conversations', user)).json());
    expect(list.conversations[0]).toMatchObject({
      conversationId,
      title: 'Hello with the default model',
      messageCount: 4,
    });
    const opened = ConversationSchema.parse(
      await (await api(`/v1/conversations/${conversationId}`, user)).json(),
    );
    expect(opened.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect((await api(`/v1/conversations/${conversationId}`, 'mallory')).status).toBe(404);
    expect((await api(`/v1/conversations/${conversationId}`, 'mallory', { method: 'DELETE' })).status).toBe(
      404,
    );
    // Another user's turn still uses the deployment default
    const other = await connectAs('bob');
    const bobs = await send(other, `conv-bob-${Date.now()}`, 'Hello from bob');
    await completedOf(other, bobs.messageId);
    expect(llm.requests.at(-1)).toMatchObject({
      model: 'fake-model',
      authorization: `Bearer ${DEPLOYMENT_KEY}`,
    });
    await other.close();

    // Act + Assess: delete, then it is gone
    expect((await api(`/v1/conversations/${conversationId}`, user, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/v1/conversations/${conversationId}`, user)).status).toBe(404);
    await socket.close();
  }, 180_000);

  it('stops a running turn within about a second, keeping the partial text, and only for its own user', async () => {
    // Prepare
    const socket = await connectAs('carol');
    const intruder = await connectAs('mallory');
    const conversationId = `conv-stop-${Date.now()}`;
    const ack = await send(socket, conversationId, 'Answer slowly please');
    await socket.waitFor(
      isType('delta', (f) => f.inReplyTo === ack.messageId),
      60_000,
    );

    // Act: someone else tries to stop it first, then its own user
    intruder.send({ action: 'stop', conversationId, messageId: ack.messageId });
    await intruder.waitFor(isType('stopping'));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stillRunning = !socket.frames.some(isType('completed', (f) => f.inReplyTo === ack.messageId));
    socket.send({ action: 'stop', conversationId, messageId: ack.messageId });
    await socket.waitFor(isType('stopping', (f) => f.messageId === ack.messageId));
    const stoppedAt = Date.now();
    const completed = await completedOf(socket, ack.messageId);
    const tookMs = Date.now() - stoppedAt;

    // Assess
    expect(stillRunning).toBe(true);
    expect(completed.status).toBe('aborted');
    expect(completed.error?.code).toBe('STOPPED');
    expect(completed.text.length).toBeGreaterThan(0);
    expect(completed.text).not.toContain('THE END');
    expect(tookMs).toBeLessThan(4_000);
    await socket.close();
    await intruder.close();
  }, 120_000);
});
