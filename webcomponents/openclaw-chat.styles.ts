import { css } from 'lit';
import { themeStyles } from './theme.styles.ts';

const radius = css`var(--openclaw-chat-radius, 12px)`;

/**
 * Styles of `<openclaw-chat>`. Every color comes from a `--openclaw-chat-*` custom property with a
 * light and a dark default (theme.styles.ts), so an embedding page can theme the widget without `::part()`.
 */
export const chatStyles = [
  themeStyles,
  css`
    :host {
      display: block;
      box-sizing: border-box;
      height: 100%;
    }
    .panel {
      position: relative;
      display: flex;
      flex-direction: column;
      box-sizing: border-box;
      min-height: 20rem;
      height: 100%;
      background: var(--_bg);
      border: 1px solid var(--_border);
      border-radius: ${radius};
      overflow: hidden;
    }
    /* Launcher mode (no open attribute): a round button in the corner; the panel floats above it. */
    :host(:not([open])) {
      height: auto;
    }
    .launcher {
      position: fixed;
      right: 1.25rem;
      bottom: 1.25rem;
      width: 3.5rem;
      height: 3.5rem;
      border: 0;
      border-radius: 50%;
      font-size: 1.5rem;
      color: var(--_accent-fg);
      background: var(--_accent);
      box-shadow: 0 4px 14px rgb(0 0 0 / 0.25);
    }
    :host([open][data-launched]) .panel {
      position: fixed;
      right: 1.25rem;
      bottom: 1.25rem;
      width: min(24rem, calc(100vw - 2.5rem));
      height: min(36rem, calc(100vh - 2.5rem));
      box-shadow: 0 8px 28px rgb(0 0 0 / 0.25);
      z-index: 2147483000;
    }
    header {
      display: flex;
      align-items: center;
      gap: 0.5rem;
      padding: 0.6rem 0.9rem;
      border-bottom: 1px solid var(--_border);
    }
    h2 {
      flex: 1;
      margin: 0;
      font-size: 1rem;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .icon-button,
    .link-button {
      padding: 0.25rem 0.55rem;
      font-size: 0.85rem;
      color: var(--_fg);
      background: transparent;
      border: 1px solid var(--_border);
      border-radius: 6px;
    }
    .connection {
      display: inline-flex;
      align-items: center;
      gap: 0.35rem;
      font-size: 0.8rem;
      color: var(--_muted);
    }
    .connection::before {
      content: '';
      width: 0.55rem;
      height: 0.55rem;
      border-radius: 50%;
      background: var(--_offline);
    }
    .connection[data-state='open']::before {
      background: var(--_online);
    }
    .connection[data-state='closed']::before {
      background: var(--_error);
    }
    ol.messages {
      flex: 1;
      margin: 0;
      padding: 0.9rem;
      list-style: none;
      overflow-y: auto;
      display: flex;
      flex-direction: column;
      gap: 0.6rem;
    }
    li.user,
    li.assistant {
      max-width: 85%;
      padding: 0.5rem 0.75rem;
      border-radius: ${radius};
      overflow-wrap: anywhere;
    }
    .text {
      white-space: pre-wrap;
    }
    /* Reply images (screenshots): fit the bubble, keep their aspect ratio. */
    img.image {
      display: block;
      max-width: 100%;
      height: auto;
      margin-top: 0.5rem;
      border-radius: calc(${radius} / 2);
    }
    li.user {
      align-self: flex-end;
      color: var(--_user-fg);
      background: var(--_user-bg);
    }
    li.assistant {
      align-self: flex-start;
      color: var(--_assistant-fg);
      background: var(--_assistant-bg);
    }
    li[aria-busy='true'] .markdown > :last-child::after,
    li[aria-busy='true'] .markdown:empty::after {
      content: '▍';
      opacity: 0.6;
    }
    .markdown > :first-child {
      margin-top: 0;
    }
    .markdown > :last-child {
      margin-bottom: 0;
    }
    .markdown p,
    .markdown ul,
    .markdown ol,
    .markdown pre,
    .markdown blockquote,
    .markdown table {
      margin: 0.4rem 0;
    }
    .markdown a {
      color: var(--_accent);
    }
    .markdown code {
      font: 0.88em/1.4 ui-monospace, SFMono-Regular, Menlo, monospace;
      background: var(--_code-bg);
      border-radius: 4px;
      padding: 0.05em 0.3em;
    }
    .markdown .code-block {
      position: relative;
    }
    .markdown pre {
      padding: 0.6rem;
      overflow-x: auto;
      background: var(--_code-bg);
      border-radius: 6px;
    }
    .markdown pre code {
      padding: 0;
      background: none;
    }
    .markdown .copy {
      position: absolute;
      top: 0.3rem;
      right: 0.3rem;
      padding: 0.1rem 0.45rem;
      font-size: 0.75rem;
      color: var(--_fg);
      background: var(--_bg);
      border: 1px solid var(--_border);
      border-radius: 4px;
    }
    .markdown table {
      border-collapse: collapse;
    }
    .markdown th,
    .markdown td {
      border: 1px solid var(--_border);
      padding: 0.2rem 0.4rem;
    }
    .note {
      display: block;
      margin-top: 0.25rem;
      font-size: 0.8rem;
      opacity: 0.85;
    }
    .note.error,
    .error-line {
      color: var(--_error);
    }
    li.user .note.error {
      color: inherit;
    }
    .retry {
      margin-top: 0.3rem;
      padding: 0.1rem 0.6rem;
      font-size: 0.8rem;
      color: inherit;
      background: transparent;
      border: 1px solid currentColor;
      border-radius: 6px;
    }
    .status-line,
    .error-line {
      min-height: 1.2rem;
      padding: 0 0.9rem;
      font-size: 0.85rem;
      color: var(--_muted);
    }
    .error-line {
      color: var(--_error);
    }
    form.composer {
      display: flex;
      gap: 0.5rem;
      padding: 0.6rem 0.9rem 0.9rem;
    }
    textarea {
      flex: 1;
      resize: none;
      min-height: 2.6rem;
      max-height: 10rem;
      padding: 0.5rem 0.6rem;
      font: inherit;
      color: inherit;
      background: var(--_input-bg);
      border: 1px solid var(--_border);
      border-radius: 8px;
    }
    .send,
    .stop {
      padding: 0 1rem;
      font-weight: 600;
      color: var(--_accent-fg);
      background: var(--_accent);
      border: 0;
      border-radius: 8px;
    }
    .stop {
      color: var(--_fg);
      background: transparent;
      border: 1px solid var(--_border);
    }
    /* History drawer: over the messages, under the header. */
    .history {
      position: absolute;
      inset: 3rem 0 0 0;
      display: flex;
      flex-direction: column;
      background: var(--_bg);
      border-top: 1px solid var(--_border);
      z-index: 1;
    }
    .history-bar {
      display: flex;
      gap: 0.5rem;
      align-items: center;
      padding: 0.6rem 0.9rem;
    }
    .history-bar h3 {
      flex: 1;
      margin: 0;
      font-size: 0.95rem;
    }
    .history ul {
      flex: 1;
      margin: 0;
      padding: 0 0.9rem 0.9rem;
      list-style: none;
      overflow-y: auto;
    }
    .history li {
      display: flex;
      gap: 0.4rem;
      align-items: center;
      padding: 0.35rem 0;
      border-bottom: 1px solid var(--_border);
    }
    .history .open-conversation {
      flex: 1;
      min-width: 0;
      text-align: left;
      color: inherit;
      background: transparent;
      border: 0;
      padding: 0.2rem;
    }
    .history .open-conversation span {
      display: block;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .history .when {
      font-size: 0.75rem;
      color: var(--_muted);
    }
    .history li[aria-current='true'] .open-conversation {
      font-weight: 600;
    }
    .danger {
      color: var(--_error) !important;
      border-color: var(--_error) !important;
    }
    .empty {
      color: var(--_muted);
      padding: 0.5rem 0.9rem;
    }
    /* Phone widths: full-bleed panel, larger touch targets. */
    @media (max-width: 480px) {
      :host([open][data-launched]) .panel {
        inset: 0;
        width: 100vw;
        height: 100dvh;
        border-radius: 0;
      }
      li.user,
      li.assistant {
        max-width: 92%;
      }
      .icon-button,
      .send,
      .stop {
        min-height: 2.5rem;
      }
    }
  `,
];
