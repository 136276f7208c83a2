import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { type EventBridgeClient as Client, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenClaw } from '../agent/openclaw-adapter.ts';
import { createSessionStore } from '../agent/session-store.ts';
import { createSkillsSync, type SkillsSyncResult } from '../agent/skills-sync.ts';
import { createTurnRunner } from '../agent/turn-runner.ts';
import { createPublisher, LocalBus, type Route } from '../bus/index.ts';
import { createSkillStore } from '../consumers/api/skill-store.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import type { AgentStatusChanged, BusEnvelope, MessageReceived, ReplyCompleted } from '../schemas/index.ts';
import { readSkillUpload } from '../schemas/skill-package.ts';
import { skillFileKey } from '../schemas/skill-storage.ts';
import { startLocalAws } from './fixtures/local-aws.ts';

/*
 * Custom skills end to end, with real OpenClaw turns: a skill stored through the API's store is synced
 * into the user's workspace, listed to the model in the system prompt, and readable with the `read`
 * tool; another user never sees it. The fake LLM here also makes tool calls (test/fixtures/fake-llm.ts
 * only answers with text): asked to "use the skill", it reads the SKILL.md at the location the prompt
 * gives, then answers with what it read.
 */

interface LlmRequest {
  messages: { role: string; content: unknown; tool_call_id?: string }[];
  tools?: { function?: { name?: string } }[];
}

const text = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('')
      : '';

/** The system prompt of a request (OpenAI-compatible APIs send it as `system` or `developer`). */
const systemPrompt = (request: LlmRequest) =>
  request.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => text(m.content))
    .join('\n');

const toolNames = (request: LlmRequest) => (request.tools ?? []).map((tool) => tool.function?.name);

/** An OpenAI-compatible streaming fake that reads a skill when asked to use one. */
async function startToolCallingLlm() {
  const requests: LlmRequest[] = [];
  const sse = (res: import('node:http').ServerResponse, delta: object, finish: string) => {
    const chunk = (choice: object) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'fake-model', choices: [choice] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ index: 0, delta: { role: 'assistant', ...delta }, finish_reason: null }));
    res.write(chunk({ index: 0, delta: {}, finish_reason: finish }));
    res.end('data: [DONE]\n\n');
  };
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
    }
    const request = JSON.parse(body) as LlmRequest;
    requests.push(request);
    const toolResult = request.messages.findLast((m) => m.role === 'tool');
    const lastUser = text(request.messages.findLast((m) => m.role === 'user')?.content);
    const location = /<location>([^<]+SKILL\.md)<\/location>/.exec(systemPrompt(request))?.[1];
    if (toolResult) return sse(res, { content: `I read: ${text(toolResult.content)}` }, 'stop');
    if (lastUser.includes('use the skill') && location && toolNames(request).includes('read')) {
      const call = {
        index: 0,
        id: 'call_1',
        type: 'function',
        function: { name: 'read', arguments: JSON.stringify({ path: location }) },
      };
      return sse(res, { tool_calls: [call] }, 'tool_calls');
    }
    return sse(res, { content: 'Plain answer.' }, 'stop');
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const captureAgentEvents: Route = {
  name: 'capture',
  description: 'test',
  pattern: { source: ['openclaw.agent'] },
  target: 'web-consumer',
  delivery: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
};

const skillMd = (name: string, description: string, body: string) =>
  `---\nname: ${name}\ndescription: ${description}\n---\n# ${name}\n\n${body}\n`;

