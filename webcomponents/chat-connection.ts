import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { SendMessageFrame, ServerFrame } from '../schemas/index.ts';

/**
 * Where the socket stands. `connecting` is the first attempt; `reconnecting` means we were connected (or
 * tried) and are waiting out a backoff delay or retrying; `closed` means the host went away or there is
 * no usable endpoint.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * Asks the server to stop the reply in progress to `messageId` (the id of the user message's `ack`); the
 * reply then completes with status `aborted`, its partial text kept.
 */
export interface StopFrame {
  action: 'stop';
  conversationId: string;
  messageId: string;
}

/** Options of {@link ChatConnection}. */
export interface ChatConnectionOptions {
  /**
   * Called at each (re)connect, so an attribute change or a fresh sign-in token takes effect on the next
   * attempt. It may be async (e.g. to fetch a token); a rejection or throw counts as a failed attempt and
   * is retried with backoff. A resolution that arrives after a disconnect or a newer attempt is ignored.
   */
  url: () => string | undefined | Promise<string | undefined>;
  /** Every well-formed server frame, after the connection has updated its outbox. */
  onFrame: (frame: ServerFrame) => void;
  /** Each state change; the host is also asked to re-render. */
  onStateChange?: (state: ConnectionState) => void;
  /** First reconnect delay before jitter. @default 500 */
  initialDelayMs?: number;
  /** Cap on the reconnect delay before jitter. @default 30000 (30 s) */
  maxDelayMs?: number;
  /**
   * Ping while open so API Gateway's 10-minute idle timeout does not drop a quiet chat.
   * @default 300000 (5 min)
   */
  pingIntervalMs?: number;
}

const defaults = { initialDelayMs: 500, maxDelayMs: 30_000, pingIntervalMs: 300_000 };

/**
 * Same as `MAX_MESSAGE_TEXT_CHARS` in schemas/common.ts. Re-declared, not imported, because the schemas
 * module is zod and the browser bundle must not pull it in; chat-connection.test.ts asserts they agree.
 */
export const MAX_TEXT_CHARS = 32_000;

/**
 * Same as `MAX_WEB_SOCKET_FRAME_BYTES` in schemas/web-socket.ts (re-declared for the same reason; the
 * test asserts they agree). API Gateway closes a connection that sends a larger frame (close code 1009),
 * so a frame over this is refused before it is sent.
 */
export const MAX_WEB_SOCKET_FRAME_BYTES = 128 * 1024;

const utf8 = new TextEncoder();

/** The size in UTF-8 bytes of the frame as it goes on the wire (JSON). */
export function frameBytes(frame: SendMessageFrame): number {
  return utf8.encode(JSON.stringify(frame)).byteLength;
}

/**
 * A Lit reactive controller that owns the chat's WebSocket: it connects when the host is attached,
 * reconnects with exponential backoff and jitter when the socket closes, and keeps an outbox of
 * messages not yet acknowledged. Queued messages are (re)sent on every open with their original
 * `clientMessageId`, so the server can drop a duplicate if one got through before the socket died.
 * @example
 * const connection = new ChatConnection(this, { url: () => this.endpoint, onFrame: (f) => this.apply(f) });
 * connection.send({ action: 'sendMessage', conversationId, clientMessageId, text });
 */
export class ChatConnection implements ReactiveController {
  #host: ReactiveControllerHost;
  #opts: Required<Omit<ChatConnectionOptions, 'onStateChange'>> &
    Pick<ChatConnectionOptions, 'onStateChange'>;
  #socket: WebSocket | undefined;
  #state: ConnectionState = 'closed';
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #wanted = false;
  #url: string | undefined;
  /** Bumped by every teardown, so an async `url()` resolving after it cannot open a second socket. */
  #generation = 0;
  /** Unacknowledged messages by clientMessageId, in the order they were written. */
  #outbox = new Map<string, SendMessageFrame>();

