import { css } from 'lit';

/**
 * Styles of `<openclaw-chat>`. Every color comes from a `--openclaw-chat-*` custom property with a
 * default, so an embedding page can theme the widget without `::part()` for the common cases.
 */
export const chatStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    box-sizing: border-box;
    min-height: 20rem;
    height: 100%;
    font: var(--openclaw-chat-font, 15px/1.45 system-ui, sans-serif);
    color: var(--openclaw-chat-fg, #1f2328);
    background: var(--openclaw-chat-bg, #ffffff);
    border: 1px solid var(--openclaw-chat-border, #d0d7de);
    border-radius: var(--openclaw-chat-radius, 12px);
    overflow: hidden;
  }
  :host([hidden]) {
    display: none;
  }
  header {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem;
    padding: 0.6rem 0.9rem;
    border-bottom: 1px solid var(--openclaw-chat-border, #d0d7de);
  }
  h2 {
    margin: 0;
    font-size: 1rem;
  }
  .connection {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    font-size: 0.8rem;
    color: var(--openclaw-chat-muted, #656d76);
  }
  .connection::before {
    content: '';
    width: 0.55rem;
    height: 0.55rem;
    border-radius: 50%;
    background: var(--openclaw-chat-offline, #bf8700);
  }
  .connection[data-state='open']::before {
    background: var(--openclaw-chat-online, #1a7f37);
  }
  .connection[data-state='closed']::before {
    background: var(--openclaw-chat-error, #cf222e);
  }
  ol {
    flex: 1;
    margin: 0;
    padding: 0.9rem;
    list-style: none;
    overflow-y: auto;
    display: flex;
    flex-direction: column;
    gap: 0.6rem;
  }
  li {
    max-width: 85%;
    padding: 0.5rem 0.75rem;
    border-radius: var(--openclaw-chat-radius, 12px);
    overflow-wrap: anywhere;
  }
  .text {
    white-space: pre-wrap;
  }
  li.user {
    align-self: flex-end;
    color: var(--openclaw-chat-user-fg, #ffffff);
    background: var(--openclaw-chat-user-bg, #0969da);
  }
  li.assistant {
    align-self: flex-start;
    color: var(--openclaw-chat-assistant-fg, #1f2328);
    background: var(--openclaw-chat-assistant-bg, #f0f2f4);
  }
  li[aria-busy='true'] .text::after {
    content: '▍';
    opacity: 0.6;
  }
  .note {
    display: block;
    margin-top: 0.25rem;
    font-size: 0.8rem;
    opacity: 0.85;
  }
  .note.error,
  .error-line {
    color: var(--openclaw-chat-error, #cf222e);
  }
  li.user .note.error {
    color: inherit;
  }
  .status-line,
  .error-line {
    min-height: 1.2rem;
    padding: 0 0.9rem;
    font-size: 0.85rem;
    color: var(--openclaw-chat-muted, #656d76);
  }
  .error-line {
    color: var(--openclaw-chat-error, #cf222e);
  }
  form {
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
    background: var(--openclaw-chat-input-bg, transparent);
    border: 1px solid var(--openclaw-chat-border, #d0d7de);
    border-radius: 8px;
  }
  button {
    padding: 0 1rem;
    font: inherit;
    font-weight: 600;
    color: var(--openclaw-chat-accent-fg, #ffffff);
    background: var(--openclaw-chat-accent, #0969da);
    border: 0;
    border-radius: 8px;
    cursor: pointer;
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  textarea:focus-visible,
  button:focus-visible {
    outline: 2px solid var(--openclaw-chat-accent, #0969da);
    outline-offset: 1px;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;
