/**
 * Converts the Markdown a model writes into the small HTML dialect of Telegram's `parse_mode: 'HTML'`:
 * bold, italic, strikethrough, inline code, fenced code blocks, links, headings (as bold), quotes and
 * bullets. Everything else is text, with `&`, `<` and `>` escaped. The output is always balanced: a
 * marker without its partner (a half-streamed `**bol`) stays literal text instead of opening a tag.
 *
 * The visible text of the output is never longer than the input (markup is only removed), so a part cut
 * to Telegram's 4096 characters before conversion still fits after it.
 */
export function markdownToTelegramHtml(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE_OPEN.exec(line);
    if (fence) {
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !FENCE_CLOSE.test(lines[j]!)) body.push(lines[j++]!);
      // An unclosed fence (a reply cut short) runs to the end, as most Markdown renderers do.
      const language = fence[1] ? ` class="language-${fence[1]}"` : '';
      out.push(`<pre><code${language}>${escapeHtml(body.join('\n'))}</code></pre>`);
      i = j;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) quoted.push(lines[i++]!.replace(QUOTE, ''));
      i--;
      out.push(`<blockquote>${quoted.map(inlineToHtml).join('\n')}</blockquote>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      out.push(`<b>${inlineToHtml(heading[1]!)}</b>`);
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet) {
      out.push(`${bullet[1]}• ${inlineToHtml(bullet[2]!)}`);
      continue;
    }
    out.push(inlineToHtml(line));
  }
  return out.join('\n');
}

const FENCE_OPEN = /^\s*```([\w+#.-]{0,32})\s*$/;
const FENCE_CLOSE = /^\s*```\s*$/;
const QUOTE = /^>\s?/;
const HEADING = /^#{1,6}\s+(.+?)\s*#*\s*$/;
const BULLET = /^(\s*)[-*+]\s+(.*)$/;
const LINK = /^\[([^\]\n]+)\]\(([^()\s]+)\)/;
/** Link targets Telegram opens; anything else (javascript:, data:) stays text. */
const SAFE_URL = /^(https?:\/\/|tg:\/\/|mailto:)/i;

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const escapeAttribute = (text: string) => escapeHtml(text).replaceAll('"', '&quot;');

/** Span markers, longest first, with the tag each becomes. */
const SPANS: readonly { marker: string; tag: string }[] = [
  { marker: '**', tag: 'b' },
  { marker: '__', tag: 'b' },
  { marker: '~~', tag: 's' },
  { marker: '*', tag: 'i' },
  { marker: '_', tag: 'i' },
];

const isWordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}_]/u.test(char);
const isSpace = (char: string | undefined) => char === undefined || /\s/.test(char);

/** Where a span opened at `start` closes, or -1 when it does not (then the marker is literal text). */
function closingIndex(text: string, start: number, marker: string): number {
  const contentStart = start + marker.length;
  if (isSpace(text[contentStart])) return -1;
  // `snake_case_names` and `2*3*4` are not emphasis: underscores open and close only at word edges.
  if (marker.startsWith('_') && isWordChar(text[start - 1])) return -1;
  let from = contentStart + 1;
  for (;;) {
    const end = text.indexOf(marker, from);
    if (end < 0) return -1;
    const closes =
      !isSpace(text[end - 1]) &&
      !(marker.startsWith('_') && isWordChar(text[end + marker.length])) &&
      // A single `*` must not close on the first half of a `**`.
      !(marker.length === 1 && text[end + 1] === marker);
    if (closes) return end;
    from = end + 1;
  }
}

function inlineToHtml(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === '`') {
      const run = /^`+/.exec(text.slice(i))![0];
      const end = text.indexOf(run, i + run.length);
      if (end > i + run.length) {
        out += `<code>${escapeHtml(text.slice(i + run.length, end).trim())}</code>`;
        i = end + run.length;
        continue;
      }
      out += escapeHtml(run);
      i += run.length;
      continue;
    }
    if (char === '[') {
      const link = LINK.exec(text.slice(i));
      if (link && SAFE_URL.test(link[2]!)) {
        out += `<a href="${escapeAttribute(link[2]!)}">${inlineToHtml(link[1]!)}</a>`;
        i += link[0].length;
        continue;
      }
    }
    const span = SPANS.find(({ marker }) => text.startsWith(marker, i));
    if (span) {
      const end = closingIndex(text, i, span.marker);
      if (end > 0) {
        const inner = text.slice(i + span.marker.length, end);
        out += `<${span.tag}>${inlineToHtml(inner)}</${span.tag}>`;
        i = end + span.marker.length;
        continue;
      }
      out += escapeHtml(span.marker);
      i += span.marker.length;
      continue;
    }
    out += escapeHtml(char);
    i++;
  }
  return out;
}
