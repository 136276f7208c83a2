/** Options of {@link renderChatPage}. */
export interface ChatPageOptions {
  /** URL of the bundle (`openclaw-chat.js`). */
  scriptUrl: string;
  /** WebSocket endpoint for the element. @default the element's own default, `/ws` on the page's host */
  wsUrl?: string;
  /** Page and chat title. @default 'OpenClaw' */
  title?: string;
  /**
   * Interim sign-in until a sign-in form exists: take the token from `#token=<jwt>` in the page's URL,
   * remove it from the address bar, keep it in memory only and pass it to the chat's `getToken`.
   * @default false
   */
  tokenFromFragment?: boolean;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Reads `#token=` once and strips it from the address bar with `replaceState`, so it is neither kept in
 * history nor copied with the link. The token lives only in this closure (never in storage). Module
 * scripts run in document order after parsing, so this runs before the bundle defines the element and
 * the first connection already carries the token (the element adopts a `getToken` set before its
 * upgrade); if the element is somehow defined already, it reconnects with the token.
 */
const TOKEN_FROM_FRAGMENT_SCRIPT = `<script type="module">
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('token');
if (token) {
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  const chat = document.querySelector('openclaw-chat');
  if (chat) {
    chat.getToken = () => token;
    if (customElements.get('openclaw-chat')) chat.reconnect();
  }
}
</script>
`;

/**
 * A complete HTML page with one full-window `<openclaw-chat>`, as the local server serves at `/`.
 * With `tokenFromFragment`, an inline module script placed before the bundle hands `#token=` to the chat.
 * @example renderChatPage({ scriptUrl: '/openclaw-chat.js', wsUrl: 'ws://127.0.0.1:8787/ws' })
 */
export function renderChatPage(opts: ChatPageOptions): string {
  const title = escapeHtml(opts.title ?? 'OpenClaw');
  const endpoint = opts.wsUrl ? ` endpoint="${escapeHtml(opts.wsUrl)}"` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  html, body { height: 100%; margin: 0; }
  body { display: flex; padding: 1rem; box-sizing: border-box; background: #f6f8fa; }
  openclaw-chat { flex: 1; max-width: 48rem; margin: 0 auto; }
</style>
${opts.tokenFromFragment ? TOKEN_FROM_FRAGMENT_SCRIPT : ''}<script type="module" src="${escapeHtml(opts.scriptUrl)}"></script>
</head>
<body>
<openclaw-chat${endpoint} title="${title}" open></openclaw-chat>
<noscript>The chat needs JavaScript.</noscript>
</body>
</html>
`;
}
