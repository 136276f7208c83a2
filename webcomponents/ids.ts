/**
 * Ids minted in the browser. `crypto.randomUUID()` exists only in secure contexts, and the widget may be
 * served over plain http on a LAN address, so ids are built from `crypto.getRandomValues()`, which works
 * everywhere.
 */

/** The localStorage key under which a generated conversation id is kept. */
export const CONVERSATION_STORAGE_KEY = 'openclaw-chat:conversation-id';

/** 32 lower-case hex characters from 16 random bytes. */
export function randomHex(bytes = 16): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new `clientMessageId`: 32 hex characters, inside the protocol's 8–64 `[A-Za-z0-9_-]`. */
export function newClientMessageId(): string {
  return randomHex();
}

/**
 * The conversation id kept in localStorage, created on first use. Falls back to an in-memory id when
 * storage is unavailable (private mode, sandboxed iframes): the chat works, it just forgets on reload.
 */
export function storedConversationId(storage: Pick<Storage, 'getItem' | 'setItem'> | undefined): string {
  try {
    const existing = storage?.getItem(CONVERSATION_STORAGE_KEY);
    if (existing) return existing;
    const id = `web-${randomHex()}`;
    storage?.setItem(CONVERSATION_STORAGE_KEY, id);
    return id;
  } catch {
    return `web-${randomHex()}`;
  }
}

/** Keeps `id` as the conversation to continue on the next visit (a history pick or a new conversation). */
export function storeConversationId(storage: Pick<Storage, 'setItem'> | undefined, id: string): void {
  try {
    storage?.setItem(CONVERSATION_STORAGE_KEY, id);
  } catch {
    // Unavailable storage: the choice lasts as long as the page.
  }
}

/** Whether a conversation id was kept by an earlier visit (so there may be history to load). */
export function hasStoredConversationId(storage: Pick<Storage, 'getItem'> | undefined): boolean {
  try {
    return Boolean(storage?.getItem(CONVERSATION_STORAGE_KEY));
  } catch {
    return false;
  }
}

/** `window.localStorage`, or undefined where merely reading it throws (sandboxed iframes, some privacy modes). */
export function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
