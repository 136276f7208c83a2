/** Discord's limit on a message's content, in characters. */
export const DISCORD_MESSAGE_LIMIT = 2000;

const FENCE = '```';
// Room for the "\n```" that closes a code block cut in two.
const CLOSING_FENCE_ROOM = FENCE.length + 1;

/**
 * Where to cut `text` so the first part has at most `max` characters: after the last paragraph break,
 * else the last line break, else the last space — as long as that keeps at least half of `max`, so
 * chunks stay reasonably full — and otherwise at `max`, never inside a surrogate pair (an emoji).
 */
function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max + 1);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator);
    if (at >= max / 2 && at <= max) return at;
  }
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

/** The opening line of the code block `text` ends inside (e.g. "```ts"), or undefined. */
function openFenceAtEnd(text: string): string | undefined {
  let open: string | undefined;
  for (const match of text.matchAll(/^[ \t]*```[^\n`]*$/gm)) {
    open = open === undefined ? match[0].trim().slice(0, 20) : undefined;
  }
  return open;
}

/**
 * Splits a reply into Discord messages of at most `limit` characters, on paragraph or line boundaries
 * where possible. A code block cut in two is closed at the end of one message and opened again (same
 * language) at the start of the next, so both render as code.
 */
export function splitMessage(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const cut = cutPoint(rest, limit - CLOSING_FENCE_ROOM);
    let piece = rest.slice(0, cut).replace(/\s+$/, '');
    rest = rest.slice(cut).replace(/^\n+/, '').replace(/^ /, '');
    const fence = openFenceAtEnd(piece);
    if (fence) {
      piece = `${piece}\n${FENCE}`;
      rest = `${fence}\n${rest}`;
    }
    if (piece.trim()) chunks.push(piece);
  }
  if (rest.trim() || chunks.length === 0) chunks.push(rest);
  return chunks;
}
