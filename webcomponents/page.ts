import type { AppConfig } from './app-config.ts';

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

/** Options of {@link renderAppPage}. */
export interface AppPageOptions {
  /** URL of the bundle (`openclaw-chat.js`). */
  scriptUrl: string;
  /**
   * The deployment's endpoints, inlined into the page as JSON. Absent: the page fetches `config.json`
   * beside it (what the web stack uploads on AWS). Either shape of `normalizeAppConfig` is accepted.
   */
  config?: AppConfig | Record<string, unknown>;
  /** Page title. @default config.title, else 'OpenClaw' */
  title?: string;
}

/**
 * The full web app: `<openclaw-app>` (sign-in, then the chat and a Settings tab at `#settings`).
 * The config goes in as `<script type="application/json">`, which is never executed, so a strict
 * Content-Security-Policy (`script-src 'self'`) still allows the page.
 * @example renderAppPage({ scriptUrl: '/openclaw-chat.js', config: { wsUrl, apiUrl, auth: { endpoint: '/auth', clientId: 'local' } } })
 */
export function renderAppPage(opts: AppPageOptions): string {
  const configTitle = typeof opts.config?.title === 'string' ? opts.config.title : undefined;
  const title = escapeHtml(opts.title ?? configTitle ?? 'OpenClaw');
  // `<` escaped so the JSON cannot close the script element ("</script>" in a value).
  const config = opts.config
    ? `<script type="application/json" id="openclaw-config">${JSON.stringify(opts.config).replace(/</g, '\\u003c')}</script>\n`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<style>
  html, body { height: 100%; margin: 0; }
  body { display: flex; padding: 1rem; box-sizing: border-box; background: Canvas; color: CanvasText; font: 15px/1.45 system-ui, sans-serif; }
  openclaw-app { flex: 1; max-width: 52rem; margin: 0 auto; min-width: 0; }
  @media (max-width: 480px) { body { padding: 0.5rem; } }
</style>
${config}<script type="module" src="${escapeHtml(opts.scriptUrl)}"></script>
</head>
<body>
<openclaw-app></openclaw-app>
<noscript>This page needs JavaScript.</noscript>
</body>
</html>
`;
}
