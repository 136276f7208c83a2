import { describe, expect, it } from 'vitest';
import { markdownToMrkdwn } from './mrkdwn.ts';

describe('Markdown to Slack mrkdwn', () => {
  it.each([
    ['bold', '**done** and __also__', '*done* and *also*'],
    ['italic', 'an *important* word', 'an _important_ word'],
    ['strike', '~~gone~~', '~gone~'],
    ['link', '[the docs](https://docs.example/a?b=1&c=2)', '<https://docs.example/a?b=1&amp;c=2|the docs>'],
    ['image as link', '![chart](https://i.example/c.png)', '<https://i.example/c.png|chart>'],
    ['autolink', 'see <https://a.example>', 'see <https://a.example>'],
    ['heading', '## Plan **now**', '*Plan now*'],
    ['bullets', '- one\n* two\n  + three', '• one\n• two\n  • three'],
    ['rule', '---', '──────────'],
    ['escaping', 'a < b && c > d', 'a &lt; b &amp;&amp; c &gt; d'],
    ['quote', '> quoted', '&gt; quoted'],
    ['non-web link kept as text', '[run](javascript:x)', 'run (javascript:x)'],
  ])('converts %s', (_name, markdown, mrkdwn) => {
    // Act
    const converted = markdownToMrkdwn(markdown);

    // Assess
    expect(converted).toBe(mrkdwn);
  });

  it('leaves formatting inside code alone but escapes it, and drops the fence language', () => {
    // Prepare
    const markdown = 'Use `a<b>` here:\n```ts\nconst x = **y** && z;\n```\nthen *go*';

    // Act
    const converted = markdownToMrkdwn(markdown);

    // Assess
    expect(converted).toBe('Use `a&lt;b&gt;` here:\n```\nconst x = **y** &amp;&amp; z;\n```\nthen _go_');
  });

  it('does not take arithmetic or snake_case for formatting', () => {
    // Act
    const converted = markdownToMrkdwn('2 * 3 * 4 = 24, 2*3*4, my_var_name');

    // Assess
    expect(converted).toBe('2 * 3 * 4 = 24, 2*3*4, my_var_name');
  });

  it('keeps a code block still open while streaming as code', () => {
    // Act
    const converted = markdownToMrkdwn('Here:\n```python\nprint(**kwargs)');

    // Assess
    expect(converted).toBe('Here:\n```\nprint(**kwargs)');
  });
});
