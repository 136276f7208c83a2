import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import type { OpenclawAuth } from './auth-controller.ts';
import { formStyles } from './form.styles.ts';
import { themeStyles } from './theme.styles.ts';

/**
 * `<openclaw-sign-in>`: a user name and password form for an {@link OpenclawAuth} (Cognito, or the local
 * issuer), including the "choose a new password" step of a first sign-in. Shows the issuer's message on a
 * refusal. Emits `openclaw-signed-in` (`detail: {username}`, bubbling, composed) when done.
 * @example
 * const form = document.createElement('openclaw-sign-in');
 * form.auth = new OpenclawAuth({ endpoint, clientId });
 */
export class OpenclawSignIn extends LitElement {
  static override properties = {
    heading: { type: String },
    theme: { type: String, reflect: true },
    busy: { state: true },
    error: { state: true },
    step: { state: true },
  };

  static override styles = [
    themeStyles,
    formStyles,
    css`
      :host {
        display: block;
        max-width: 24rem;
        margin: 0 auto;
        padding: 1.25rem;
        box-sizing: border-box;
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-radius: var(--openclaw-chat-radius, 12px);
      }
      h2 {
        margin: 0 0 0.5rem;
        font-size: 1.15rem;
      }
      .primary {
        width: 100%;
      }
    `,
  ];

  /** The session to sign in. Required. */
  declare auth: OpenclawAuth | undefined;
  /** Form heading. @default 'Sign in' */
  declare heading: string | undefined;
  /** `light`, `dark`, or absent for the system setting. */
  declare theme: string | undefined;
  declare private busy: boolean;
  declare private error: string;
  declare private step: 'password' | 'new-password';

  constructor() {
    super();
    this.busy = false;
    this.error = '';
    this.step = 'password';
  }

  protected override render(): TemplateResult {
    const newPassword = this.step === 'new-password';
    return html`<form part="form" @submit=${this.#onSubmit} aria-labelledby="heading" novalidate>
      <h2 id="heading" part="heading">${newPassword ? 'Choose a new password' : this.heading || 'Sign in'}</h2>
      ${
        newPassword
          ? html`<p class="hint">Your account needs a new password before the first sign-in.</p>
              <label for="new-password">New password</label>
              <input id="new-password" name="newPassword" part="input" type="password" autocomplete="new-password" required />
              <label for="confirm-password">Repeat the new password</label>
              <input id="confirm-password" name="confirmPassword" part="input" type="password" autocomplete="new-password" required />`
          : html`<label for="username">User name or email</label>
              <input id="username" name="username" part="input" autocomplete="username" autocapitalize="none" required />
              <label for="password">Password</label>
              <input id="password" name="password" part="input" type="password" autocomplete="current-password" required />`
      }
      <p class="error" part="error" role="alert">${this.error}</p>
      <button class="primary" part="submit" type="submit" ?disabled=${this.busy}>
        ${this.busy ? 'Signing in…' : newPassword ? 'Set password and sign in' : 'Sign in'}
      </button>
      ${newPassword ? html`<button class="secondary" type="button" @click=${this.#back}>Back</button>` : nothing}
    </form>`;
  }

  #onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const auth = this.auth;
    if (!auth) {
      this.error = 'Sign-in is not configured on this page.';
      return;
    }
    // Kept now: after an await, a shadow-DOM event's target is cleared to null.
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const field = (name: string) => String(data.get(name) ?? '');
    this.error = '';
    if (this.step === 'password' && (!field('username').trim() || !field('password'))) {
      this.error = 'Enter your user name and password.';
      return;
    }
    if (this.step === 'new-password' && field('newPassword') !== field('confirmPassword')) {
      this.error = 'The two passwords differ.';
      return;
    }
    this.busy = true;
    try {
      const result =
        this.step === 'password'
          ? await auth.signIn(field('username').trim(), field('password'))
          : await auth.completeNewPassword(field('newPassword'));
      if ('challenge' in result) {
        this.step = 'new-password';
        return;
      }
      this.step = 'password';
      form.reset();
      this.dispatchEvent(
        new CustomEvent('openclaw-signed-in', {
          detail: { username: auth.username },
          bubbles: true,
          composed: true,
        }),
      );
    } catch (error) {
      this.error = error instanceof Error ? error.message : 'Sign-in failed.';
    } finally {
      this.busy = false;
    }
  };

  #back = (): void => {
    this.step = 'password';
    this.error = '';
  };
}

if (!customElements.get('openclaw-sign-in')) customElements.define('openclaw-sign-in', OpenclawSignIn);

declare global {
  interface HTMLElementTagNameMap {
    'openclaw-sign-in': OpenclawSignIn;
  }
}
