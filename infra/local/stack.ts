import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createInvocationHandler } from '../../agent/invocation-handler.ts';
import { createLocalLauncher } from '../../agent/launchers/local-launcher.ts';
import { resolveIdleTimeoutMs } from '../../agent/llm-settings.ts';
import { loadOpenClaw, type OpenClawAdapter } from '../../agent/openclaw-adapter.ts';
import { createReplyImages } from '../../agent/reply-images.ts';
import { createLambdaRuntime } from '../../agent/runtime/lambda-runtime.ts';
import { createPendingMessages } from '../../agent/runtime/pending-messages.ts';
import { createTaskStateStore } from '../../agent/runtime/task-state.ts';
import { isSessionLockLive } from '../../agent/session-lock.ts';
import { createSessionStore } from '../../agent/session-store.ts';
import { createSkillsSync } from '../../agent/skills-sync.ts';
import { createTurnRunner } from '../../agent/turn-runner.ts';
import { createPublisher, LocalBus } from '../../bus/index.ts';
import { createChannelsHandler } from '../../consumers/api/channels.ts';
import { createConversationsHandler } from '../../consumers/api/conversations.ts';
import { createLinkCodesHandler } from '../../consumers/api/link-codes.ts';
import { createMeHandler } from '../../consumers/api/me.ts';
import { createSchedulesHandler } from '../../consumers/api/schedules.ts';
import { createSettingsHandler } from '../../consumers/api/settings.ts';
import { createSkillStore } from '../../consumers/api/skill-store.ts';
import { createSkillsHandler } from '../../consumers/api/skills.ts';
import { createHistoryConsumer } from '../../consumers/history/handler.ts';
import { createHistoryStore } from '../../consumers/history/store.ts';
import { createRuntimeSelector } from '../../consumers/runtime-selector/handler.ts';
import { createWatchdog } from '../../consumers/runtime-selector/watchdog.ts';
import { createReplyImageStore } from '../../consumers/shared/reply-images.ts';
import { createWebConsumer } from '../../consumers/web/handler.ts';
import { createScheduleFiredHandler } from '../../producers/schedule/fired.ts';
import { createJobStore, listAllJobs } from '../../producers/schedule/jobs.ts';
import { createLocalScheduler } from '../../producers/schedule/local-scheduler.ts';
import { createRunOutcomeHandler } from '../../producers/schedule/run-outcome.ts';
import { createIdentity } from '../../producers/shared/identity.ts';
import { createWebSocketAuthorizer } from '../../producers/web/authorizer.ts';
import { createWebProducer } from '../../producers/web/handler.ts';
import { CLIENT_ACTIONS, type LlmSettings, type RuntimePreference } from '../../schemas/index.ts';
import { defaultLlmSettingsFromEnv, llmSettingsToEnv } from '../../schemas/llm-defaults.ts';
import { createStorage } from '../../schemas/table.ts';
import { createFileUserSecretStore } from '../../schemas/user-secrets.ts';
import { buildWebComponents } from '../../webcomponents/build.ts';
import { renderAppPage, renderChatPage } from '../../webcomponents/page.ts';
import { createBearerAuthorizer } from './auth/bearer-authorizer.ts';
import { createLocalAuth, type LocalAuthConfig } from './auth/local-auth.ts';
import { DEFAULT_USERNAME, type LocalUser } from './auth/users.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localClientConfig } from './aws-config.ts';
import { createLocalChannels } from './channels.ts';
import { startLocalDynamo } from './dynamo.ts';
import { startEventBridgeEndpoint } from './event-bridge-endpoint.ts';
import { createLocalHttpApi, type HttpApiHandler, type LocalHttpRoute } from './http-api.ts';
import { startLocalS3 } from './s3.ts';
import { createWebSocketGateway } from './web-socket-gateway.ts';

