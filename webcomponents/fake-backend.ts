/*
 * Test fixture (not bundled): a loopback fake of everything the web app talks to: the Cognito JSON API,
 * the chat WebSocket protocol and the management REST API, plus the built bundle and the app page.
 * It records what the browser sent, so tests assert on bodies, headers and counts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type {
  Conversation,
  LinkedChannel,
  SendMessageFrame,
  ServerFrame,
  SettingsView,
  Skill,
} from '../schemas/index.ts';
import type { ScheduledJobView } from './openclaw-settings.ts';
import { renderAppPage, renderChatPage } from './page.ts';

/** A reply whose Markdown tries every trick; none of it may run or load anything. */
export const HOSTILE_MARKDOWN = [
  '# Title <script>window.pwned = 1</script>',
  '<img src=x onerror="window.pwned = 2">',
  '[click](javascript:window.pwned=3) and [data](data:text/html,<script>window.pwned=4</script>)',
  '<a href="https://evil.example" onclick="window.pwned=5">raw link</a>',
  '![pixel](https://tracker.example/p.png)',
  '[safe](https://example.com/docs "Docs")',
  '**bold** and `<b>code</b>`',
  '```html',
  '<script>window.pwned = 6</script>',
  '```',
].join('\n\n');

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** See the file comment. Start with {@link start}, stop with {@link close}. */
export class FakeWebBackend {
  readonly users = new Map<string, string>([
    ['ana', 'right'],
    ['newbie', 'temporary'],
  ]);
  readonly mustChangePassword = new Set(['newbie']);
  readonly validTokens = new Set<string>();
  readonly authCalls: { target: string; body: Record<string, unknown> }[] = [];
  readonly requests: Recorded[] = [];
  readonly received: (SendMessageFrame | { action: 'stop'; conversationId: string; messageId: string })[] =
    [];
  readonly upgrades: string[] = [];
  readonly conversations = new Map<string, Conversation>();
  settings: SettingsView = {
    llm: null,
    defaultLlm: { provider: 'anthropic', model: 'claude-sonnet-4-5' },
    runtime: null,
    idleTimeoutMinutes: null,
  };
  links: LinkedChannel[] = [
    { channel: 'telegram', channelUserId: '424242', linkedAt: '2026-11-30T10:00:00.000Z' },
  ];
  skills: Skill[] = [];
  jobs: ScheduledJobView[] = [
    {
      jobId: 'job-1',
      prompt: 'Summarise the news',
      expression: 'cron(0 8 * * ? *)',
      timeZone: 'Europe/Berlin',
      enabled: true,
      nextFireAt: '2026-12-03T07:00:00.000Z',
      version: 1,
    },
  ];
  accepting = true;
  baseUrl = '';
  #server: Server;
  #wss = new WebSocketServer({ noServer: true });
  #sockets = new Set<WebSocket>();
  #nextId = 1;
  #tokenNo = 0;
  #stopped = new Set<string>();

