import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import type { SendMessageFrame, ServerFrame } from '../schemas/index.ts';
import {
  ChatConnection,
  type ConnectionState,
  frameBytes,
  MAX_TEXT_CHARS,
  MAX_WEB_SOCKET_FRAME_BYTES,
  resolveEndpoint,
  withToken,
} from './chat-connection.ts';
import {
  addUserMessage,
  applyAck,
  applyCompleted,
  applyDelta,
  applyError,
  type ChatMessage,
} from './chat-log.ts';
import { newClientMessageId, safeLocalStorage, storedConversationId } from './ids.ts';
import { chatStyles } from './openclaw-chat.styles.ts';

const CONNECTION_LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
};

/**
 * Returns the sign-in token (a Cognito id token on AWS) to put in the connect URL, or undefined to
 * connect without one. Called before every connect and reconnect, so it can hand out a refreshed token.
 */
export type TokenGetter = () => string | undefined | Promise<string | undefined>;

const TOKEN_ERROR = {
  type: 'error',
  code: 'TOKEN_UNAVAILABLE',
  message: 'Could not get a sign-in token. Retrying…',
} as const satisfies ServerFrame;

/** `detail` of `openclaw-message-sent`. */
export interface MessageSentDetail {
  conversationId: string;
  clientMessageId: string;
  text: string;
  /** True when the socket was down and the message waits in the outbox. */
  queued: boolean;
}

/** `detail` of `openclaw-reply-completed`. */
export interface ReplyCompletedDetail {
  conversationId: string;
  inReplyTo: string;
  status: 'ok' | 'error' | 'aborted';
  text: string;
  error?: { code: string; message: string };
}

/**
 * `<openclaw-chat>`: a chat with your OpenClaw agent over the project's WebSocket protocol.
 *
 * Attributes: `endpoint` (WebSocket URL; default `ws(s)://<page host>/ws`), `title`, `conversation-id`
 * (default: generated once and kept in localStorage). Property `getToken`: the sign-in token getter.
 * Events (bubbling, composed): `openclaw-connection-change`, `openclaw-message-sent`,
 * `openclaw-message-acked`, `openclaw-status`, `openclaw-reply-delta`, `openclaw-reply-completed`,
 * `openclaw-error`.
 * @example
 * <openclaw-chat endpoint="wss://abc.execute-api.eu-west-1.amazonaws.com/prod" title="My agent"></openclaw-chat>
 */
export class OpenclawChat extends LitElement {
  static override properties = {
    endpoint: { type: String },
    title: { type: String },
    conversationId: { type: String, attribute: 'conversation-id' },
    messages: { state: true },
    draft: { state: true },
    statusText: { state: true },
    errorText: { state: true },
    announcement: { state: true },
  };

  static override styles = chatStyles;

  /** WebSocket URL (`ws://`, `wss://`, or http(s)/relative, mapped to ws). Absent: `/ws` on the page's host. */
  declare endpoint: string | undefined;
  /** The conversation to talk in. Absent: one id per browser, kept in localStorage. */
  declare conversationId: string | undefined;
  declare private messages: ChatMessage[];
  declare private draft: string;
  declare private statusText: string;
  declare private errorText: string;
  declare private announcement: string;

  #connection: ChatConnection;
  #getToken: TokenGetter | undefined;
  /** The endpoint (without token) of the latest connection attempt, to tell whether `endpoint` changed. */
  #attemptedEndpoint: string | undefined;
  #generatedConversationId: string | undefined;
  /** Sending is offered once the endpoint has answered; after that, messages typed offline are queued. */
  #hasConnected = false;

