import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import type { ConversationSummary, SendMessageFrame, ServerFrame } from '../schemas/index.ts';
import { ApiClient } from './api-client.ts';
import type { TokenSource } from './auth-controller.ts';
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
  applyImage,
  type ChatMessage,
  clearSendError,
  lastAckedMessageId,
  logFromHistory,
  replyInProgress,
} from './chat-log.ts';
import { deleteConversation, getConversation, listConversations } from './conversations-api.ts';
import {
  hasStoredConversationId,
  newClientMessageId,
  randomHex,
  safeLocalStorage,
  storeConversationId,
  storedConversationId,
} from './ids.ts';
import { renderMarkdown } from './markdown.ts';
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
    apiUrl: { type: String, attribute: 'api-url' },
    open: { type: Boolean, reflect: true },
    theme: { type: String, reflect: true },
    messages: { state: true },
    historyOpen: { state: true },
    conversations: { state: true },
    historyCursor: { state: true },
    historyError: { state: true },
    confirmingDelete: { state: true },
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
  /** Base URL of the REST API (history). Absent: the page's origin. History shows when this or `auth` is set. */
  declare apiUrl: string | undefined;
  /** Open panel (present) or a launcher bubble in the corner that opens it (absent). */
  declare open: boolean;
  /** `light`, `dark`, or absent to follow the visitor's `prefers-color-scheme`. */
  declare theme: string | undefined;
  declare private messages: ChatMessage[];
  declare private historyOpen: boolean;
  declare private conversations: ConversationSummary[] | undefined;
  declare private historyCursor: string | undefined;
  declare private historyError: string;
  declare private confirmingDelete: string | undefined;
  declare private draft: string;
  declare private statusText: string;
  declare private errorText: string;
  declare private announcement: string;

  #connection: ChatConnection;
  #getToken: TokenGetter | undefined;
  #auth: TokenSource | undefined;
  /** A conversation picked in the history or started with "New conversation"; wins over the attribute. */
  #selectedConversationId: string | undefined;
  /** Rendered Markdown by message key, so a re-render does not re-parse every finished reply. */
  #markdown = new Map<string, { text: string; html: string }>();
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
    this.open = false;
    this.historyOpen = false;
    this.historyError = '';
    // A page script may have set `getToken` or `auth` before this element was defined (upgraded); that
    // own property would shadow the accessor, so move it behind it before the first connect.
    for (const name of ['getToken', 'auth'] as const) {
      if (Object.hasOwn(this, name)) {
        const value = this[name];
        Reflect.deleteProperty(this, name);
        (this as Record<typeof name, unknown>)[name] = value;
      }
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

  /**
   * The sign-in session (an `OpenclawAuth`, or anything with `getToken({forceRefresh})`): its id token goes
   * into the connect URL (unless `getToken` is set) and into `Authorization` of history requests. Setting
   * it on a connected element reconnects with the new token.
   */
  get auth(): TokenSource | undefined {
    return this.#auth;
  }

  set auth(auth: TokenSource | undefined) {
    const changed = auth !== this.#auth;
    this.#auth = auth;
    if (changed && this.isConnected && this.#connection) {
      this.#connection.reconnect();
      this.requestUpdate();
    }
  }

  /** The connection's current state, as shown by the indicator. */
  get connectionState(): ConnectionState {
    return this.#connection.state;
  }

  /** The conversation id in use: the attribute's, else the stored one. */
  get activeConversationId(): string {
    if (this.#selectedConversationId) return this.#selectedConversationId;
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
    const afterMessageId = lastAckedMessageId(this.messages);
    const frame: SendMessageFrame = {
      action: 'sendMessage',
      conversationId: this.activeConversationId,
      clientMessageId: newClientMessageId(),
      text: trimmed,
      ...(afterMessageId ? { afterMessageId } : {}),
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

  /** Starts a new conversation (a fresh id, kept for the next visit) with an empty view. */
  newConversation(): void {
    this.#switchTo(`web-${randomHex()}`, []);
  }

  /**
   * Opens a stored conversation: loads its messages (read-only bubbles) and continues it.
   * @returns false when it could not be loaded (the history shows why)
   */
  async openConversation(conversationId: string): Promise<boolean> {
    try {
      const conversation = await getConversation(this.#api(), conversationId);
      this.#switchTo(conversationId, conversation ? logFromHistory(conversation) : []);
      this.historyOpen = false;
      return true;
    } catch (error) {
      this.historyError = messageOf(error);
      return false;
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // After a reload, show the conversation the visitor was in (history on; 404 = nothing stored yet).
    if (this.#historyEnabled && !this.conversationId && hasStoredConversationId(safeLocalStorage())) {
      const id = this.activeConversationId;
      getConversation(this.#api(), id)
        .then((conversation) => {
          if (conversation && this.activeConversationId === id && this.messages.length === 0) {
            this.messages = logFromHistory(conversation);
          }
        })
        .catch((error: unknown) => console.warn('[openclaw-chat] history-unavailable', messageOf(error)));
    }
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
      const list = this.renderRoot.querySelector('ol.messages');
      if (list) list.scrollTop = list.scrollHeight;
    }
  }

  protected override render(): TemplateResult {
    const announcer = html`<div class="visually-hidden" part="announcer" aria-live="polite">${this.announcement}</div>`;
    if (!this.open) {
      return html`<button class="launcher" part="launcher" aria-label="Open chat: ${this.title || 'OpenClaw'}"
        @click=${this.#launch}>💬</button>${announcer}`;
    }
    const state = this.#connection.state;
    const canSend = this.#hasConnected && state !== 'closed' && this.draft.trim() !== '';
    const running = state === 'open' ? replyInProgress(this.messages) : undefined;
    return html`<div class="panel" part="panel">
      <header part="header">
        <h2 part="title" id="title">${this.title || 'OpenClaw'}</h2>
        <span class="connection" part="connection" data-state=${state} role="status">
          ${CONNECTION_LABELS[state]}
        </span>
        ${
          this.#historyEnabled
            ? html`<button class="icon-button" part="history-button" aria-expanded=${this.historyOpen ? 'true' : 'false'}
                @click=${this.#toggleHistory}>History</button>`
            : nothing
        }
        ${
          this.hasAttribute('data-launched')
            ? html`<button class="icon-button" part="close" aria-label="Minimize chat" @click=${this.#collapse}>✕</button>`
            : nothing
        }
      </header>
      ${this.historyOpen ? this.#renderHistory() : nothing}
      <ol class="messages" part="messages" aria-labelledby="title" @click=${this.#onMessagesClick}>
        ${repeat(
          this.messages,
          (m) => m.key,
          (m) => this.#renderMessage(m, state),
        )}
      </ol>
      <div class="status-line" part="status">${this.statusText}</div>
      <div class="error-line" part="error" role="alert">${this.errorText}</div>
      ${announcer}
      <form class="composer" part="composer" @submit=${this.#onSubmit}>
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
        ${
          running
            ? html`<button class="stop" part="stop" type="button" @click=${() => this.#stop(running)}>Stop</button>`
            : nothing
        }
        <button class="send" part="send" type="submit" ?disabled=${!canSend}>Send</button>
      </form>
    </div>`;
  }

  #renderHistory(): TemplateResult {
    const list = this.conversations;
    return html`<section class="history" part="history" aria-label="Conversations" @keydown=${this.#onHistoryKeydown}>
      <div class="history-bar">
        <h3>Conversations</h3>
        <button class="icon-button" part="new-conversation" @click=${this.#onNewConversation}>New conversation</button>
        <button class="icon-button" aria-label="Close history" @click=${this.#toggleHistory}>✕</button>
      </div>
      <div class="error-line" part="history-error" role="alert">${this.historyError}</div>
      ${
        list === undefined
          ? html`<p class="empty">Loading…</p>`
          : list.length === 0
            ? html`<p class="empty">No conversations yet.</p>`
            : html`<ul>
              ${repeat(
                list,
                (c) => c.conversationId,
                (c) => this.#renderConversation(c),
              )}
            </ul>`
      }
      ${
        this.historyCursor
          ? html`<button class="link-button" part="more-conversations" @click=${() => this.#loadHistory(true)}>More</button>`
          : nothing
      }
    </section>`;
  }

  #renderConversation(c: ConversationSummary): TemplateResult {
    const title = c.title || 'Untitled conversation';
    const current = c.conversationId === this.activeConversationId;
    const confirming = this.confirmingDelete === c.conversationId;
    return html`<li part="conversation" aria-current=${current ? 'true' : 'false'}>
      <button class="open-conversation" part="open-conversation" @click=${() => this.openConversation(c.conversationId)}>
        <span>${title}</span>
        <span class="when">${formatWhen(c.updatedAt)} · ${c.messageCount} messages · ${c.channel}</span>
      </button>
      ${
        confirming
          ? html`<span role="group" aria-label="Delete ${title}?">
              <button class="icon-button danger" part="confirm-delete" @click=${() => this.#delete(c.conversationId)}>Delete</button>
              <button class="icon-button" part="cancel-delete" @click=${() => {
                this.confirmingDelete = undefined;
              }}>Cancel</button>
            </span>`
          : html`<button class="icon-button" part="delete-conversation" aria-label="Delete conversation: ${title}"
              @click=${() => {
                this.confirmingDelete = c.conversationId;
              }}>Delete</button>`
      }
    </li>`;
  }

  /** The connect URL: the endpoint, plus `?token=` when `getToken` gives one. */
  #connectUrl(): string | undefined | Promise<string | undefined> {
    const endpoint = resolveEndpoint(this.endpoint, location);
    this.#attemptedEndpoint = endpoint;
    const auth = this.#auth;
    const getToken = this.#getToken ?? (auth ? () => auth.getToken() : undefined);
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
      const waiting =
        state !== 'open' && !m.messageId && m.clientMessageId && this.#connection.isPending(m.key);
      return html`<li class="user" part="message user-message">
        <span class="visually-hidden">You:</span>
        <span class="text">${m.text}</span>
        ${waiting ? html`<span class="note" part="message-note">Waiting for connection…</span>` : nothing}
        ${m.error ? html`<span class="note error" part="message-error">${m.error}</span>` : nothing}
        ${
          m.error && m.clientMessageId
            ? html`<button class="retry" part="retry" type="button" @click=${() => this.#retrySend(m)}>Retry</button>`
            : nothing
        }
      </li>`;
    }
    return html`<li class="assistant" part="message assistant-message" aria-busy=${m.done ? 'false' : 'true'}>
      <span class="visually-hidden">Agent:</span>
      <div class="markdown" part="markdown">${unsafeHTML(this.#markdownOf(m))}</div>
      ${(m.images ?? []).map(
        (image) =>
          html`<img part="image" class="image" src=${image.url} alt=${image.alt} loading="lazy" decoding="async"
            referrerpolicy="no-referrer" width=${ifDefined(image.width)} height=${ifDefined(image.height)} />`,
      )}
      ${m.status === 'aborted' ? html`<span class="note" part="message-note">Stopped.</span>` : nothing}
      ${m.error ? html`<span class="note error" part="message-error">${m.error}</span>` : nothing}
      ${
        m.status === 'error'
          ? html`<button class="retry" part="retry" type="button" @click=${() => this.#retryReply(m)}>Retry</button>`
          : nothing
      }
    </li>`;
  }

  /** Sanitised Markdown of a reply (markdown.ts), re-rendered only when its text changed. */
  #markdownOf(m: ChatMessage): string {
    const cached = this.#markdown.get(m.key);
    if (cached?.text === m.text) return cached.html;
    const rendered = renderMarkdown(m.text);
    this.#markdown.set(m.key, { text: m.text, html: rendered });
    return rendered;
  }

  /** A send the server refused: again with the same clientMessageId, so a copy that got through is deduped. */
  #retrySend(m: ChatMessage): void {
    if (!m.clientMessageId) return;
    const afterMessageId = lastAckedMessageId(this.messages, m.clientMessageId);
    const frame: SendMessageFrame = {
      action: 'sendMessage',
      conversationId: this.activeConversationId,
      clientMessageId: m.clientMessageId,
      text: m.text,
      ...(afterMessageId ? { afterMessageId } : {}),
    };
    if (this.#connection.send(frame) === 'too-large') return;
    this.messages = clearSendError(this.messages, m.clientMessageId);
    this.errorText = '';
  }

  /** A reply that failed: ask the same question again, as a new message. */
  #retryReply(reply: ChatMessage): void {
    const question = this.messages.find((m) => m.role === 'user' && m.messageId === reply.inReplyTo);
    if (question) this.send(question.text);
  }

  #stop(message: ChatMessage): void {
    if (!message.messageId) return;
    const sent = this.#connection.sendControl({
      action: 'stop',
      conversationId: this.activeConversationId,
      messageId: message.messageId,
    });
    if (sent) this.statusText = 'Stopping…';
  }

  get #historyEnabled(): boolean {
    return Boolean(this.apiUrl || this.#auth);
  }

  #api(): ApiClient {
    const getToken = this.#getToken;
    const auth: TokenSource | undefined =
      this.#auth ?? (getToken ? { getToken: async () => await getToken() } : undefined);
    return new ApiClient({ baseUrl: this.apiUrl, auth });
  }

  #switchTo(conversationId: string, log: ChatMessage[]): void {
    this.#selectedConversationId = conversationId;
    storeConversationId(safeLocalStorage(), conversationId);
    this.messages = log;
    this.statusText = '';
    this.errorText = '';
    this.#emit('openclaw-conversation-change', { conversationId });
  }

  async #loadHistory(more = false): Promise<void> {
    this.historyError = '';
    try {
      const page = await listConversations(this.#api(), more ? this.historyCursor : undefined);
      this.conversations = more ? [...(this.conversations ?? []), ...page.conversations] : page.conversations;
      this.historyCursor = page.nextCursor;
    } catch (error) {
      this.conversations ??= [];
      this.historyError = messageOf(error);
    }
  }

  async #delete(conversationId: string): Promise<void> {
    this.confirmingDelete = undefined;
    try {
      await deleteConversation(this.#api(), conversationId);
      this.conversations = this.conversations?.filter((c) => c.conversationId !== conversationId);
      if (conversationId === this.activeConversationId) this.newConversation();
    } catch (error) {
      this.historyError = messageOf(error);
    }
  }

  #toggleHistory = (): void => {
    this.historyOpen = !this.historyOpen;
    this.confirmingDelete = undefined;
    if (this.historyOpen) {
      this.conversations = undefined;
      void this.#loadHistory();
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>('[part="new-conversation"]')?.focus(),
      );
    } else {
      void this.updateComplete.then(() =>
        this.renderRoot.querySelector<HTMLElement>('[part="history-button"]')?.focus(),
      );
    }
  };

  #onHistoryKeydown = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') this.#toggleHistory();
  };

  #onNewConversation = (): void => {
    this.newConversation();
    this.historyOpen = false;
  };

  #launch = (): void => {
    this.setAttribute('data-launched', '');
    this.open = true;
    this.#emit('openclaw-open-change', { open: true });
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('textarea')?.focus());
  };

  #collapse = (): void => {
    this.open = false;
    this.#emit('openclaw-open-change', { open: false });
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.launcher')?.focus());
  };

  /** Copy buttons of code blocks (rendered inside the sanitised Markdown, so handled by delegation). */
  #onMessagesClick = (event: MouseEvent): void => {
    const button = (event.target as Element | null)?.closest?.('button[data-copy]');
    const code = button?.parentElement?.querySelector('pre')?.textContent;
    if (!button || code == null) return;
    navigator.clipboard?.writeText(code).then(
      () => {
        button.textContent = 'Copied';
        setTimeout(() => {
          button.textContent = 'Copy';
        }, 1500);
      },
      () => {
        button.textContent = 'Copy failed';
      },
    );
  };

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
      case 'image': {
        const before = this.messages;
        this.messages = applyImage(before, frame);
        if (this.messages !== before) this.#emit('openclaw-reply-image', frame);
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

/** What to show for a failed request: the server's `message`, else the error's own. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}

/** A short local date and time for the history list. */
function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ''
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

if (!customElements.get('openclaw-chat')) customElements.define('openclaw-chat', OpenclawChat);

declare global {
  interface HTMLElementTagNameMap {
    'openclaw-chat': OpenclawChat;
  }
}