  constructor(bundle: Buffer) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#http(req, res, Buffer.concat(chunks), bundle));
    });
    this.#server.on('upgrade', (req, socket, head) => {
      this.upgrades.push(req.url ?? '');
      const url = new URL(req.url ?? '', 'http://x');
      if (
        !this.accepting ||
        url.pathname !== '/ws' ||
        !this.validTokens.has(url.searchParams.get('token') ?? '')
      ) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        this.#sockets.add(ws);
        ws.on('close', () => this.#sockets.delete(ws));
        ws.on('message', (data) => void this.#onFrame(ws, JSON.parse(String(data))));
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
    return this.baseUrl;
  }

  /** Drops every socket, as a crashed or redeployed WebSocket server would. */
  dropAll(): void {
    for (const ws of this.#sockets) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((r) => this.#server.close(r));
  }

  /** The REST requests so far, as `METHOD /path`. */
  routes(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async #http(req: IncomingMessage, res: ServerResponse, body: Buffer, bundle: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const send = (status: number, data?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        ...(data === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      });
      res.end(data === undefined ? undefined : JSON.stringify(data));
    };
    if (url.pathname === '/openclaw-chat.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      return;
    }
    if (url.pathname === '/' || url.pathname === '/embed') {
      const page =
        url.pathname === '/'
          ? renderAppPage({
              scriptUrl: '/openclaw-chat.js',
              config: {
                wsUrl: `${this.baseUrl.replace('http', 'ws')}ws`,
                apiUrl: this.baseUrl,
                auth: { endpoint: `${this.baseUrl}auth`, clientId: 'test-client' },
                title: 'Test agent',
              },
            })
          : renderChatPage({ scriptUrl: '/openclaw-chat.js', title: 'Embedded' }).replace(
              ' open>',
              ' theme="dark">',
            );
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    if (url.pathname === '/auth' && req.method === 'POST') {
      const [status, answer] = this.#auth(req, body);
      send(status, answer);
      return;
    }
    if (!url.pathname.startsWith('/v1/')) return send(404, { code: 'NOT_FOUND', message: 'Nothing here.' });
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      headers: req.headers,
      body,
    });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.validTokens.has(token))
      return send(401, { code: 'UNAUTHORIZED', message: 'Sign in first.' });
    const [status, data, headers] = this.#rest(req.method ?? 'GET', url, req, body);
    send(status, data, headers);
  }

  #auth(req: IncomingMessage, body: Buffer): [number, unknown] {
    const target = String(req.headers['x-amz-target'] ?? '').replace(
      'AWSCognitoIdentityProviderService.',
      '',
    );
    const parsed = JSON.parse(body.toString()) as {
      AuthFlow?: string;
      ClientId?: string;
      AuthParameters?: Record<string, string>;
      ChallengeResponses?: Record<string, string>;
      Session?: string;
    };
    this.authCalls.push({ target, body: parsed });
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1' || parsed.ClientId !== 'test-client') {
      return [400, { __type: 'InvalidParameterException', message: 'Bad request.' }];
    }
    if (target === 'RespondToAuthChallenge') {
      const user = parsed.ChallengeResponses?.USERNAME ?? '';
      if (parsed.Session !== `session-${user}`)
        return [400, { __type: 'CodeMismatchException', message: 'Bad session.' }];
      this.mustChangePassword.delete(user);
      this.users.set(user, parsed.ChallengeResponses?.NEW_PASSWORD ?? '');
      return [200, this.#tokens(true)];
    }
    if (parsed.AuthFlow === 'REFRESH_TOKEN_AUTH') {
      return parsed.AuthParameters?.REFRESH_TOKEN?.startsWith('refresh-')
        ? [200, this.#tokens(false)]
        : [400, { __type: 'NotAuthorizedException', message: 'Invalid Refresh Token' }];
    }
    const { USERNAME = '', PASSWORD } = parsed.AuthParameters ?? {};
    if (this.users.get(USERNAME) !== PASSWORD) {
      return [400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' }];
    }
    if (this.mustChangePassword.has(USERNAME)) {
      return [200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: `session-${USERNAME}` }];
    }
    return [200, this.#tokens(true)];
  }

  #tokens(withRefresh: boolean) {
    this.#tokenNo += 1;
    const IdToken = `id.token.${this.#tokenNo}`;
    this.validTokens.add(IdToken);
    return {
      AuthenticationResult: {
        IdToken,
        AccessToken: `access-${this.#tokenNo}`,
        ExpiresIn: 3600,
        TokenType: 'Bearer',
        ...(withRefresh ? { RefreshToken: `refresh-${this.#tokenNo}` } : {}),
      },
    };
  }

  #rest(
    method: string,
    url: URL,
    req: IncomingMessage,
    body: Buffer,
  ): [number, unknown?, Record<string, string>?] {
    const parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
    const json = () => JSON.parse(body.toString() || '{}');
    // schedules/{id}/pause keeps its verb; channels/{channel}/{user} has two ids.
    const third = parts.length > 2 ? (parts[0] === 'schedules' ? `/${parts[2]}` : '/:y') : '';
    const route = `${method} ${parts[0]}${parts.length > 1 ? '/:x' : ''}${third}`;
    switch (route) {
      case 'GET conversations': {
        const list = [...this.conversations.values()]
          .map(({ messages: _m, ...summary }) => summary)
          .reverse();
        return [200, { conversations: list }];
      }
      case 'GET conversations/:x': {
        const c = this.conversations.get(parts[1]!);
        return c ? [200, c] : [404, { code: 'NOT_FOUND', message: 'No such conversation.' }];
      }
      case 'DELETE conversations/:x':
        this.conversations.delete(parts[1]!);
        return [204];
      case 'GET settings':
        return [200, this.settings];
      case 'PUT settings': {
        const update = json();
        if (update.llm === null) this.settings = { ...this.settings, llm: null };
        else if (update.llm) {
          const { apiKey, ...rest } = update.llm;
          const had = this.settings.llm?.apiKeySet ?? false;
          this.settings = {
            ...this.settings,
            llm: { ...rest, apiKeySet: apiKey === null ? false : typeof apiKey === 'string' ? true : had },
          };
        }
        if ('runtime' in update) this.settings.runtime = update.runtime;
        if ('idleTimeoutMinutes' in update) this.settings.idleTimeoutMinutes = update.idleTimeoutMinutes;
        return [200, this.settings];
      }
      case 'GET channels':
        return [200, { links: this.links }];
      case 'DELETE channels/:x/:y':
        this.links = this.links.filter((l) => !(l.channel === parts[1] && l.channelUserId === parts[2]));
        return [204];
      case 'POST link-codes':
        return [
          201,
          {
            code: '12345678',
            expiresAt: '2026-12-02T18:10:00.000Z',
            expiresInSeconds: 600,
            howTo: 'Send /link 12345678 to the bot within 10 minutes.',
          },
        ];
      case 'GET skills':
        return [200, { skills: this.skills }];
      case 'POST skills': {
        const type = req.headers['content-type'];
        if (type !== 'text/markdown' && type !== 'application/zip') {
          return [415, { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send text/markdown or application/zip.' }];
        }
        const name =
          type === 'text/markdown' ? /name:\s*([a-z0-9-]+)/.exec(body.toString())?.[1] : 'zipped-skill';
        if (!name)
          return [400, { code: 'INVALID_SKILL', message: 'SKILL.md needs a name: in its front matter.' }];
        const skill: Skill = {
          name,
          description: 'uploaded',
          enabled: true,
          files: 1,
          bytes: body.length,
          updatedAt: new Date().toISOString(),
        };
        this.skills = [...this.skills.filter((s) => s.name !== name), skill];
        return [201, skill];
      }
      case 'PATCH skills/:x': {
        const skill = this.skills.find((s) => s.name === parts[1]);
        if (!skill) return [404, { code: 'NOT_FOUND', message: 'No such skill.' }];
        skill.enabled = json().enabled;
        return [200, skill];
      }
      case 'DELETE skills/:x':
        this.skills = this.skills.filter((s) => s.name !== parts[1]);
        return [204];
      case 'GET schedules':
        return [200, { schedules: this.jobs }];
      case 'POST schedules/:x/pause':
      case 'POST schedules/:x/resume':
      case 'DELETE schedules/:x': {
        const job = this.jobs.find((j) => j.jobId === parts[1]);
        if (!job) return [404, { code: 'NOT_FOUND', message: 'No scheduled job with this id.' }];
        if (req.headers['if-match'] !== `"${job.version}"`) {
          return [409, { code: 'VERSION_CONFLICT', message: 'The job changed meanwhile; reload it.' }];
        }
        if (method === 'DELETE') {
          this.jobs = this.jobs.filter((j) => j !== job);
          return [204];
        }
        job.enabled = parts[2] === 'resume';
        job.version += 1;
        return [200, job, { etag: `"${job.version}"` }];
      }
      default:
        return [404, { code: 'NO_SUCH_ROUTE', message: 'No such route.' }];
    }
  }

  async #onFrame(
    ws: WebSocket,
    frame:
      | SendMessageFrame
      | { action: 'ping' }
      | { action: 'stop'; conversationId: string; messageId: string },
  ): Promise<void> {
    if (frame.action === 'ping') return this.#send(ws, { type: 'pong' });
    this.received.push(frame);
    if (frame.action === 'stop') {
      this.#stopped.add(frame.messageId);
      return;
    }
    const { conversationId, clientMessageId, text } = frame;
    if (text === 'fail send' && this.received.filter((f) => 'text' in f && f.text === text).length === 1) {
      return this.#send(ws, {
        type: 'error',
        code: 'RATE_LIMITED',
        message: 'Slow down a little.',
        clientMessageId,
      });
    }
    // The same clientMessageId again is a resend: ack it as a duplicate and do not answer twice.
    const conversation = this.#conversation(conversationId, text);
    const earlier = conversation.messages.find(
      (m) => m.role === 'user' && (m as { cid?: string }).cid === clientMessageId,
    );
    if (earlier) {
      return this.#send(ws, {
        type: 'ack',
        clientMessageId,
        messageId: earlier.messageId,
        conversationId,
        duplicate: true,
      });
    }
    const messageId = `msg-${this.#nextId++}`;
    const at = new Date().toISOString();
    conversation.messages.push({
      role: 'user',
      messageId,
      text,
      at,
      cid: clientMessageId,
    } as Conversation['messages'][number]);
    this.#send(ws, { type: 'ack', clientMessageId, messageId, conversationId, duplicate: false });
    this.#send(ws, {
      type: 'status',
      conversationId,
      inReplyTo: messageId,
      status: 'thinking',
      message: 'Thinking…',
    });
    const reply = text === 'xss please' ? HOSTILE_MARKDOWN : `You said: **${text}**`;
    const slow = text === 'slow please';
    const pieces = slow
      ? Array.from(
          { length: 6 },
          (_, i) => `Counting: ${Array.from({ length: i + 1 }, (_, j) => j + 1).join(' ')}`,
        )
      : [reply.slice(0, 6), reply];
    let seq = 0;
    for (const piece of pieces) {
      await sleep(slow ? 400 : 40);
      if (this.#stopped.has(messageId)) break;
      this.#send(ws, { type: 'delta', conversationId, inReplyTo: messageId, seq: seq++, text: piece });
    }
    const aborted = this.#stopped.has(messageId);
    const failed = text === 'fail reply';
    const finalText = aborted ? (pieces[seq - 1] ?? '') : failed ? '' : (pieces.at(-1) ?? '');
    const status = aborted ? 'aborted' : failed ? 'error' : 'ok';
    const error = failed ? { code: 'LLM_FAILED', message: 'The model did not answer.' } : undefined;
    conversation.messages.push({
      role: 'assistant',
      messageId,
      text: finalText,
      at,
      status,
      ...(error ? { error } : {}),
    });
    conversation.messageCount = conversation.messages.length;
    this.#send(ws, {
      type: 'completed',
      conversationId,
      inReplyTo: messageId,
      seq,
      status,
      text: finalText,
      ...(error ? { error } : {}),
    });
  }

  #conversation(conversationId: string, firstText: string): Conversation {
    let c = this.conversations.get(conversationId);
    if (!c) {
      const at = new Date().toISOString();
      c = {
        conversationId,
        title: firstText.slice(0, 80),
        channel: 'web',
        createdAt: at,
        updatedAt: at,
        messageCount: 0,
        messages: [],
      };
      this.conversations.set(conversationId, c);
    }
    return c;
  }

  #send(ws: WebSocket, frame: ServerFrame): void {
    ws.send(JSON.stringify(frame));
  }
}