  constructor(host: ReactiveControllerHost, options: ChatConnectionOptions) {
    this.#host = host;
    this.#opts = { ...defaults, ...options };
    host.addController(this);
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The URL of the current or last connection attempt; undefined while an async `url()` is pending. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Whether a message with this id is still waiting for its ack. */
  isPending(clientMessageId: string): boolean {
    return this.#outbox.has(clientMessageId);
  }

  /** @internal Lit calls this when the host is attached. */
  hostConnected(): void {
    this.#wanted = true;
    this.#open();
  }

  /** @internal Lit calls this when the host is detached: close without reconnecting. */
  hostDisconnected(): void {
    this.#wanted = false;
    this.#teardown();
    this.#setState('closed');
  }

  /** Drops the current socket and connects again now, e.g. after the endpoint changed. */
  reconnect(): void {
    if (!this.#wanted) return;
    this.#teardown();
    this.#attempt = 0;
    this.#open();
  }

  /**
   * Sends a message now if the socket is open, else keeps it for the next open. Either way it stays in
   * the outbox until the server acks it (or rejects it with an error frame naming its clientMessageId).
   * A frame over {@link MAX_WEB_SOCKET_FRAME_BYTES} is neither sent nor queued: API Gateway would close
   * the socket, and every reconnect would resend it and be closed again.
   * @returns `sent` when written to an open socket, `queued` when kept for later, `too-large` when refused
   */
  send(frame: SendMessageFrame): 'sent' | 'queued' | 'too-large' {
    if (frameBytes(frame) > MAX_WEB_SOCKET_FRAME_BYTES) return 'too-large';
    this.#outbox.set(frame.clientMessageId, frame);
    const socket = this.#socket;
    if (this.#state === 'open' && socket) {
      socket.send(JSON.stringify(frame));
      return 'sent';
    }
    this.#host.requestUpdate();
    return 'queued';
  }

  /**
   * Writes a control frame (such as `stop`) if the socket is open. Control frames are not queued: a stop
   * that arrives after a reconnect would be stale.
   * @returns whether it was written
   */
  sendControl(frame: StopFrame): boolean {
    const socket = this.#socket;
    if (this.#state !== 'open' || !socket) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  #open(): void {
    this.#teardown();
    const generation = this.#generation;
    let url: string | undefined | Promise<string | undefined>;
    try {
      url = this.#opts.url();
    } catch {
      this.#url = undefined;
      this.#scheduleRetry();
      return;
    }
    if (typeof url !== 'object') {
      this.#connect(url);
      return;
    }
    this.#url = undefined;
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    const current = () => this.#wanted && generation === this.#generation;
    url.then(
      (resolved) => {
        if (current()) this.#connect(resolved);
      },
      () => {
        if (current()) this.#scheduleRetry();
      },
    );
  }

  #connect(url: string | undefined): void {
    this.#url = url;
    if (!url) {
      this.#setState('closed');
      return;
    }
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      // A malformed URL throws synchronously; treat it like a failed attempt.
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    socket.addEventListener('open', () => {
      if (socket !== this.#socket) return;
      this.#attempt = 0;
      this.#setState('open');
      for (const frame of this.#outbox.values()) socket.send(JSON.stringify(frame));
      this.#pingTimer = setInterval(() => socket.send('{"action":"ping"}'), this.#opts.pingIntervalMs);
    });
    socket.addEventListener('message', (event) => {
      if (socket === this.#socket) this.#receive(event.data);
    });
    socket.addEventListener('close', () => {
      if (socket !== this.#socket) return;
      this.#teardown();
      if (this.#wanted) this.#scheduleRetry();
    });
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
    if (frame.type === 'ack' || (frame.type === 'error' && frame.clientMessageId)) {
      this.#outbox.delete(frame.clientMessageId ?? '');
    }
    this.#opts.onFrame(frame);
  }

  /** Full-range jitter over the upper half of the exponential delay, so clients do not retry in step. */
  #scheduleRetry(): void {
    const ceiling = Math.min(this.#opts.maxDelayMs, this.#opts.initialDelayMs * 2 ** this.#attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#attempt += 1;
    this.#setState('reconnecting');
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #teardown(): void {
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    this.#retryTimer = undefined;
    this.#pingTimer = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket && socket.readyState < WebSocket.CLOSING) socket.close();
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#opts.onStateChange?.(state);
    this.#host.requestUpdate();
  }
}

/**
 * The WebSocket URL for an `endpoint` attribute: absolute `ws(s)://` URLs as given, `http(s)://` and
 * relative paths mapped onto the page's origin, and `/ws` on the page's host when absent.
 * @returns undefined when the value cannot be a WebSocket URL
 * @example resolveEndpoint(undefined, new URL('https://chat.example.com/')) // 'wss://chat.example.com/ws'
 */
export function resolveEndpoint(
  endpoint: string | null | undefined,
  page: { href: string },
): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint?.trim() || '/ws', page.href);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.protocol === 'ws:' || url.protocol === 'wss:' ? url.href : undefined;
}

/** Same as `TOKEN_QUERY_PARAMETER` in producers/web/authorizer.ts (re-declared; the test asserts they agree). */
export const TOKEN_QUERY_PARAMETER = 'token';

/**
 * `url` with `token=<token>` in its query string, as the AWS `$connect` authorizer reads it (browsers
 * cannot set headers on a WebSocket). Other parameters are kept byte for byte; an existing `token` is replaced.
 * @example withToken('wss://api.example.com/prod?x=1', 'a.b.c') // 'wss://api.example.com/prod?x=1&token=a.b.c'
 */
export function withToken(url: string, token: string): string {
  const parsed = new URL(url);
  const params = parsed.search
    .slice(1)
    .split('&')
    .filter((p) => p !== '' && p.split('=', 1)[0] !== TOKEN_QUERY_PARAMETER);
  params.push(`${TOKEN_QUERY_PARAMETER}=${encodeURIComponent(token)}`);
  parsed.search = `?${params.join('&')}`;
  return parsed.href;
}
