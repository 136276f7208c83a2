/** Telegram's limit for one message's text, in characters (after entities are parsed). */
export const TELEGRAM_MAX_MESSAGE_CHARS = 4096;

const FENCE = /^\s*```/;
/** Room kept in each part for the "```" that closes a code block the cut went through. */
const FENCE_CLOSE_RESERVE = 4;

/**
 * Cuts a Markdown reply into parts of at most `limit` characters, preferring paragraph boundaries, then
 * line ends, then a hard cut (never inside a surrogate pair). A cut through a fenced code block closes
 * the fence in one part and reopens it in the next, so each part renders on its own.
 */
export function splitForTelegram(text: string, limit = TELEGRAM_MAX_MESSAGE_CHARS): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const budget = limit - FENCE_CLOSE_RESERVE;
    const cut = cutIndex(rest, budget);
    let part = rest.slice(0, cut).replace(/\s+$/, '');
    rest = rest.slice(cut).replace(/^\n+/, '');
    const openFence = unclosedFence(part);
    if (openFence !== undefined) {
      part += '\n```';
      rest = `${openFence}\n${rest}`;
    }
    if (part.length > 0) parts.push(part);
  }
  if (rest.trim().length > 0) parts.push(rest);
  return parts;
}

function cutIndex(text: string, budget: number): number {
  const window = text.slice(0, budget + 1);
  // Only boundaries past a quarter of the budget: a paragraph break near the start would leave a stub.
  const minimum = Math.floor(budget / 4);
  const paragraph = window.lastIndexOf('\n\n');
  if (paragraph >= minimum) return paragraph;
  const line = window.lastIndexOf('\n');
  if (line >= minimum) return line;
  // A hard cut must not split a surrogate pair (an emoji would turn into two broken characters).
  const code = text.charCodeAt(budget - 1);
  return code >= 0xd800 && code <= 0xdbff ? budget - 1 : budget;
}

/** The opening line of a code fence left open at the end of `part`, if any. */
function unclosedFence(part: string): string | undefined {
  let open: string | undefined;
  for (const line of part.split('\n')) {
    if (!FENCE.test(line)) continue;
    open = open === undefined ? line.trim() : undefined;
  }
  return open;
}