export interface LocalStackOptions {
  /** Where dynalite and s3rver keep their data, and where users' OpenClaw state is unpacked. @default '.data' */
  dataDir?: string;
  /** @default 8787; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1': local mode is for this machine (plain HTTP, a local issuer), not the network */
  host?: string;
  /** Who may sign in to the local issuer. @default from LOCAL_USERS / LOCAL_PASSWORD in `env`, else `local` with a generated password */
  users?: readonly LocalUser[];
  /** How long a wrong password is answered after. @default 500 */
  signInFailureDelayMs?: number;
  /** The LLM users get by default. @default from ANTHROPIC_API_KEY / OPENAI_API_KEY / OPENCLAW_LLM_BASE_URL */
  defaultLlm?: LlmSettings;
  /** Environment the LLM key references are read from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** A turn's whole budget, like the agent Lambda's timeout. @default 120000 */
  turnTimeoutMs?: number;
  /** Kept back from the budget to save state and reply. @default 3000 */
  reserveMs?: number;
  /** Start importing OpenClaw at once instead of on the first message. @default true */
  preloadAgent?: boolean;
  /** Powertools log level. @default 'WARN' */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Where turns run for users who chose nothing: `fargate` starts a local container process. @default 'lambda' */
  defaultRuntime?: RuntimePreference;
  /** A container with no message for this long stops itself. @default 900000 (15 minutes) */
  idleTimeoutMs?: number;
  /** How often the runtime watchdog sweeps. @default 15000 */
  watchdogIntervalMs?: number;
  /** Chat accounts that get an agent without linking, as `<channel>:<id>`. @default none */
  allowedUsers?: readonly string[];
  /** The scheduled jobs' clock: tests pass one they move. @default Date.now */
  schedulerNow?: () => number;
  /** How often the local scheduler looks for due jobs; 0: only when `tickScheduler()` is called. @default 1000 */
  schedulerTickMs?: number;
  /** The agent's OpenClaw; tests of the pipeline pass a stand-in. @default the pinned OpenClaw package */
  loadAdapter?: () => Promise<OpenClawAdapter>;
  /** Called with the DynamoDB client before first use: fault tests add a throttling middleware. */
  configureDynamo?: (client: DynamoDBClient) => void;
}

/** The local issuer as a client sees it, and the default user's password when it was generated. */
export interface LocalStackAuth extends LocalAuthConfig {
  /** Set when no LOCAL_USERS / LOCAL_PASSWORD was given: user `local`, its password and where it is kept. */
  generatedPassword?: { username: string; password: string; file: string };
}

export interface LocalStack {
  url: string;
  wsUrl: string;
  /** Sign in here (Cognito's InitiateAuth protocol); the WebSocket wants `?token=`, REST `Authorization: Bearer`. */
  auth: LocalStackAuth;
  bus: LocalBus;
  /** Ids of the container processes running now (`local:<pid>`), for tests and diagnostics. */
  runningContainers(): Promise<string[]>;
  /** Fires the scheduled jobs that are due now; returns how many fired. */
  tickScheduler(): Promise<number>;
  close(): Promise<void>;
}

/** The scheduled-jobs API's routes, as the HTTP API declares them; one handler routes on `routeKey`. */
function scheduleRoutes(handler: HttpApiHandler): LocalHttpRoute[] {
  return [
    { method: 'GET', path: '/v1/schedules', signedIn: true, handler },
    { method: 'POST', path: '/v1/schedules', signedIn: true, handler },
    { method: 'GET', path: '/v1/schedules/{jobId}', signedIn: true, handler },
    { method: 'PATCH', path: '/v1/schedules/{jobId}', signedIn: true, handler },
    { method: 'DELETE', path: '/v1/schedules/{jobId}', signedIn: true, handler },
    { method: 'POST', path: '/v1/schedules/{jobId}/pause', signedIn: true, handler },
    { method: 'POST', path: '/v1/schedules/{jobId}/resume', signedIn: true, handler },
  ];
}

/** The custom skills API's routes, as the HTTP API declares them; one handler routes on `routeKey`. */
function skillRoutes(handler: HttpApiHandler): LocalHttpRoute[] {
  return [
    { method: 'GET', path: '/v1/skills', signedIn: true, handler },
    { method: 'POST', path: '/v1/skills', signedIn: true, handler },
    { method: 'PATCH', path: '/v1/skills/{name}', signedIn: true, handler },
    { method: 'DELETE', path: '/v1/skills/{name}', signedIn: true, handler },
  ];
}

/** The conversation history API's routes; one handler routes on `routeKey`. */
function conversationRoutes(handler: HttpApiHandler): LocalHttpRoute[] {
  return [
    { method: 'GET', path: '/v1/conversations', signedIn: true, handler },
    { method: 'GET', path: '/v1/conversations/{conversationId}', signedIn: true, handler },
    { method: 'DELETE', path: '/v1/conversations/{conversationId}', signedIn: true, handler },
  ];
}