  constructor() {
    super();
    this.messages = [];
    this.draft = '';
    this.statusText = '';
    this.errorText = '';
    this.announcement = '';
    // A page script may have set `getToken` before this element was defined (upgraded); that own
    // property would shadow the accessor, so move it behind it before the first connect.
    if (Object.hasOwn(this, 'getToken')) {
      const getter = this.getToken;
      Reflect.deleteProperty(this, 'getToken');
      this.getToken = getter;
    }
    this.#connection = new ChatConnection(this, {
      url: () => this.#connectUrl(),
      onFrame: (frame) => this.#onFrame(frame),
      onStateChange: (state) => {
        if (state === 'open') {
          this.#hasConnected = true;
          if (this.errorText === TOKEN_ERROR.message) this.errorText = '';
        }
        this.#emit('openclaw-connection-change', { state });
      },
    });
  }

  /**
   * Sign-in token getter, called before every connect and reconnect; a returned token goes into the
   * connect URL as `?token=` (what the AWS `$connect` authorizer reads). Unset: connect without a token
   * (local mode). A throw or rejection counts as a failed attempt (retried with backoff) and shows
   * "Could not get a sign-in token". Set it before the element connects, or call {@link reconnect} after.
   */
  get getToken(): TokenGetter | undefined {
    return this.#getToken;
  }

  set getToken(getter: TokenGetter | undefined) {
    this.#getToken = getter;
  }

  /** The connection's current state, as shown by the indicator. */
  get connectionState(): ConnectionState {
    return this.#connection.state;
  }

  /** The conversation id in use: the attribute's, else the stored one. */
  get activeConversationId(): string {
    if (this.conversationId) return this.conversationId;
    this.#generatedConversationId ??= storedConversationId(safeLocalStorage());
    return this.#generatedConversationId;
  }

  /**
   * Sends `text` as the user, as the Send button does. While reconnecting the message is queued and
   * sent on reconnect with the same clientMessageId. A message whose frame would exceed API Gateway's
   * 128 KB is refused before sending: the error line says so and `openclaw-error` is emitted.
   * @returns the clientMessageId, or undefined when the text is blank or too long
   */
  send(text: string): string | undefined {
    const trimmed = text.trim();
    if (!trimmed || trimmed.length > MAX_TEXT_CHARS) return undefined;
    const frame: SendMessageFrame = {
      action: 'sendMessage',
      conversationId: this.activeConversationId,
      clientMessageId: newClientMessageId(),
      text: trimmed,
    };
    const result = this.#connection.send(frame);
    if (result === 'too-large') {
      this.#refuseTooLarge(frameBytes(frame));
      return undefined;
    }
    this.messages = addUserMessage(this.messages, frame.clientMessageId, trimmed);
    this.errorText = '';
    const queued = result === 'queued';
    const { conversationId, clientMessageId } = frame;
    this.#emit('openclaw-message-sent', {
      conversationId,
      clientMessageId,
      text: trimmed,
      queued,
    } satisfies MessageSentDetail);
    return frame.clientMessageId;
  }

  /** Drops the connection and connects again now (asking `getToken` afresh), e.g. after signing in. */
  reconnect(): void {
    this.#connection.reconnect();
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (!changed.has('endpoint')) return;
    const url = resolveEndpoint(this.endpoint, location);
    if (!url) {
      console.warn(
        `[openclaw-chat] bad-endpoint: "${this.endpoint}" is not a WebSocket URL. ` +
          'Set endpoint="wss://your-api.example.com/ws", or leave it out to use /ws on this host.',
      );
      this.errorText = 'The chat is not configured correctly (bad endpoint).';
    }
    if (url !== this.#attemptedEndpoint && this.isConnected) {
      this.#hasConnected = false;
      this.#connection.reconnect();
    }
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('messages')) {
      const list = this.renderRoot.querySelector('ol');
      if (list) list.scrollTop = list.scrollHeight;
    }
  }

  protected override render(): TemplateResult {
    const state = this.#connection.state;
    const canSend = this.#hasConnected && state !== 'closed' && this.draft.trim() !== '';
    return html`
      <header part="header">
        <h2 part="title" id="title">${this.title || 'OpenClaw'}</h2>
        <span class="connection" part="connection" data-state=${state} role="status">
          ${CONNECTION_LABELS[state]}
        </span>
      </header>
      <ol part="messages" aria-labelledby="title">
        ${repeat(
          this.messages,
          (m) => m.key,
          (m) => this.#renderMessage(m, state),
        )}
      </ol>
      <div class="status-line" part="status">${this.statusText}</div>
      <div class="error-line" part="error" role="alert">${this.errorText}</div>
      <div class="visually-hidden" part="announcer" aria-live="polite">${this.announcement}</div>
      <form part="composer" @submit=${this.#onSubmit}>
        <label class="visually-hidden" for="input">Message</label>
        <textarea
          id="input"
          part="input"
          rows="2"
          maxlength=${MAX_TEXT_CHARS}
          placeholder="Message…"
          .value=${live(this.draft)}
          @input=${this.#onInput}
          @keydown=${this.#onKeydown}
        ></textarea>
        <button part="send" type="submit" ?disabled=${!canSend}>Send</button>
      </form>
    `;
  }

  /** The connect URL: the endpoint, plus `?token=` when `getToken` gives one. */
  #connectUrl(): string | undefined | Promise<string | undefined> {
    const endpoint = resolveEndpoint(this.endpoint, location);
    this.#attemptedEndpoint = endpoint;
    const getToken = this.#getToken;
    if (!endpoint || !getToken) return endpoint;
    return this.#tokenUrl(endpoint, getToken);
  }

  async #tokenUrl(endpoint: string, getToken: TokenGetter): Promise<string> {
    let token: string | undefined;
    try {
      token = await getToken();
    } catch (error) {
      console.warn('[openclaw-chat] token-unavailable: getToken failed; retrying.', error);
      this.errorText = TOKEN_ERROR.message;
      this.#emit('openclaw-error', TOKEN_ERROR);
      throw error;
    }
    return token ? withToken(endpoint, token) : endpoint;
  }

  #renderMessage(m: ChatMessage, state: ConnectionState): TemplateResult {
    if (m.role === 'user') {
      const waiting = state !== 'open' && !m.messageId && this.#connection.isPending(m.key);
      return html`<li class="user" part="message user-message">
        <span class="visually-hidden">You:</span>
        <span class="text">${m.text}</span>
        ${waiting ? html`<span class="note" part="message-note">Waiting for connection…</span>` : nothing}
        ${m.error ? html`<span class="note error" part="message-error">${m.error}</span>` : nothing}
      </li>`;
    }
    return html`<li class="assistant" part="message assistant-message" aria-busy=${m.done ? 'false' : 'true'}>
      <span class="visually-hidden">Agent:</span>
      <span class="text">${m.text}</span>
      ${m.status === 'aborted' ? html`<span class="note" part="message-note">Stopped.</span>` : nothing}
      ${m.error ? html`<span class="note error" part="message-error">${m.error}</span>` : nothing}
    </li>`;
  }

  #onFrame(frame: ServerFrame): void {
    if (
      frame.type !== 'ack' &&
      'conversationId' in frame &&
      frame.conversationId !== this.activeConversationId
    ) {
      return;
    }
    switch (frame.type) {
      case 'ack':
        this.messages = applyAck(this.messages, frame);
        this.#emit('openclaw-message-acked', frame);
        break;
      case 'error':
        this.messages = applyError(this.messages, frame);
        this.errorText = frame.message;
        this.statusText = '';
        this.#emit('openclaw-error', frame);
        break;
      case 'delta': {
        const before = this.messages;
        this.messages = applyDelta(before, frame);
        if (this.messages !== before) this.#emit('openclaw-reply-delta', frame);
        break;
      }
      case 'completed': {
        const before = this.messages;
        this.messages = applyCompleted(before, frame);
        if (this.messages === before) break;
        this.statusText = '';
        this.announcement =
          frame.status === 'ok'
            ? `Reply: ${frame.text}`
            : frame.status === 'aborted'
              ? 'The reply was stopped.'
              : `The reply failed: ${frame.error?.message ?? 'unknown error'}`;
        const { conversationId, inReplyTo, status, text, error } = frame;
        this.#emit('openclaw-reply-completed', {
          conversationId,
          inReplyTo,
          status,
          text,
          ...(error ? { error } : {}),
        } satisfies ReplyCompletedDetail);
        break;
      }
      case 'status': {
        // A late status for a reply that already completed must not leave "Thinking…" on screen.
        const done = this.messages.some((m) => m.inReplyTo === frame.inReplyTo && m.done);
        if (!(frame.inReplyTo && done)) {
          this.statusText = frame.status === 'idle' ? '' : frame.message;
        }
        this.#emit('openclaw-status', frame);
        break;
      }
    }
  }

  #onInput = (event: InputEvent): void => {
    this.draft = (event.target as HTMLTextAreaElement).value;
  };

  #onKeydown = (event: KeyboardEvent): void => {
    // isComposing: Enter also confirms an IME composition (Japanese, Chinese…); that must not send.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    this.#submitDraft();
  };

  #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    this.#submitDraft();
  };

  #submitDraft(): void {
    if (!this.#hasConnected || this.#connection.state === 'closed') return;
    if (this.send(this.draft)) this.draft = '';
  }

  /** Keeps the message out of the log and the outbox (the draft stays in the input) and says why. */
  #refuseTooLarge(bytes: number): void {
    const error = {
      type: 'error',
      code: 'MESSAGE_TOO_LARGE',
      message: `This message is ${Math.ceil(bytes / 1024)} KB; the limit is ${MAX_WEB_SOCKET_FRAME_BYTES / 1024} KB.`,
    } as const satisfies ServerFrame;
    this.errorText = error.message;
    this.#emit('openclaw-error', error);
  }

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

if (!customElements.get('openclaw-chat')) customElements.define('openclaw-chat', OpenclawChat);

declare global {
  interface HTMLElementTagNameMap {
    'openclaw-chat': OpenclawChat;
  }
}
