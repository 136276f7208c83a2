/**
 * Turns a Slack message's text into what the agent reads: the bot's own mention removed, Slack's markup
 * (`<https://x|label>`, `<#C1|general>`, `<!here>`) as plain words, and `&amp; &lt; &gt;` decoded.
 * Mentions of other people stay as `<@U…>`, which Slack shows as a name if the agent repeats them.
 * @param botUserId our bot user; undefined when unknown, then only a leading mention is removed
 * @example toAgentText('<@UBOT> summarise <https://a.example|this>', 'UBOT') // 'summarise this (https://a.example)'
 */
export function toAgentText(text: string, botUserId: string | undefined): string {
  const withoutBot = botUserId
    ? text.replace(new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g'), ' ')
    : text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>/, ' ');
  return fromSlackMarkup(withoutBot);
}

/**
 * Slack's markup as plain words, entities decoded, surrounding space trimmed: for text Slack escaped,
 * such as a slash command's.
 */
export function fromSlackMarkup(text: string): string {
  return text
    .replace(/<([^<>]+)>/g, (_token, inner: string) => plainToken(inner))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

function plainToken(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  if (target.startsWith('@')) return label ? `@${label}` : `<${target}>`;
  if (target.startsWith('#')) return label ? `#${label}` : target;
  if (target.startsWith('!subteam^')) return label ?? '@group';
  if (target.startsWith('!')) return label ?? `@${target.slice(1)}`;
  const url = target.replace(/^mailto:/, '');
  return label && label !== url && label !== target ? `${label} (${url})` : url;
}
