import createDOMPurify, { type DOMPurify } from 'dompurify';
import { Marked, type Tokens } from 'marked';

/*
 * Model text is hostile: a prompt injection can make the agent answer with HTML or links meant to run
 * script in the page. So raw HTML in the Markdown is never passed through (marked's `html` tokens are
 * rendered as escaped text), images are not loaded (a model-chosen image URL can track the reader; its
 * alt text is shown), only http(s) and mailto links become links, and the result is sanitised by
 * DOMPurify anyway, in case the parser ever lets something through.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Link targets we render as links; anything else (javascript:, data:, vbscript:, relative) stays text. */
const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;

const parser = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    image({ text }: Tokens.Image): string {
      return escapeHtml(text);
    },
    link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link) {
      const label = this.parser.parseInline(token.tokens);
      if (!SAFE_LINK.test(token.href.trim())) return label;
      const title = token.title ? ` title="${escapeHtml(token.title)}"` : '';
      return `<a href="${escapeHtml(token.href.trim())}"${title}>${label}</a>`;
    },
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? '').match(/^[\w+#.-]{1,32}/)?.[0];
      const label = language ? ` data-lang="${escapeHtml(language)}"` : '';
      return `<div class="code-block"><button type="button" class="copy" data-copy>Copy</button><pre><code${label}>${escapeHtml(text.replace(/\n$/, ''))}</code></pre></div>`;
    },
  },
});

let purifier: DOMPurify | undefined;

/** A DOMPurify instance of our own, so our hook does not change how the page's own DOMPurify behaves. */
function purify(): DOMPurify {
  if (purifier) return purifier;
  purifier = createDOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
  return purifier;
}

const PURIFY_CONFIG = {
  FORBID_TAGS: [
    'style',
    'img',
    'svg',
    'math',
    'form',
    'input',
    'textarea',
    'select',
    'iframe',
    'video',
    'audio',
  ],
  FORBID_ATTR: ['style', 'id', 'name', 'srcset'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
};

/**
 * Renders model text as safe HTML: GitHub-flavoured Markdown, line breaks kept, raw HTML shown as text,
 * images as their alt text, links opened in a new tab with `rel="noopener noreferrer"`, code blocks with
 * a copy button (`button[data-copy]`). Needs a DOM (DOMPurify); call it in the browser.
 * @example renderMarkdown('**hi** <script>x</script>') // '<p><strong>hi</strong> &lt;script&gt;x&lt;/script&gt;</p>\n'
 */
export function renderMarkdown(text: string): string {
  const html = parser.parse(text, { async: false });
  return purify().sanitize(html, PURIFY_CONFIG);
}
