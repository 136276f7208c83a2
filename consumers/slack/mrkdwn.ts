/**
 * Markdown (what the agent writes) to Slack's mrkdwn (what Slack shows): `**bold**` → `*bold*`, `*italic*`
 * → `_italic_`, `~~strike~~` → `~strike~`, `[text](url)` → `<url|text>`, headings → bold lines, bullets
 * → `•`, fenced code without its language tag. `& < >` are escaped everywhere, code included (Slack shows
 * the entities as characters there too); formatting inside code is left alone.
 * @example markdownToMrkdwn('**Done**: see [the docs](https://x.example)') // '*Done*: see <https://x.example|the docs>'
 */
export function markdownToMrkdwn(markdown: string): string {
  // Placeholders below use private-use characters; none may come from the input.
  const clean = markdown.replace(/[\uE000\uE001]/g, '');
  // Capturing split: odd parts are code (fenced, possibly still open while streaming, or inline).
  const parts = clean.split(/(```[\s\S]*?(?:```|$)|`[^`\n]+`)/);
  return parts.map((part, index) => (index % 2 === 1 ? convertCode(part) : convertProse(part))).join('');
}

/** `& < >` as Slack wants them in text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function convertCode(code: string): string {
  // Slack has no syntax highlighting: a language tag would be shown as the first line of code.
  return escapeMrkdwn(code.startsWith('```') ? code.replace(/^```[^\n`]*\n/, '```\n') : code);
}

const BOLD = '\uE000';
const LINK = '\uE001';

function convertProse(prose: string): string {
  const links: string[] = [];
  const keepLink = (mrkdwn: string) => `${LINK}${links.push(mrkdwn) - 1}${LINK}`;
  let text = prose
    // Images and links: Slack cannot inline images, so both become links.
    .replace(
      /!?\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\s*\)/g,
      (_match, label: string, url: string) => keepLink(slackLink(url, label)),
    )
    .replace(/<((?:https?|mailto):[^>\s]+)>/g, (_match, url: string) => keepLink(slackLink(url, '')));
  text = escapeMrkdwn(text)
    .replace(/^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$/gm, '──────────')
    .replace(
      /^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm,
      (_match, title: string) => `${BOLD}${title.replace(/\*\*|__/g, '')}${BOLD}`,
    )
    .replace(/^([ \t]*)[-*+][ \t]+/gm, '$1• ')
    .replace(/\*\*(?=\S)([^\n]*?\S)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/(^|[^\w])__(?=\S)([^\n]*?\S)__(?!\w)/g, `$1${BOLD}$2${BOLD}`)
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![*\w])/g, '$1_$2_')
    .replace(/~~(?=\S)([^\n]*?\S)~~/g, '~$1~');
  return text
    .replace(new RegExp(BOLD, 'g'), '*')
    .replace(new RegExp(`${LINK}(\\d+)${LINK}`, 'g'), (_match, index: string) => links[Number(index)] ?? '');
}

function slackLink(url: string, label: string): string {
  const safeUrl = url.replace(/&/g, '&amp;').replace(/\|/g, '%7C');
  if (!/^(https?|mailto):/i.test(url)) return escapeMrkdwn(label ? `${label} (${url})` : url);
  return label && label !== url ? `<${safeUrl}|${escapeMrkdwn(label)}>` : `<${safeUrl}>`;
}
