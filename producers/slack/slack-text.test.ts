import { describe, expect, it } from 'vitest';
import { toAgentText } from './slack-text.ts';

describe('Slack message text as the agent reads it', () => {
  it("removes the bot's mention wherever it is and keeps other people's", () => {
    // Act
    const text = toAgentText('<@UBOT> ask <@UBOB> and <@UBOT|openclaw> too', 'UBOT');

    // Assess
    expect(text).toBe('ask <@UBOB> and too');
  });

  it('removes a leading mention when the bot user is unknown', () => {
    // Act
    const text = toAgentText('<@UXYZ>  what time is it?', undefined);

    // Assess
    expect(text).toBe('what time is it?');
  });

  it("turns Slack's markup into words and decodes its entities", () => {
    // Act
    const text = toAgentText(
      'read <https://a.example/x?a=1&amp;b=2|this page> and <https://b.example> in <#C1|general> <!here> &lt;ok&gt; &amp; <mailto:a@b.example|a@b.example>',
      'UBOT',
    );

    // Assess
    expect(text).toBe(
      'read this page (https://a.example/x?a=1&b=2) and https://b.example in #general @here <ok> & a@b.example',
    );
  });
});
