import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTelegramHtml } from '../../test/fixtures/fake-telegram-api.ts';
import { markdownToTelegramHtml } from './markdown-to-html.ts';

describe('Markdown to Telegram HTML', () => {
  it('turns emphasis, code, links and headings into Telegram tags', () => {
    // Prepare
    const markdown = [
      '# Plan',
      'This is **bold**, *italic*, _also italic_, ~~gone~~ and `x < y`.',
      'See [the docs](https://example.com/a?b=1&c="2") now.',
    ].join('\n');

    // Act
    const html = markdownToTelegramHtml(markdown);

    // Assess
    expect(html).toBe(
      [
        '<b>Plan</b>',
        'This is <b>bold</b>, <i>italic</i>, <i>also italic</i>, <s>gone</s> and <code>x &lt; y</code>.',
        'See <a href="https://example.com/a?b=1&amp;c=&quot;2&quot;">the docs</a> now.',
      ].join('\n'),
    );
  });

  it('escapes &, < and > in text and keeps code blocks verbatim with their language', () => {
    // Prepare
    const markdown =
      'Tom & Jerry <3\n```ts\nconst a = b && c < d;\n**not bold**\n```\n> quoted *words*\n- item';

    // Act
    const html = markdownToTelegramHtml(markdown);

    // Assess
    expect(html).toBe(
      'Tom &amp; Jerry &lt;3\n' +
        '<pre><code class="language-ts">const a = b &amp;&amp; c &lt; d;\n**not bold**</code></pre>\n' +
        '<blockquote>quoted <i>words</i></blockquote>\n' +
        '• item',
    );
  });

  it('leaves half-written markers, snake_case names and unsafe links as text', () => {
    // Act
    const html = markdownToTelegramHtml(
      'a **half-streamed and snake_case_name and [x](javascript:alert(1)) 2 * 3',
    );

    // Assess
    expect(html).toBe('a **half-streamed and snake_case_name and [x](javascript:alert(1)) 2 * 3');
    expect(() => parseTelegramHtml(html)).not.toThrow();
  });

  it('always produces HTML Telegram accepts, never longer to read than the Markdown (fuzzed)', () => {
    // Prepare: text built from the characters that matter to both Markdown and HTML
    const piece = fc.constantFrom(
      '*',
      '**',
      '_',
      '__',
      '~~',
      '`',
      '```',
      '[',
      ']',
      '(',
      ')',
      '<',
      '>',
      '&',
      '#',
      '> ',
      '- ',
      '\n',
      ' ',
      'a',
      'bc',
      'https://x.y',
      'é',
      '😀',
    );
    const markdown = fc.array(piece, { maxLength: 60 }).map((pieces) => pieces.join(''));

    // Act + Assess
    fc.assert(
      fc.property(markdown, (text) => {
        const visible = parseTelegramHtml(markdownToTelegramHtml(text));
        expect(visible.length).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 3_000 },
    );
  });
});
