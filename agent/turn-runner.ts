import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Publisher } from '../bus/index.ts';
import {
  EventSources,
  type LlmSettings,
  type MessageReceived,
  type ReplyCompleted,
  type UserFacingError,
} from '../schemas/index.ts';
import { createStopRequests, type StopRequests } from '../schemas/stop-requests.ts';
import type { Storage } from '../schemas/table.ts';
import { type UserSecretStore, userSecretNameOf } from '../schemas/user-secrets.ts';
import type { BrowserToolOptions } from './browser/browser-config.ts';
import { resolveLlmSettings } from './llm-settings.ts';
import type { OpenClawAdapter, OpenClawTurnRequest, OpenClawTurnResult } from './openclaw-adapter.ts';
import { buildOpenClawConfig, DEFAULT_API_KEY_ENV } from './openclaw-config.ts';
import type { ReplyImages } from './reply-images.ts';
import { createReplyStream } from './reply-stream.ts';
import { createSessionLock, type SessionLease, SessionLockTimeoutError } from './session-lock.ts';
import type { SessionStore } from './session-store.ts';
import { createScheduleToolSet, type ScheduleToolsDeps } from './tools/schedule-tools.ts';
import { installToolBridge, runWithToolTurn } from './tools/tool-bridge.ts';
import { conciseError, redactSecrets, TurnErrors } from './turn-errors.ts';
import { republishStoredReply, storeReply } from './turn-records.ts';

export interface TurnRunnerOptions {
  storage: Storage;
  publisher: Publisher;
  sessionStore: SessionStore;
  /** Loaded lazily on the first turn: importing OpenClaw takes seconds. */
  loadAdapter: () => Promise<OpenClawAdapter>;
  logger: Logger;
  /** Where users' state and workspaces are unpacked. @default /tmp/openclaw */
  workRoot: string;
  /** The LLM when the user has not chosen one. */
  defaultLlm: LlmSettings | undefined;
  /** Lock owner prefix, unique per runtime instance; the message id is appended per turn. */
  owner: string;
  /** Kept back from the deadline to save state and publish the reply. @default 5000 */
  reserveMs?: number;
  /**
   * Looks up the secret an `apiKeyRef` names: on AWS an SSM SecureString (`createSecretReader`),
   * locally the environment. @default (ref) => process.env[ref]
   */
  resolveSecret?: (ref: string) => Promise<string | undefined>;
  /**
   * Where users' own keys are (`OPENCLAW_KEY_*` references, set through the settings API). Read for the
   * message's user only; without a store such references resolve to no key. @default none
   */
  userSecrets?: UserSecretStore;
  /** Stop requests from the web chat's stop button. @default the AbortRequest items in `storage` */
  stopRequests?: Pick<StopRequests, 'isRequested'>;
  /** How often a running turn looks for a stop request. @default 1000 */
  stopPollMs?: number;
  /** @default 250 */
  deltaIntervalMs?: number;
  /**
   * Puts the user's enabled custom skills into the workspace before the turn and returns the names
   * OpenClaw may load (`agent/skills-sync.ts`); never throws. @default none: no custom skills
   */
  syncSkills?: (
    message: MessageReceived,
    workspaceDir: string,
  ) => Promise<{ names: string[]; changed?: boolean }>;
  /** The agent's scheduled-job tools act on this store for the turn's user. @default none: no such tools */
  scheduleTools?: ScheduleToolsDeps;
  /**
   * OpenClaw's browser tool on this runtime's Chromium (agent/browser/). Only where one exists: the
   * Fargate image and local mode's container processes, never the Lambda runtime. @default none
   */
  browser?: BrowserToolOptions;
  /**
   * Told of each reply as it is completed, with the model the turn used (the handlers record metrics:
   * agent/metrics/turn-metrics.ts). A throw here is logged, never breaks the reply. @default none
   */
  onReply?: (message: MessageReceived, reply: ReplyCompleted, model: string | undefined) => void;
  /**
   * Stores the images a turn made (`agent/reply-images.ts`) so the reply can carry their keys.
   * @default none: a reply's images are left out, with a note in its text
   */
  replyImages?: ReplyImages;
}

