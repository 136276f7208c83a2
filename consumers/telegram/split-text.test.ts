import { describe, expect, it } from 'vitest';
import { splitForTelegram } from './split-text.ts';

describe('splitting a reply for Telegram', () => {
  it('keeps a short reply whole', () => {
    expect(splitForTelegram('hello')).toEqual(['hello']);
  });

  it('cuts at paragraph boundaries first', () => {
    // Prepare
    const paragraphs = Array.from({ length: 6 }, (_, i) => String(i).repeat(40));
    const text = paragraphs.join('\n\n');

    // Act
    const parts = splitForTelegram(text, 100);

    // Assess
    expect(parts.every((part) => part.length <= 100)).toBe(true);
    expect(parts.join('\n\n')).toBe(text);
    expect(parts[0]).toBe(`${paragraphs[0]}\n\n${paragraphs[1]}`);
  });

  it('then at line ends, then hard, without splitting an emoji', () => {
    // Prepare
    const lines = `${'a'.repeat(60)}\n${'b'.repeat(60)}`;
    const unbroken = '😀'.repeat(80);

    // Act
    const byLine = splitForTelegram(lines, 100);
    const hard = splitForTelegram(unbroken, 101);

    // Assess
    expect(byLine).toEqual(['a'.repeat(60), 'b'.repeat(60)]);
    expect(hard.join('')).toBe(unbroken);
    expect(hard.every((part) => part.length <= 101 && !/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(part))).toBe(
      true,
    );
  });

  it('closes a code block at a cut and reopens it in the next part', () => {
    // Prepare
    const code = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const text = `Intro\n\n\`\`\`python\n${code}\n\`\`\`\nAfter`;

    // Act
    const parts = splitForTelegram(text, 120);

    // Assess
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(120);
      expect((part.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    expect(parts[1]!.startsWith('```python\n')).toBe(true);
  });
});
