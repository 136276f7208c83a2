import { describe, expect, it } from 'vitest';
import { SLACK_MESSAGE_CHARS, splitMessage } from './split-message.ts';

describe('splitting a reply into Slack messages', () => {
  it('keeps a short reply in one message', () => {
    // Act
    const pieces = splitMessage('short');

    // Assess
    expect(pieces).toEqual(['short']);
  });

  it('cuts at paragraph breaks, each piece within the limit, nothing lost', () => {
    // Prepare
    const paragraphs = Array.from({ length: 20 }, (_, i) => `P${i} ${'word '.repeat(50).trim()}`);
    const text = paragraphs.join('\n\n');

    // Act
    const pieces = splitMessage(text, 1_000);

    // Assess
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(1_000);
      expect(piece).toMatch(/^P\d+ word/);
      expect(piece).toMatch(/word$/);
    }
    expect(pieces.join('\n\n')).toBe(text);
  });

  it('falls back to lines, then spaces, then a hard cut for text without breaks', () => {
    // Prepare
    const oneLine = 'x'.repeat(SLACK_MESSAGE_CHARS * 2 + 10);

    // Act
    const pieces = splitMessage(oneLine);

    // Assess
    expect(pieces.length).toBe(3);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(SLACK_MESSAGE_CHARS);
    expect(pieces.join('')).toBe(oneLine);
  });

  it('never cuts an emoji in half', () => {
    // Prepare
    const emojis = '😀'.repeat(1_000);

    // Act
    const pieces = splitMessage(emojis, 501);

    // Assess
    for (const piece of pieces) expect(piece).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
    expect(pieces.join('')).toBe(emojis);
  });

  it('closes a code block at the end of one message and reopens it in the next', () => {
    // Prepare
    const text = `intro\n\n\`\`\`\n${'some code line\n'.repeat(150)}\`\`\`\n\nafter`;

    // Act
    const pieces = splitMessage(text, 1_000);

    // Assess
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(1_000);
      expect((piece.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(pieces.at(-1)).toMatch(/after$/);
  });
});