export interface TurnOptions {
  /** Epoch ms by which everything, reply included, must be done (the Lambda deadline). */
  deadlineAt: number;
  /**
   * Interrupts the turn without answering it: the container is being stopped (Spot interruption,
   * StopTask) and hands the message back to be answered elsewhere. OpenClaw is aborted, the session state
   * is saved once it has settled, and no reply is published.
   */
  signal?: AbortSignal;
  /**
   * The user's session lock, held by the caller (the ordered Lambda path, `runtime/ordered-turn.ts`): the
   * turn runs under it instead of taking the lock itself, and leaves releasing it to the caller.
   */
  lease?: SessionLease;
}

/** How a turn ended: answered (a reply, possibly an error, was published) or interrupted by `signal`. */
export type TurnOutcome = 'answered' | 'interrupted';

/** Sent as the API key when none is set; local OpenAI-compatible servers ignore it. */
const KEYLESS_PLACEHOLDER = 'no-key-configured';

/** A turn's session key: one OpenClaw session per conversation. */
export const sessionKeyFor = (conversationId: string) => `conv-${conversationId}`;

/**
 * Runs one agent turn for a `MessageReceived`: takes the user's session lock, restores their OpenClaw
 * state from the blob store, runs the turn with streaming `ReplyDelta`s, saves the state, and always
 * publishes a `ReplyCompleted` — with an error the user can read when the turn fails or runs out of
 * time. It throws only when even that reply cannot be published, so the bus retries the message.
 */
