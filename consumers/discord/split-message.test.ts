import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completedText, planMessages, previewText } from './reply-messages.ts';
import { DISCORD_MESSAGE_LIMIT, splitMessage } from './split-message.ts';

describe('splitting replies into Discord messages', () => {
  it('keeps a short reply whole', () => {
    expect(splitMessage('Hello there.')).toEqual(['Hello there.']);
  });

  it('cuts at paragraph breaks before line breaks, and at line breaks before spaces', () => {
    // Prepare
    const paragraph = 'a'.repeat(30);
    const text = `${paragraph}\n\n${paragraph}\nline ${'b'.repeat(20)}`;

    // Act
    const chunks = splitMessage(text, 64);

    // Assess
    expect(chunks).toEqual([paragraph, `${paragraph}\nline ${'b'.repeat(20)}`]);
  });

  it('closes a code block cut in two and opens it again, with its language, in the next message', () => {
    // Prepare
    const code = Array.from({ length: 12 }, (_, i) => `const line${i} = ${i};`).join('\n');
    const text = `Here:\n\n\`\`\`ts\n${code}\n\`\`\`\nDone.`;

    // Act
    const chunks = splitMessage(text, 120);

    // Assess
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(120);
      expect((chunk.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    expect(chunks[1]!.startsWith('```ts\n')).toBe(true);
  });

  it('never splits an emoji, even in text without spaces', () => {
    // Act
    const chunks = splitMessage('😀'.repeat(1500));

    // Assess
    for (const chunk of chunks) expect(chunk).toMatch(/^(😀)+$/u);
    expect(chunks.join('')).toBe('😀'.repeat(1500));
  });

  it('fuzz: every message fits, none is empty, and no text is lost', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', 'é', '😀', 'x'), maxLength: 9000 });
    fc.assert(
      fc.property(text, fc.integer({ min: 40, max: DISCORD_MESSAGE_LIMIT }), (input, limit) => {
        const chunks = splitMessage(input, limit);
        for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(limit);
        if (input.trim()) for (const chunk of chunks) expect(chunk.trim()).not.toBe('');
        expect(chunks.join('').replace(/\s/g, '')).toBe(input.replace(/\s/g, ''));
      }),
      { numRuns: 300 },
    );
  });

  it('fuzz: messages fit even when code fences are everywhere', () => {
    const text = fc.string({
      unit: fc.constantFrom('```', '```py\n', 'x', '\n', ' ', 'yy'),
      maxLength: 3000,
    });
    fc.assert(
      fc.property(text, (input) => {
        for (const chunk of splitMessage(input, 100)) expect(chunk.length).toBeLessThanOrEqual(100);
      }),
      { numRuns: 300 },
    );
  });
});

describe('what a completed reply becomes', () => {
  it('adds the user-facing error to what was already written', () => {
    expect(
      completedText({
        status: 'aborted',
        text: 'Partial answer',
        error: { code: 'TIMEOUT', message: 'Took too long.' },
      }),
    ).toBe('Partial answer\n\n⚠️ Took too long.');
    expect(completedText({ status: 'ok', text: '   ' })).toContain('without saying anything');
  });

  it('keeps a streaming preview to one message', () => {
    const preview = previewText('word '.repeat(1000));
    expect(preview.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
    expect(preview.endsWith(' …')).toBe(true);
  });

  it('plans at most five messages, the last with the whole text attached', () => {
    const text = 'x'.repeat(DISCORD_MESSAGE_LIMIT * 8);
    const plan = planMessages(text);
    expect(plan).toHaveLength(5);
    expect(plan[4]!.file?.text).toBe(text);
    expect(planMessages('short')).toEqual([{ content: 'short' }]);
  });
});
