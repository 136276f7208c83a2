import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { type AppConfig, normalizeAppConfig } from './app-config.ts';
import { OpenclawAuth } from './auth-controller.ts';
import './openclaw-chat.ts';
import './openclaw-settings.ts';
import './openclaw-sign-in.ts';
import { themeStyles } from './theme.styles.ts';

type View = 'chat' | 'settings';

/**
 * `<openclaw-app>`: the whole web experience on one page: sign-in, then the chat and a Settings tab
 * (`#settings` in the address, so it can be linked and Back works). Takes its {@link AppConfig} from the
 * `config` property, else from `<script type="application/json" id="openclaw-config">` in the page, else
 * from `config.json` next to the page (the file the web stack uploads). Emits `openclaw-signed-out`
 * (bubbling, composed) after "Sign out"; `openclaw-signed-in` comes from the form inside.
 */
export class OpenclawApp extends LitElement {
  static override properties = {
    config: { attribute: false },
    theme: { type: String, reflect: true },
    phase: { state: true },
    view: { state: true },
    problem: { state: true },
  };

  static override styles = [
    themeStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        box-sizing: border-box;
        height: 100%;
      }
      nav {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        padding: 0.5rem 0.25rem 0.75rem;
      }
      nav strong {
        flex: 1;
      }
      nav a {
        color: var(--_fg);
        text-decoration: none;
        padding: 0.25rem 0.5rem;
        border-radius: 6px;
      }
      nav a[aria-current='page'] {
        background: var(--_assistant-bg);
        font-weight: 600;
      }
      .who {
        color: var(--_muted);
        font-size: 0.85rem;
      }
      nav button {
        padding: 0.25rem 0.6rem;
        color: var(--_fg);
        background: transparent;
        border: 1px solid var(--_border);
        border-radius: 6px;
      }
      main {
        flex: 1;
        min-height: 0;
        overflow: auto;
      }
      openclaw-chat {
        display: block;
        height: 100%;
      }
      .problem {
        color: var(--_error);
      }
      @media (max-width: 480px) {
        .who {
          display: none;
        }
      }
    `,
  ];

  /** The deployment's endpoints; set it, or let the element read it from the page. */
  declare config: AppConfig | undefined;
  /** `light`, `dark`, or absent for the system setting; passed to the elements inside. */
  declare theme: string | undefined;
  declare private phase: 'loading' | 'signed-out' | 'signed-in';
  declare private view: View;
  declare private problem: string;
  #auth: OpenclawAuth | undefined;

  constructor() {
    super();
    this.phase = 'loading';
    this.view = viewFromHash();
    this.problem = '';
  }

  /** The session, once the config is known (undefined without sign-in). */
  get auth(): OpenclawAuth | undefined {
    return this.#auth;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('hashchange', this.#onHashChange);
    void this.#start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.#onHashChange);
  }

  protected override render(): TemplateResult {
    const config = this.config ?? {};
    if (this.problem) return html`<p class="problem" role="alert">${this.problem}</p>`;
    if (this.phase === 'loading') return html`<p role="status">Loading…</p>`;
    if (this.phase === 'signed-out') {
      return html`<main><openclaw-sign-in part="sign-in" theme=${this.theme ?? nothing} heading="Sign in to ${config.title ?? 'OpenClaw'}"
        .auth=${this.#auth} @openclaw-signed-in=${this.#onSignedIn}></openclaw-sign-in></main>`;
    }
    return html`<nav part="nav" aria-label="Main">
        <strong>${config.title ?? 'OpenClaw'}</strong>
        <a href="#chat" part="tab" aria-current=${this.view === 'chat' ? 'page' : 'false'}>Chat</a>
        <a href="#settings" part="tab" aria-current=${this.view === 'settings' ? 'page' : 'false'}>Settings</a>
        ${
          this.#auth
            ? html`<span class="who">${this.#auth.username ?? ''}</span>
              <button part="sign-out" @click=${this.#signOut}>Sign out</button>`
            : nothing
        }
      </nav>
      <main>
        <openclaw-chat part="chat" open theme=${this.theme ?? nothing} title=${config.title ?? 'OpenClaw'}
          endpoint=${config.wsUrl ?? nothing} api-url=${config.apiUrl ?? nothing} .auth=${this.#auth}
          ?hidden=${this.view !== 'chat'}></openclaw-chat>
        ${
          this.view === 'settings'
            ? html`<openclaw-settings part="settings" theme=${this.theme ?? nothing} api-url=${config.apiUrl ?? nothing}
                .auth=${this.#auth}></openclaw-settings>`
            : nothing
        }
      </main>`;
  }

  async #start(): Promise<void> {
    try {
      this.config = normalizeAppConfig(this.config ?? (await readPageConfig()));
    } catch (error) {
      this.problem = `Could not load the page configuration: ${error instanceof Error ? error.message : error}`;
      return;
    }
    const auth = this.config.auth;
    if (!auth) {
      this.phase = 'signed-in';
      return;
    }
    this.#auth = new OpenclawAuth(auth);
    this.#auth.addEventListener('openclaw-signed-out', () => {
      this.phase = 'signed-out';
      this.dispatchEvent(new CustomEvent('openclaw-signed-out', { bubbles: true, composed: true }));
    });
    this.phase = (await this.#auth.restore()) ? 'signed-in' : 'signed-out';
  }

  #onSignedIn = (): void => {
    this.phase = 'signed-in';
  };

  #signOut = (): void => {
    this.#auth?.signOut();
  };

  #onHashChange = (): void => {
    this.view = viewFromHash();
  };
}

function viewFromHash(): View {
  return globalThis.location?.hash === '#settings' ? 'settings' : 'chat';
}

/** The inline `#openclaw-config` JSON of the page, else `config.json` beside it. */
async function readPageConfig(): Promise<unknown> {
  const inline = document.getElementById('openclaw-config')?.textContent;
  if (inline) return JSON.parse(inline);
  const response = await fetch(new URL('config.json', location.href), { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  return response.json();
}

if (!customElements.get('openclaw-app')) customElements.define('openclaw-app', OpenclawApp);

declare global {
  interface HTMLElementTagNameMap {
    'openclaw-app': OpenclawApp;
  }
}