export function createTurnRunner(options: TurnRunnerOptions) {
  const { storage, publisher, sessionStore, logger, workRoot, owner } = options;
  const reserveMs = options.reserveMs ?? 5_000;
  const resolveSecret = options.resolveSecret ?? (async (ref: string) => process.env[ref]);
  const stopRequests = options.stopRequests ?? createStopRequests(storage);
  const stopPollMs = options.stopPollMs ?? 1_000;

  /**
   * The key an `apiKeyRef` names: a user's own (`OPENCLAW_KEY_*`) from their secret store, for this user
   * only; any other from the deployment's secrets. Never throws: a missing key fails at the LLM, clearly.
   */
  async function keyFor(userId: string, ref: string | undefined): Promise<string | undefined> {
    if (!ref) return undefined;
    const own = userSecretNameOf(ref);
    const read = own !== undefined ? options.userSecrets?.read(userId, own) : resolveSecret(ref);
    return (await read?.catch(() => undefined)) ?? undefined;
  }

  /** False when the store cannot be read: a stop that cannot be seen must not break the turn. */
  const stopRequested = (userId: string, messageId: string) =>
    stopRequests.isRequested(userId, messageId).catch(() => false);
  if (options.scheduleTools) installToolBridge(createScheduleToolSet(options.scheduleTools));

  /** Uploads the turn's images; never throws: an image that cannot be stored becomes a note. */
  async function storeImages(
    result: OpenClawTurnResult,
    stateDir: string,
    log: Logger,
    message: MessageReceived,
  ): Promise<{ attachments: ReplyCompleted['attachments']; notes: string[] }> {
    const images = result.images ?? [];
    if (images.length === 0) return { attachments: [], notes: [] };
    if (!options.replyImages) {
      log.warn('reply images left out: no blob store configured', { images: images.length });
      return { attachments: [], notes: ['The agent made an image, but this deployment cannot send images.'] };
    }
    try {
      const stored = await options.replyImages.upload({
        userId: message.userId,
        messageId: message.messageId,
        stateDir,
        images,
      });
      log.info('reply images stored', {
        images: stored.attachments.length,
        bytes: stored.attachments.reduce((sum, a) => sum + a.bytes, 0),
        leftOut: stored.notes.length,
      });
      return stored;
    } catch (error) {
      log.error('reply images not stored', { error: error as Error });
      return { attachments: [], notes: ['The images of this reply could not be stored.'] };
    }
  }

  /** Publishes the reply a completed turn stored, for a message EventBridge delivered again. */
  const replayStoredReply = (messageId: string) => republishStoredReply(storage, publisher, messageId);

  return async function runTurn(message: MessageReceived, turn: TurnOptions): Promise<TurnOutcome> {
    const startedAt = Date.now();
    const abortAt = turn.deadlineAt - reserveMs;
    const { userId, conversationId, replyTo, messageId } = message;
    const log = logger.createChild({ persistentKeys: { userId, conversationId, messageId } });
    let model: string | undefined;
    const stream = createReplyStream({
      publisher,
      userId,
      conversationId,
      replyTo,
      inReplyTo: messageId,
      minIntervalMs: options.deltaIntervalMs,
      onDeltaError: (error) => log.warn('delta not published', { error: error as Error }),
      // Stored before it is published: if publishing fails, the redelivery republishes it.
      beforeComplete: async (reply) => {
        await storeReply(storage, reply);
        try {
          options.onReply?.(message, reply, model);
        } catch (error) {
          log.warn('reply metrics not recorded', { error: error as Error });
        }
      },
    });
    const fail = async (
      error: UserFacingError,
      status: 'error' | 'aborted' = 'error',
      text = '',
    ): Promise<TurnOutcome> => {
      await stream.complete({ status, text, error, durationMs: Date.now() - startedAt });
      return 'answered';
    };

    // Under a caller's lease the check below, made with the lock held, is the only one needed.
    if (!turn.lease && (await replayStoredReply(messageId))) {
      log.info('message delivered again; stored reply republished');
      return 'answered';
    }
    if (turn.signal?.aborted) return 'interrupted';

    await publisher
      .publish({
        source: EventSources.agent,
        detailType: 'AgentStatusChanged.v1',
        detail: {
          userId,
          conversationId,
          replyTo,
          inReplyTo: messageId,
          status: 'thinking',
          message: 'Thinking…',
        },
      })
      .catch((error) => log.warn('status not published', { error: error as Error }));

    const llm = await resolveLlmSettings(storage, userId, options.defaultLlm, (message) =>
      log.warn(message),
    ).catch((error) => {
      log.warn('user settings unreadable; using the default LLM', { error: error as Error });
      return options.defaultLlm;
    });
    if (!llm) {
      log.warn('no LLM configured');
      return fail(TurnErrors.llmNotConfigured());
    }
    model = llm.model;

    let lease: SessionLease;
    try {
      // One owner per attempt: two turns of one user, or two deliveries of one message, never share it.
      const lockOwner = `${owner}:${messageId}:${randomUUID().slice(0, 8)}`;
      lease = turn.lease ?? (await createSessionLock({ storage, owner: lockOwner }).acquire(userId, abortAt));
    } catch (error) {
      if (error instanceof SessionLockTimeoutError) {
        log.warn('session lock not acquired before the deadline');
        return fail(TurnErrors.busy());
      }
      log.error('session lock failed', { error: error as Error });
      return fail(TurnErrors.internal());
    }

    try {
      // A second delivery that waited for the first one's lock (or was queued behind it) finds its reply here.
      if (await replayStoredReply(messageId)) return 'answered';
      if (turn.signal?.aborted) return 'interrupted';
      // Stopped while it waited (in a Fargate task's queue, or for the lock): answered without a turn.
      if (await stopRequested(userId, messageId)) {
        log.info('turn stopped by the user before it started');
        return await fail(TurnErrors.stopped(), 'aborted');
      }
      const secret = await keyFor(userId, llm.apiKeyRef);
      const userDir = join(workRoot, 'users', encodeURIComponent(userId));
      const { outcome: restored, stateDir } = await sessionStore.restore(userId, userDir);
      const workspaceDir = join(stateDir, 'workspace');
      await mkdir(workspaceDir, { recursive: true });
      log.info('session state restored', { restored });
      const synced = await options.syncSkills?.(message, workspaceDir);
      const skills = synced?.names ?? [];

      const adapter = await options.loadAdapter();
      // The schedule tools act for this message's user and chat only (agent/tools/tool-bridge.ts).
      const runOpenClaw = (req: OpenClawTurnRequest) =>
        runWithToolTurn({ userId, replyTo, conversationId }, () => adapter.runTurn(req));
      const abort = new AbortController();
      const timer = setTimeout(
        () => abort.abort(new Error('turn deadline reached')),
        Math.max(0, abortAt - Date.now()),
      );
      const interrupt = () => abort.abort(new Error('turn interrupted: the runtime is stopping'));
      turn.signal?.addEventListener('abort', interrupt, { once: true });
      // A signal that fired while the turn got ready (restore, OpenClaw import) fires no event any more.
      if (turn.signal?.aborted) interrupt();
      let stopped = false;
      const stopPoll = setInterval(async () => {
        if (stopped || abort.signal.aborted || !(await stopRequested(userId, messageId))) return;
        stopped = true;
        abort.abort(new Error('turn stopped by the user'));
      }, stopPollMs);
      let result: OpenClawTurnResult;
      try {
        result = await runOpenClaw({
          stateDir,
          workspaceDir,
          sessionKey: sessionKeyFor(conversationId),
          prompt: message.text,
          config: buildOpenClawConfig({
            llm,
            workspaceDir,
            skills,
            scheduleTools: !!options.scheduleTools,
            ...(options.browser ? { browser: options.browser } : {}),
          }),
          runId: messageId,
          timeoutMs: Math.max(1_000, abortAt - Date.now()),
          abortSignal: abort.signal,
          onPartialText: (text) => stream.push(text),
          // Keyless servers (Ollama, vLLM) still need OpenClaw's key reference to resolve to something.
          env: { [llm.apiKeyRef ?? DEFAULT_API_KEY_ENV]: secret || KEYLESS_PLACEHOLDER },
          skillsChanged: synced?.changed ?? false,
        });
      } finally {
        clearTimeout(timer);
        clearInterval(stopPoll);
        turn.signal?.removeEventListener('abort', interrupt);
      }

      // Save even after an error (OpenClaw may have recorded the user's message), but never a state
      // OpenClaw may still be writing, nor over a newer holder's state after our lease ran out.
      let savedBytes = 0;
      if (lease.lost) log.error('session lock lost during the turn; state not saved');
      else if (!result.settled) log.error('OpenClaw did not stop after the abort; state not saved');
      else savedBytes = await sessionStore.save(userId, stateDir);
      const durationMs = Date.now() - startedAt;
      log.info('turn finished', {
        mode: adapter.mode,
        aborted: result.aborted,
        isError: result.isError,
        durationMs,
        savedBytes,
        deltas: stream.deltaCount,
      });

      if (turn.signal?.aborted) {
        // Handed back unanswered: the runtime that takes the message next answers it in full.
        log.warn('turn interrupted; message handed back unanswered', { savedBytes });
        return 'interrupted';
      }
      if (stopped) {
        log.info('turn stopped by the user', { chars: result.text.length });
        return await fail(TurnErrors.stopped(), 'aborted', result.text);
      }
      if (result.aborted) {
        // Keep what the user already saw streaming, and say why it stopped.
        return await fail(
          TurnErrors.timeout(Math.round((abortAt - startedAt) / 1000)),
          'aborted',
          result.text,
        );
      }
      if (result.isError) {
        const detail = conciseError(
          redactSecrets(result.errorMessage || result.text || 'unknown error', [secret]),
        );
        return await fail(TurnErrors.llmFailed(llm.provider, detail));
      }
      const images = await storeImages(result, stateDir, log, message);
      await stream.complete({
        status: 'ok',
        text: withNotes(result.text, images.notes),
        durationMs,
        usage: result.usage,
        attachments: images.attachments,
      });
      return 'answered';
    } catch (error) {
      log.error('turn failed', { error: error as Error });
      // An interrupted turn is handed back whatever went wrong after the interrupt: the next runtime answers it.
      if (turn.signal?.aborted) return 'interrupted';
      return await fail(TurnErrors.internal());
    } finally {
      if (!turn.lease)
        await lease.release().catch((error) => log.warn('lock release failed', { error: error as Error }));
    }
  };
}

export type TurnRunner = ReturnType<typeof createTurnRunner>;

/** The notes about images left out, after the reply text. */
function withNotes(text: string, notes: string[]): string {
  if (notes.length === 0) return text;
  return [text.trimEnd(), ...notes.map((note) => `⚠️ ${note}`)].filter(Boolean).join('\n\n');
}
