import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../infra/local/stack.ts';
import type { ServerFrame } from '../schemas/index.ts';
import {
  type FakeLlm,
  fakeLlmDefault,
  type RecordedLlmRequest,
  startFakeLlm,
  toolResults,
  userTexts,
} from './fixtures/fake-llm.ts';
import { bearer, signIn, TEST_USER_LIST, withToken } from './fixtures/local-auth.ts';
import { connectTestSocket, type TestSocket } from './fixtures/ws-client.ts';

/*
 * The agent's own scheduling tools, end to end on the local stack with real OpenClaw turns: the fake
 * LLM answers "remind me in 2 hours …" with a `schedule_create` call, OpenClaw runs our plugin's tool,
 * the job is stored for the turn's user and chat, the model's final reply arrives, and on a moved clock
 * the job fires and its reply arrives on the same web socket.
 */

type Completed = Extract<ServerFrame, { type: 'completed' }>;

interface StoredJob {
  jobId: string;
  prompt: string;
  expression: string;
  conversationId: string;
  replyTo: { channel: string };
  nextFireAt?: string | number;
}

/** The fake model: schedules when asked to remind, passes on what the tool said, else echoes. */
function scheduleScript(request: RecordedLlmRequest) {
  // Only a tool result that answers this turn's call: the session's history keeps earlier ones.
  if (request.messages.at(-1)?.role === 'tool') return `Tool said: ${toolResults(request).at(-1)!.text}`;
  const last = userTexts(request).at(-1) ?? '';
  if (last.includes('remind me in 2 hours') && request.tools.includes('schedule_create')) {
    return {
      toolCalls: [{ name: 'schedule_create', arguments: { when: 'in 2h', prompt: 'Stretch your legs' } }],
    };
  }
  if (last.includes('for the victim') && request.tools.includes('schedule_create')) {
    // The model tries to name another user and chat: there are no such arguments.
    return {
      toolCalls: [
        {
          name: 'schedule_create',
          arguments: { when: 'in 1h', prompt: 'Spam', userId: 'victim', conversationId: 'theirs' },
        },
      ],
    };
  }
  return `Echo: ${last}`;
}

let clientIds = 0;
async function converse(socket: TestSocket, conversationId: string, text: string): Promise<Completed> {
  const clientMessageId = `tool-msg-${process.pid}-${++clientIds}`;
  socket.send({ action: 'sendMessage', conversationId, clientMessageId, text });
  const ack = await socket.waitFor(
    (frame): frame is Extract<ServerFrame, { type: 'ack' }> =>
      frame.type === 'ack' && frame.clientMessageId === clientMessageId,
  );
  return socket.waitFor(
    (frame): frame is Completed => frame.type === 'completed' && frame.inReplyTo === ack.messageId,
    90_000,
  );
}

describe('the agent schedules jobs itself (real OpenClaw, schedule tool plugin)', () => {
  let llm: FakeLlm;
  let dataDir: string;
  let stack: LocalStack;
  const clock = { now: Date.UTC(2026, 10, 25, 9, 0) };

  beforeAll(async () => {
    llm = await startFakeLlm({ reply: scheduleScript });
    dataDir = await mkdtemp(join(tmpdir(), 'openclaw-schedule-tool-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      logLevel: 'SILENT',
      defaultLlm: fakeLlmDefault(llm.baseUrl),
      users: TEST_USER_LIST,
      schedulerNow: () => clock.now,
      schedulerTickMs: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await llm?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The user's jobs through the API as that signed-in user (it lists by owner, the partition key). */
  async function jobsOf(user: string): Promise<StoredJob[]> {
    const { idToken } = await signIn(stack.url, user);
    const response = await fetch(`${stack.url}/v1/schedules`, { headers: bearer(idToken) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { schedules: StoredJob[] }).schedules;
  }

  it('"remind me in 2 hours" stores a job for this user and chat, and it fires two hours later', async () => {
    // Prepare
    const user = 'alice';
    const socket = await connectTestSocket(withToken(stack.wsUrl, (await signIn(stack.url, user)).idToken));

    // Act: the turn in which the model calls schedule_create
    const reply = await converse(socket, 'chores', 'Please remind me in 2 hours to stretch');

    // Assess: the model saw the tool result (job id, next run) and said so; the job is the user's
    expect(reply).toMatchObject({ status: 'ok', conversationId: 'chores' });
    expect(reply.text).toMatch(/^Tool said: Scheduled job [0-9a-f-]{36} .*next run 2026-11-25 11:00 UTC/);
    const offered = llm.requests.find((request) => request.tools.includes('schedule_create'));
    expect(offered?.tools).toEqual(
      expect.arrayContaining(['schedule_create', 'schedule_list', 'schedule_delete']),
    );
    const [job, ...others] = await jobsOf(user);
    expect(others).toEqual([]);
    expect(job).toMatchObject({
      prompt: 'Stretch your legs',
      expression: 'at(2026-11-25T11:00:00)',
      conversationId: 'chores',
      replyTo: { channel: 'web' },
    });
    expect(reply.text).toContain(job!.jobId);

    // Act: not due at 10:59; due at 11:00
    clock.now = Date.UTC(2026, 10, 25, 10, 59);
    const early = await stack.tickScheduler();
    clock.now = Date.UTC(2026, 10, 25, 11, 0);
    const fired = await stack.tickScheduler();

    // Assess: the reminder's turn answers on the same socket, in the same conversation
    expect(early).toBe(0);
    expect(fired).toBe(1);
    const reminder = await socket.waitFor(
      (frame): frame is Completed => frame.type === 'completed' && frame.text.includes('Stretch your legs'),
      90_000,
    );
    expect(reminder).toMatchObject({ status: 'ok', conversationId: 'chores' });
    await socket.close();
  }, 180_000);

  it('cannot create a job for another user: owner and chat come from the turn, extra arguments are refused', async () => {
    // Prepare
    const user = 'local';
    const socket = await connectTestSocket(withToken(stack.wsUrl, (await signIn(stack.url, user)).idToken));

    // Act
    const reply = await converse(socket, 'mine', 'schedule something for the victim');

    // Assess: the tool error reached the model, and nobody got a job
    expect(reply.status).toBe('ok');
    expect(reply.text).toMatch(/^Tool said: Validation failed for tool "schedule_create"/);
    expect(reply.text).toContain('userId');
    expect(await jobsOf('bob')).toEqual([]);
    expect(await jobsOf(user)).toEqual([]);
    await socket.close();
  }, 120_000);
});
