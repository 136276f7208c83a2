/** Options of {@link renderChatPage}. */
export interface ChatPageOptions {
  /** URL of the bundle (`openclaw-chat.js`). */
  scriptUrl: string;
  /** WebSocket endpoint for the element. @default the element's own default, `/ws` on the page's host */
  wsUrl?: string;
  /** Page and chat title. @default 'OpenClaw' */
  title?: string;
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
 * A complete HTML page with one full-window `<openclaw-chat>`, as the local server serves at `/`.
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
<script type="module" src="${escapeHtml(opts.scriptUrl)}"></script>
</head>
<body>
<openclaw-chat${endpoint} title="${title}"></openclaw-chat>
<noscript>The chat needs JavaScript.</noscript>
</body>
</html>
`;
}
