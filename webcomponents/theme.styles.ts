import { css, unsafeCSS } from 'lit';

/*
 * The palette every element shares. Each color is a `--openclaw-chat-*` custom property the page may set;
 * the defaults come in a light and a dark set. Dark applies with `theme="dark"`, or with the visitor's
 * `prefers-color-scheme: dark` unless `theme="light"`. Elements use the private `--_*` names.
 */

const palette = (p: Record<string, string>) =>
  unsafeCSS(
    Object.entries(p)
      .map(([name, value]) => `--_${name}: var(--openclaw-chat-${name}, ${value});`)
      .join('\n'),
  );

const light = palette({
  fg: '#1f2328',
  bg: '#ffffff',
  border: '#d0d7de',
  muted: '#656d76',
  accent: '#0969da',
  'accent-fg': '#ffffff',
  'user-bg': '#0969da',
  'user-fg': '#ffffff',
  'assistant-bg': '#f0f2f4',
  'assistant-fg': '#1f2328',
  error: '#cf222e',
  online: '#1a7f37',
  offline: '#bf8700',
  'input-bg': 'transparent',
  'code-bg': '#e6e9ec',
});

const dark = palette({
  fg: '#e6edf3',
  bg: '#0d1117',
  border: '#30363d',
  muted: '#8d96a0',
  accent: '#4493f8',
  'accent-fg': '#0d1117',
  'user-bg': '#1f6feb',
  'user-fg': '#ffffff',
  'assistant-bg': '#161b22',
  'assistant-fg': '#e6edf3',
  error: '#f85149',
  online: '#3fb950',
  offline: '#d29922',
  'input-bg': '#010409',
  'code-bg': '#010409',
});

/** The shared palette: light by default, dark by `theme="dark"` or the system setting. */
export const themeStyles = css`
  :host {
    ${light}
    color-scheme: light;
    font: var(--openclaw-chat-font, 15px/1.45 system-ui, sans-serif);
    color: var(--_fg);
  }
  :host([theme='dark']) {
    ${dark}
    color-scheme: dark;
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
      color-scheme: dark;
    }
  }
  :host([hidden]) {
    display: none !important;
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
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
