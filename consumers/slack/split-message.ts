/**
 * Longest text we put in one Slack message. Slack truncates `text` at 40,000 characters and advises
 * staying under 4,000; 3,000 keeps every message readable and within a section block's limit.
 */
export const SLACK_MESSAGE_CHARS = 3_000;

const FENCE = '```';
/** Room kept in each piece for closing and reopening a code block that spans two messages. */
const FENCE_ROOM = FENCE.length * 2 + 2;

/**
 * Splits mrkdwn into messages of at most `limit` characters: at the last paragraph break that fits, else
 * the last line break, else the last space, else hard (never inside a surrogate pair). A code block cut in
 * two is closed at the end of one message and reopened at the start of the next.
 * @example splitMessage(longText).length // number of messages to post
 */
export function splitMessage(text: string, limit = SLACK_MESSAGE_CHARS): string[] {
  const room = limit - FENCE_ROOM;
  if (text.length <= limit && !endsInsideCode(text)) return [text];
  if (text.length <= room) return balanceFences([text]);
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > room) {
    const cut = cutPoint(rest, room);
    pieces.push(rest.slice(0, cut.end).trimEnd());
    rest = rest.slice(cut.next).replace(/^\n+/, '');
  }
  if (rest.trim()) pieces.push(rest);
  return balanceFences(pieces.filter((piece) => piece.trim()));
}

function cutPoint(text: string, room: number): { end: number; next: number } {
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = text.lastIndexOf(separator, room - separator.length);
    // A break in the first tenth would make a stub message; look for a coarser one instead.
    if (at > room / 10) return { end: at, next: at + separator.length };
  }
  const code = text.charCodeAt(room - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? room - 1 : room;
  return { end, next: end };
}

function endsInsideCode(text: string): boolean {
  return (text.split(FENCE).length - 1) % 2 === 1;
}

function balanceFences(pieces: string[]): string[] {
  let open = false;
  return pieces.map((piece) => {
    const body = open ? `${FENCE}\n${piece}` : piece;
    open = endsInsideCode(body);
    return open ? `${body}\n${FENCE}` : body;
  });
}