describe('custom skills in real OpenClaw turns', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let llm: Awaited<ReturnType<typeof startToolCallingLlm>>;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let eventBridge: Client;
  let workRoot: string;
  const events: BusEnvelope[] = [];
  const syncs: { userId: string; result: SkillsSyncResult }[] = [];
  const adapter = loadOpenClaw();
  let runTurn: ReturnType<typeof createTurnRunner>;
  let store: ReturnType<typeof createSkillStore>;

  beforeAll(async () => {
    aws = await startLocalAws();
    llm = await startToolCallingLlm();
    const bus = new LocalBus({
      routes: [captureAgentEvents],
      targets: { 'web-consumer': async (e) => void events.push(e) },
    });
    busEndpoint = await startEventBridgeEndpoint(bus);
    eventBridge = new EventBridgeClient(localClientConfig(busEndpoint.endpoint));
    workRoot = await mkdtemp(join(tmpdir(), 'openclaw-skills-'));
    const publisher = createPublisher({ client: eventBridge, eventBusName: 'test' });
    store = createSkillStore({ storage: aws.storage, s3: aws.s3Client, bucket: aws.bucket });
    const sync = createSkillsSync({
      storage: aws.storage,
      s3: aws.s3Client,
      bucket: aws.bucket,
      publisher,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    runTurn = createTurnRunner({
      storage: aws.storage,
      publisher,
      sessionStore: createSessionStore({ bucket: aws.bucket, client: aws.s3Client }),
      loadAdapter: () => adapter,
      logger: new Logger({ logLevel: 'SILENT' }),
      workRoot,
      defaultLlm: { provider: 'fake', api: 'openai-completions', model: 'fake-model', baseUrl: llm.baseUrl },
      owner: 'test',
      reserveMs: 1_000,
      syncSkills: async (message, workspaceDir) => {
        const result = await sync(message, workspaceDir);
        syncs.push({ userId: message.userId, result });
        return result;
      },
    });
    await adapter;
  }, 120_000);

  afterAll(async () => {
    eventBridge?.destroy();
    await busEndpoint?.close();
    await llm?.close();
    await aws?.close();
    await rm(workRoot, { recursive: true, force: true });
  });

  let ids = 0;
  const turn = async (userId: string, prompt: string) => {
    const message: MessageReceived = {
      userId,
      conversationId: `conv-${userId}`,
      messageId: `msg-${userId}-${++ids}`,
      text: prompt,
      receivedAt: new Date().toISOString(),
      replyTo: { channel: 'web', address: { connectionId: 'c=' } },
    };
    const before = llm.requests.length;
    await runTurn(message, { deadlineAt: Date.now() + 90_000 });
    const completed = events.find(
      (e) =>
        e['detail-type'] === 'ReplyCompleted.v1' &&
        (e.detail as ReplyCompleted).inReplyTo === message.messageId,
    )?.detail as ReplyCompleted | undefined;
    const statuses = events
      .filter((e) => e['detail-type'] === 'AgentStatusChanged.v1')
      .map((e) => e.detail as AgentStatusChanged)
      .filter((s) => s.inReplyTo === message.messageId);
    return { completed, requests: llm.requests.slice(before), statuses };
  };
  const upload = (userId: string, md: string) =>
    store.put(userId, readSkillUpload('text/markdown', Buffer.from(md)));
  const workspaceSkills = async (userId: string) => {
    const userDir = join(workRoot, 'users', encodeURIComponent(userId));
    const stateDir = (await readdir(userDir)).find((entry) => entry.startsWith('state-')) ?? '';
    return (await readdir(join(userDir, stateDir, 'workspace', 'skills'))).filter((e) => !e.startsWith('.'));
  };

  it("lists user A's skill to the model, lets it read the SKILL.md, and never shows it to user B", async () => {
    // Prepare
    await upload(
      'alice',
      skillMd('tide-tables', 'Use for questions about tide times.', 'SECRET-STEP: check the moon.'),
    );

    // Act
    const alice = await turn('alice', 'Please use the skill for tides.');
    const bob = await turn('bob', 'Please use the skill for tides.');

    // Assess: A's prompt names the skill and its description; the model read the file through `read`
    expect(alice.completed?.status).toBe('ok');
    const first = alice.requests[0] as LlmRequest;
    expect(systemPrompt(first)).toContain('tide-tables');
    expect(systemPrompt(first)).toContain('Use for questions about tide times.');
    expect(toolNames(first)).toContain('read');
    expect(alice.requests.length).toBeGreaterThanOrEqual(2);
    expect(alice.completed?.text).toContain('SECRET-STEP: check the moon.');
    // B: no trace of A's skill anywhere in what the model got, and no file tool at all
    expect(bob.completed?.status).toBe('ok');
    expect(JSON.stringify(bob.requests)).not.toContain('tide-tables');
    expect(JSON.stringify(bob.requests)).not.toContain('SECRET-STEP');
    expect(toolNames(bob.requests[0] as LlmRequest)).not.toContain('read');
    expect(bob.completed?.text).toBe('Plain answer.');
  }, 180_000);

  it('does not download an unchanged skill again on the next turn, and removes a disabled one', async () => {
    // Prepare
    await upload('carol', skillMd('recipes', 'Use for cooking questions.', 'Salt to taste.'));
    await turn('carol', 'hello');
    expect(syncs.at(-1)?.result).toMatchObject({ names: ['recipes'], downloaded: 1 });

    // Act: a warm turn, then one after disabling the skill
    await turn('carol', 'hello again');
    const warm = syncs.at(-1)?.result;
    await store.setEnabled('carol', 'recipes', false);
    const off = await turn('carol', 'and now?');

    // Assess
    expect(warm).toMatchObject({ names: ['recipes'], downloaded: 0 });
    expect(syncs.at(-1)?.result).toMatchObject({ names: [], downloaded: 0 });
    expect(systemPrompt(off.requests[0] as LlmRequest)).not.toContain('recipes');
    expect(await workspaceSkills('carol')).toEqual([]);
  }, 180_000);

  it('skips a stored skill that fails validation with a warning the user sees, and still answers', async () => {
    // Prepare: a good skill, and one whose stored SKILL.md was damaged after upload
    await upload('dave', skillMd('good-one', 'Use for good things.', 'Fine.'));
    const { skill } = await upload('dave', skillMd('broken-one', 'Use for broken things.', 'Broken.'));
    await aws.s3Client.send(
      new PutObjectCommand({
        Bucket: aws.bucket,
        Key: skillFileKey('dave', 'broken-one', skill.version, 'SKILL.md'),
        Body: 'no front matter any more',
      }),
    );

    // Act
    const dave = await turn('dave', 'hello');

    // Assess
    expect(dave.completed?.status).toBe('ok');
    expect(syncs.at(-1)?.result.names).toEqual(['good-one']);
    const warning = dave.statuses.find((s) => s.message.includes('broken-one'));
    expect(warning?.message).toMatch(
      /Skill "broken-one" was skipped: SKILL\.md must start with YAML front matter/,
    );
    const prompt = systemPrompt(dave.requests[0] as LlmRequest);
    expect(prompt).toContain('good-one');
    expect(prompt).not.toContain('broken-one');
    expect(await workspaceSkills('dave')).toEqual(['good-one']);
  }, 180_000);
});