/** True when the request's Host is ours and its Origin (browsers always send one) is ours too. */
export function isSameOrigin(
  host: string | undefined,
  origin: string | undefined,
  allowedHosts: Set<string>,
): boolean {
  if (!host || !allowedHosts.has(host)) return false;
  if (origin === undefined) return true; // not a browser: a CLI or test client on this machine
  try {
    return allowedHosts.has(new URL(origin).host);
  } catch {
    return false;
  }
}

const TABLE_NAME = 'openclaw-local';
const BUCKET = 'openclaw-local-state';
const BUS_NAME = 'openclaw-local-bus';

/**
 * Starts the whole system on one machine: dynalite and s3rver under `dataDir`, the in-process bus behind
 * an EventBridge-compatible endpoint, the agent in-process, and one HTTP server that serves the chat page,
 * the WebSocket gateway and its `@connections` API. The handlers are the same ones Lambda runs.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir ?? '.data');
  const env = options.env ?? process.env;
  const logLevel = options.logLevel ?? 'WARN';
  const logger = (serviceName: string) => new Logger({ serviceName, logLevel });
  await mkdir(join(dataDir, 'dynamodb'), { recursive: true });
  await mkdir(join(dataDir, 's3'), { recursive: true });

  // What has started, in order; stopped in reverse by close() or when a later step fails (port in use).
  const started: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  };
  try {
    const dynamo = await startLocalDynamo({ path: join(dataDir, 'dynamodb'), tableName: TABLE_NAME });
    started.push(() => dynamo.close());
    options.configureDynamo?.(dynamo.client);
    const s3 = await startLocalS3({ directory: join(dataDir, 's3'), buckets: [BUCKET] });
    started.push(() => s3.close());
    const storage = createStorage({
      tableName: TABLE_NAME,
      documentClient: DynamoDBDocumentClient.from(dynamo.client, {
        marshallOptions: { removeUndefinedValues: true },
      }),
    });

    let adapterPromise: Promise<OpenClawAdapter> | undefined;
    const loadAdapter = (): Promise<OpenClawAdapter> => {
      adapterPromise ??= (options.loadAdapter ?? loadOpenClaw)().catch((error: unknown) => {
        // Say so now, and try again on the next turn rather than failing every turn from here on.
        console.error(`[local] OpenClaw could not be loaded: ${(error as Error).message}`);
        adapterPromise = undefined;
        throw error;
      });
      return adapterPromise;
    };

    // The bus needs its targets, and the targets need a publisher that posts to the bus's endpoint.
    const targets: ConstructorParameters<typeof LocalBus>[0]['targets'] = {};
    const bus = new LocalBus({ targets });
    started.push(() => bus.close());
    const busEndpoint = await startEventBridgeEndpoint(bus);
    started.push(() => busEndpoint.close());
    const eventBridge = new EventBridgeClient(localClientConfig(busEndpoint.endpoint));
    started.push(() => eventBridge.destroy());
    const publisher = createPublisher({ client: eventBridge, eventBusName: BUS_NAME });

    const server: Server = createServer();
    await new Promise<void>((ready, fail) => {
      server.once('error', fail);
      server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => ready());
    });
    started.push(() => new Promise<void>((done) => server.close(() => done())));
    const { port } = server.address() as AddressInfo;
    const host = options.host ?? '127.0.0.1';
    const url = `http://${host}:${port}`;
    const allowedHosts = new Set([
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `${host}:${port}`,
    ]);

    const connections = new ApiGatewayManagementApiClient(localClientConfig(`${url}/local`));
    started.push(() => connections.destroy());
    const turnTimeoutMs = options.turnTimeoutMs ?? 120_000;
    // Users' own API keys (settings page): one 0600 file each under the data directory, as SSM on AWS.
    const userSecretsDir = join(dataDir, 'secrets');
    const userSecrets = createFileUserSecretStore({ dir: userSecretsDir });
    // The LLM users get by default, in this process and in its containers alike.
    const defaultLlm = options.defaultLlm ?? defaultLlmSettingsFromEnv(env);
    // Scheduled jobs: the same store and ScheduleFired producer as on AWS, with a local scheduler in
    // place of EventBridge Scheduler. Before the agent: its schedule tools use the same store.
    const schedulerNow = options.schedulerNow ?? Date.now;
    const scheduler = createLocalScheduler({ publisher, logger: logger('scheduler'), now: schedulerNow });
    await scheduler.load(await listAllJobs(storage));
    const tickMs = options.schedulerTickMs ?? 1_000;
    if (tickMs > 0) scheduler.start(tickMs);
    started.push(() => scheduler.stop());
    const jobs = createJobStore({ storage, scheduler, now: schedulerNow });
    const runTurn = createTurnRunner({
      storage,
      publisher,
      sessionStore: createSessionStore({ bucket: BUCKET, client: s3.client }),
      loadAdapter,
      logger: logger('agent'),
      // Stable across restarts, so a warm copy of a user's state is reused when it is still current.
      workRoot: join(dataDir, 'agent-work'),
      defaultLlm,
      owner: `local:${process.pid}`,
      reserveMs: options.reserveMs ?? 3_000,
      resolveSecret: async (ref) => env[ref],
      scheduleTools: { jobs, now: schedulerNow },
      syncSkills: createSkillsSync({
        storage,
        s3: s3.client,
        bucket: BUCKET,
        publisher,
        logger: logger('agent'),
      }),
      userSecrets,
      replyImages: createReplyImages({
        client: s3.client,
        bucket: BUCKET,
        onSkip: (reason, detail) => logger('agent').warn('reply image left out', { reason, ...detail }),
      }),
    });
    const pending = createPendingMessages(storage);
    const taskState = createTaskStateStore(storage);
    const handleInvocation = createInvocationHandler({
      logger: logger('agent'),
      ...createLambdaRuntime({
        storage,
        publisher,
        runTurn,
        owner: `local:${process.pid}`,
        logger: logger('agent'),
      }),
    });

    // The Fargate runtime: a child process running the container entry, with what it needs to reach
    // the stand-ins above. The LLM and its key come from this process's settings.
    const idleTimeoutMs = options.idleTimeoutMs ?? 15 * 60_000;
    const launcher = createLocalLauncher({
      entry: fileURLToPath(new URL('../../agent/container-entry.ts', import.meta.url)),
      // As on AWS, the agent's container holds LLM keys but not the chat bots' tokens and secrets.
      inheritEnv: (name) => !/^(TELEGRAM|DISCORD|SLACK)_/.test(name),
      env: {
        TABLE_NAME,
        STATE_BUCKET: BUCKET,
        EVENT_BUS_NAME: BUS_NAME,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: busEndpoint.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        OPENCLAW_WORK_ROOT: join(dataDir, 'container-work'),
        USER_SECRETS_DIR: userSecretsDir,
        TURN_TIMEOUT_MS: String(turnTimeoutMs),
        // Inside the local launcher's 30 s between SIGTERM and SIGKILL, with time to save the state.
        SHUTDOWN_GRACE_MS: '10000',
        POWERTOOLS_LOG_LEVEL: logLevel,
        // No CloudWatch here: EMF lines would only clutter the console (and no X-Ray daemon either).
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_TRACE_ENABLED: 'false',
        ...(defaultLlm ? llmSettingsToEnv(defaultLlm) : {}),
        ...(defaultLlm?.apiKeyRef && env[defaultLlm.apiKeyRef]
          ? { [defaultLlm.apiKeyRef]: env[defaultLlm.apiKeyRef] as string }
          : {}),
      },
    });
    started.push(() => launcher.stopAll('local mode shutting down'));
    // Turns in flight finish (or time out) before the stores they write to go away.
    const invocations = new Set<Promise<void>>();
    started.push(async () => void (await Promise.allSettled([...invocations])));
    const selector = createRuntimeSelector({
      storage,
      publisher,
      taskState,
      pending,
      launcher,
      // Like an asynchronous Lambda invoke: the selector does not wait for the turn.
      invokeAgent: async (invocation) => {
        const run = handleInvocation(invocation, Date.now() + turnTimeoutMs)
          .catch((error: unknown) => console.error('[local] agent invocation failed', error))
          .finally(() => invocations.delete(run));
        invocations.add(run);
      },
      launchEnvironment: async (userId) => ({
        USER_ID: userId,
        IDLE_TIMEOUT_MS: String(await resolveIdleTimeoutMs(storage, userId, idleTimeoutMs)),
      }),
      defaultRuntime: options.defaultRuntime ?? 'lambda',
      logger: logger('runtime-selector'),
    });
    targets['runtime-selector'] = selector.handleEvent;
    const sweep = createWatchdog({
      taskState,
      launcher,
      resumePending: selector.resumePending,
      drainOnLambda: selector.fallBackToLambda,
      queues: pending,
      lockHeld: (userId) => isSessionLockLive(storage, userId),
      logger: logger('runtime-watchdog'),
      idleTimeoutMs,
      // A local process starts in seconds; there is no reason to wait minutes to notice trouble.
      startTimeoutMs: 2 * 60_000,
      zombieGraceMs: 60_000,
    });
    let sweeping = false;
    const watchdogTimer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweep()
        .catch((error: unknown) => console.error('[local] runtime watchdog failed', error))
        .finally(() => {
          sweeping = false;
        });
    }, options.watchdogIntervalMs ?? 15_000);
    started.push(() => clearInterval(watchdogTimer));
    // Reply images (screenshots) from s3rver: the web chat loads them by presigned URL, the bots get bytes.
    const replyImageStore = createReplyImageStore({ client: s3.client, bucket: BUCKET });
    targets['web-consumer'] = createWebConsumer({
      storage,
      connections,
      logger: logger('web-consumer'),
      images: replyImageStore,
    });
    const history = createHistoryStore(storage);
    targets.history = createHistoryConsumer({ history, logger: logger('history') });

    // Local mode's Cognito: sign-in endpoint, JWKS, and the verifier the AWS authorizer uses too.
    const sameOrigin = (request: IncomingMessage) =>
      isSameOrigin(request.headers.host, request.headers.origin, allowedHosts);
    const auth = await createLocalAuth({
      dir: join(dataDir, 'auth'),
      baseUrl: url,
      env,
      ...(options.users ? { users: options.users } : {}),
      logger: logger('local-auth'),
      acceptRequest: sameOrigin,
      ...(options.signInFailureDelayMs !== undefined ? { failureDelayMs: options.signInFailureDelayMs } : {}),
    });
    const connectAuthorizer = createWebSocketAuthorizer({
      verifier: auth.verifier,
      logger: logger('web-authorizer'),
    });
    const gateway = createWebSocketGateway({
      handler: (event) => webProducer(event as Parameters<typeof webProducer>[0]),
      routeKeys: CLIENT_ACTIONS,
      // The same `$connect` authorizer as on AWS, on `?token=`. Only pages served by this server may
      // connect at all: any other site the user visits could otherwise open ws://127.0.0.1:PORT with a
      // token it got hold of (and a rebound DNS name could pose as us).
      authorize: async (request, query) => {
        if (!sameOrigin(request)) {
          logger('web-authorizer').warn('connect refused: not from this server', {
            origin: request.headers.origin,
          });
          return undefined;
        }
        const result = await connectAuthorizer({
          type: 'REQUEST',
          methodArn: 'arn:aws:execute-api:local:000000000000:local/local/$connect',
          queryStringParameters: Object.fromEntries(query),
        } as Parameters<typeof connectAuthorizer>[0]);
        const userId = result.context?.userId;
        return typeof userId === 'string' ? { userId } : undefined;
      },
    });

    const handleFired = createScheduleFiredHandler({
      storage,
      publisher,
      logger: logger('schedule-producer'),
      now: schedulerNow,
    });
    const handleOutcome = createRunOutcomeHandler({
      storage,
      publisher,
      logger: logger('schedule-producer'),
      retry: scheduler,
      now: schedulerNow,
    });
    // One target on AWS too (producers/schedule/lambda.ts): fires, and the failed runs to retry.
    targets['schedule-producer'] = async (envelope) =>
      void (envelope['detail-type'] === 'ReplyCompleted.v1'
        ? await handleOutcome(envelope)
        : await handleFired(envelope));
    // The web chat's `/schedule` commands use the same store (the gateway below calls it lazily).
    const webProducer = createWebProducer({ storage, publisher, logger: logger('web-producer'), jobs });

    // The HTTP API: the management REST routes (signed in) and, when configured, the chat webhooks.
    const identity = createIdentity({ storage, allowedUsers: options.allowedUsers ?? [] });
    const channels = createLocalChannels({
      storage,
      publisher,
      identity,
      env,
      logLevel,
      defaultLlm,
      defaultRuntime: options.defaultRuntime ?? 'lambda',
      webAppUrl: url,
      allowedUsers: options.allowedUsers ?? [],
      jobs,
      images: replyImageStore,
    });
    Object.assign(targets, channels.targets);
    const asHttpHandler = (handler: (event: never) => Promise<unknown>) =>
      handler as unknown as HttpApiHandler;
    const httpApi = createLocalHttpApi({
      routes: [
        {
          method: 'GET',
          path: '/v1/me',
          signedIn: true,
          handler: asHttpHandler(createMeHandler({ storage, logger: logger('api-me') })),
        },
        {
          method: 'POST',
          path: '/v1/link-codes',
          signedIn: true,
          handler: asHttpHandler(createLinkCodesHandler({ identity, logger: logger('api-link-codes') })),
        },
        ...scheduleRoutes(asHttpHandler(createSchedulesHandler({ jobs, logger: logger('api-schedules') }))),
        ...skillRoutes(
          asHttpHandler(
            createSkillsHandler({
              skills: createSkillStore({ storage, s3: s3.client, bucket: BUCKET }),
              logger: logger('api-skills'),
            }),
          ),
        ),
        ...(['GET', 'PUT'] as const).map((method) => ({
          method,
          path: '/v1/settings',
          signedIn: true,
          handler: asHttpHandler(
            createSettingsHandler({ storage, userSecrets, defaultLlm, logger: logger('api-settings') }),
          ),
        })),
        ...(
          [
            ['GET', '/v1/channels'],
            ['DELETE', '/v1/channels/{channel}/{channelUserId}'],
          ] as const
        ).map(([method, path]) => ({
          method,
          path,
          signedIn: true,
          handler: asHttpHandler(createChannelsHandler({ storage, logger: logger('api-channels') })),
        })),
        ...conversationRoutes(
          asHttpHandler(createConversationsHandler({ history, logger: logger('api-conversations') })),
        ),
        ...channels.routes,
      ],
      // API Gateway's JWT authorizer on AWS; here the shared verifier on `Authorization: Bearer`.
      authorize: createBearerAuthorizer({ verifier: auth.verifier, logger: logger('api-authorizer') }),
    });

    const bundle = await buildWebComponents({ outdir: join(dataDir, 'web') });
    const script = await readFile(bundle.file);
    // The app (sign-in, chat with history, settings) at `/`; the bare embeddable chat at `/chat`, which
    // takes an id token from `#token=` (what an embedding page with its own sign-in would hand it).
    const page = renderAppPage({
      scriptUrl: '/openclaw-chat.js',
      config: {
        title: 'OpenClaw (local)',
        wsUrl: `ws://${host}:${port}/ws`,
        apiUrl: url,
        auth: { endpoint: auth.config.endpoint, clientId: auth.config.clientId },
      },
    });
    const chatPage = renderChatPage({
      scriptUrl: '/openclaw-chat.js',
      title: 'OpenClaw (local)',
      tokenFromFragment: true,
    });

    server.on('upgrade', (request, socket, head) => {
      if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/ws') return socket.destroy();
      void gateway.handleUpgrade(request, socket, head);
    });
    server.on('request', async (req, res) => {
      try {
        if (await gateway.handleManagementRequest(req, res)) return;
        if (await auth.handleRequest(req, res)) return;
        if (await httpApi(req, res)) return;
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (req.method === 'GET' && path === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
        } else if (req.method === 'GET' && path === '/chat') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(chatPage);
        } else if (req.method === 'GET' && path === '/openclaw-chat.js') {
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
        } else if (req.method === 'GET' && path === '/favicon.ico') {
          res.writeHead(204).end();
        } else if (req.method === 'GET' && path === '/healthz') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        }
      } catch (error) {
        console.error('[local] request failed', error);
        if (!res.headersSent) res.writeHead(500).end();
      }
    });

    if (options.preloadAgent ?? true) loadAdapter().catch(() => undefined);

    // Stopped first: no new connections, then let deliveries in flight finish while clients still exist.
    started.push(() => bus.close());
    started.push(() => gateway.close());
    return {
      url,
      wsUrl: `ws://${host}:${port}/ws`,
      auth: {
        ...auth.config,
        ...(auth.users.generatedPassword
          ? { generatedPassword: { username: DEFAULT_USERNAME, ...auth.users.generatedPassword } }
          : {}),
      },
      bus,
      runningContainers: async () => (await launcher.list()).map((task) => task.taskId),
      tickScheduler: () => scheduler.tick(),
      close: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
