import { css } from 'lit';

/** Form controls shared by `<openclaw-sign-in>` and `<openclaw-settings>`. */
export const formStyles = css`
  label {
    display: block;
    margin: 0.6rem 0 0.2rem;
    font-size: 0.9rem;
    font-weight: 600;
  }
  input,
  select {
    box-sizing: border-box;
    width: 100%;
    padding: 0.5rem 0.6rem;
    font: inherit;
    color: inherit;
    background: var(--_input-bg);
    border: 1px solid var(--_border);
    border-radius: 8px;
  }
  input[type='checkbox'] {
    width: auto;
  }
  .primary,
  .secondary {
    margin-top: 0.8rem;
    padding: 0.5rem 1rem;
    font-weight: 600;
    border-radius: 8px;
  }
  .primary {
    color: var(--_accent-fg);
    background: var(--_accent);
    border: 0;
  }
  .secondary {
    color: var(--_fg);
    background: transparent;
    border: 1px solid var(--_border);
  }
  .small {
    margin: 0;
    padding: 0.2rem 0.6rem;
    font-size: 0.85rem;
    font-weight: 400;
  }
  .error {
    min-height: 1.2rem;
    margin: 0.4rem 0 0;
    font-size: 0.9rem;
    color: var(--_error);
  }
  .hint {
    margin: 0.2rem 0 0;
    font-size: 0.8rem;
    color: var(--_muted);
  }
`;
