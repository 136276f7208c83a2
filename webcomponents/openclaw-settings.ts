import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type {
  LinkCode,
  LinkedChannel,
  LinkedChannelList,
  LlmProvider,
  RuntimePreference,
  SettingsView,
  Skill,
  SkillList,
} from '../schemas/index.ts';
import { ApiClient, segment } from './api-client.ts';
import type { TokenSource } from './auth-controller.ts';
import { formStyles } from './form.styles.ts';
import {
  formFromSettings,
  IDLE_TIMEOUT_RANGE,
  KEYLESS_PROVIDERS,
  PROVIDER_LABELS,
  type SettingsForm,
  settingsUpdateFrom,
} from './settings-form.ts';
import { themeStyles } from './theme.styles.ts';

/** A scheduled job as `GET /v1/schedules` shows it (consumers/api/schedules.ts). */
export interface ScheduledJobView {
  jobId: string;
  prompt: string;
  expression: string;
  timeZone: string;
  enabled: boolean;
  nextFireAt: string | null;
  /** The job's ETag is `"<version>"`; changes send it as `If-Match`. */
  version: number;
}

/** Same as `SKILL_LIMITS` upload sizes in schemas/api.ts (re-declared; the browser test asserts the refusal). */
const MAX_SKILL_MD_BYTES = 64 * 1024;
const MAX_SKILL_ZIP_BYTES = 1024 * 1024;

type Section = 'model' | 'channels' | 'skills' | 'schedules';

/**
 * `<openclaw-settings>`: the signed-in user's settings over the management REST API: LLM provider, model,
 * base URL and API key (write-only: shown only as "set"), runtime and idle timeout; linked chat accounts
 * (pairing codes, unlink); custom skills (upload a SKILL.md or a zip, enable, delete); scheduled jobs
 * (pause, resume, delete). Each section shows the server's `message` when a request fails.
 * Attributes: `api-url` (default: the page's origin), `theme`. Property `auth` (or `getToken`).
 * Emits `openclaw-settings-saved` (`detail`: the new settings view), bubbling and composed.
 */
export class OpenclawSettings extends LitElement {
  static override properties = {
    apiUrl: { type: String, attribute: 'api-url' },
    theme: { type: String, reflect: true },
    view: { state: true },
    form: { state: true },
    replacingKey: { state: true },
    links: { state: true },
    linkCode: { state: true },
    skills: { state: true },
    jobs: { state: true },
    errors: { state: true },
    notes: { state: true },
  };

  static override styles = [
    themeStyles,
    formStyles,
    css`
      :host {
        display: block;
        box-sizing: border-box;
        max-width: 48rem;
        margin: 0 auto;
        color: var(--_fg);
      }
      section {
        margin: 0 0 1rem;
        padding: 1rem 1.25rem;
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-radius: var(--openclaw-chat-radius, 12px);
      }
      h2 {
        margin: 0 0 0.4rem;
        font-size: 1.05rem;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
        gap: 0 1rem;
      }
      ul {
        margin: 0.4rem 0 0;
        padding: 0;
        list-style: none;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        padding: 0.45rem 0;
        border-bottom: 1px solid var(--_border);
      }
      li .what {
        flex: 1;
        min-width: 10rem;
        overflow-wrap: anywhere;
      }
      .muted {
        color: var(--_muted);
        font-size: 0.85rem;
      }
      .key-state {
        display: inline-block;
        padding: 0.1rem 0.5rem;
        font-size: 0.85rem;
        border: 1px solid var(--_online);
        color: var(--_online);
        border-radius: 999px;
      }
      .code {
        font: 600 1.4rem/1.2 ui-monospace, monospace;
        letter-spacing: 0.1em;
      }
      .ok {
        min-height: 1.2rem;
        margin: 0.4rem 0 0;
        font-size: 0.9rem;
        color: var(--_online);
      }
      .inline-label {
        display: inline-flex;
        gap: 0.3rem;
        align-items: center;
        margin: 0;
        font-weight: 400;
      }
    `,
  ];

  /** Base URL of the REST API. Absent: the page's origin. */
  declare apiUrl: string | undefined;
  /** `light`, `dark`, or absent for the system setting. */
  declare theme: string | undefined;
  /** The sign-in session whose id token goes into `Authorization: Bearer`. */
  declare auth: TokenSource | undefined;
  /** Alternative to `auth`: a function returning the id token. */
  declare getToken: (() => string | undefined | Promise<string | undefined>) | undefined;
  declare private view: SettingsView | undefined;
  declare private form: SettingsForm | undefined;
  declare private replacingKey: boolean;
  declare private links: LinkedChannel[] | undefined;
  declare private linkCode: LinkCode | undefined;
  declare private skills: Skill[] | undefined;
  declare private jobs: ScheduledJobView[] | undefined;
  declare private errors: Partial<Record<Section, string>>;
  declare private notes: Partial<Record<Section, string>>;

  constructor() {
    super();
    this.replacingKey = false;
    this.errors = {};
    this.notes = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
  }

  /** Loads every section again from the server. */
  async reload(): Promise<void> {
    await Promise.all([
      this.#run('model', async () => {
        this.#showSettings((await this.#api().request<SettingsView>('GET', '/v1/settings')).data);
      }),
      this.#run('channels', async () => {
        this.links = (await this.#api().request<LinkedChannelList>('GET', '/v1/channels')).data.links;
      }),
      this.#loadSkills(),
      this.#loadJobs(),
    ]);
  }

  protected override render(): TemplateResult {
    return html`${this.#renderModel()} ${this.#renderChannels()} ${this.#renderSkills()} ${this.#renderJobs()}`;
  }

  // Model, runtime, idle timeout ------------------------------------------------------------------------

  #renderModel(): TemplateResult {
    const form = this.form;
    const body = !form
      ? html`<p class="muted">${this.errors.model ? '' : 'Loading…'}</p>`
      : html`<form @submit=${this.#save} @input=${this.#onFormInput} @change=${this.#onFormInput}>
          <div class="grid">
            <div>
              <label for="provider">Provider</label>
              <select id="provider" name="provider" part="input">
                <option value="" ?selected=${form.provider === ''}>Deployment default${
                  this.view?.defaultLlm
                    ? ` (${this.view.defaultLlm.provider} / ${this.view.defaultLlm.model})`
                    : ''
                }</option>
                ${(Object.keys(PROVIDER_LABELS) as LlmProvider[]).map(
                  (p) =>
                    html`<option value=${p} ?selected=${form.provider === p}>${PROVIDER_LABELS[p]}</option>`,
                )}
              </select>
            </div>
            ${form.provider ? this.#renderModelFields(form) : nothing}
            <div>
              <label for="runtime">Runtime</label>
              <select id="runtime" name="runtime" part="input">
                ${(['', 'auto', 'lambda', 'fargate'] as const).map(
                  (r) =>
                    html`<option value=${r} ?selected=${form.runtime === r}>${RUNTIME_LABELS[r]}</option>`,
                )}
              </select>
            </div>
            <div>
              <label for="idle">Idle timeout (minutes)</label>
              <input id="idle" name="idleTimeoutMinutes" part="input" type="number" inputmode="numeric"
                min=${IDLE_TIMEOUT_RANGE.min} max=${IDLE_TIMEOUT_RANGE.max} placeholder="Deployment default"
                .value=${form.idleTimeoutMinutes} />
              <p class="hint">How long an idle Fargate task waits before it stops.</p>
            </div>
          </div>
          <button class="primary" part="save" type="submit">Save</button>
        </form>`;
    return html`<section part="section model" aria-labelledby="model-h">
      <h2 id="model-h">Model and runtime</h2>
      ${body}
      <p class="error" part="error" role="alert">${this.errors.model ?? ''}</p>
      <p class="ok" role="status">${this.notes.model ?? ''}</p>
    </section>`;
  }

  #renderModelFields(form: SettingsForm): TemplateResult {
    const keyless = KEYLESS_PROVIDERS.has(form.provider);
    const keySet = this.view?.llm?.apiKeySet === true && this.view.llm.provider === form.provider;
    const compatible = form.provider === 'openai-compatible';
    let key: TemplateResult | typeof nothing = nothing;
    if (!keyless) {
      key =
        keySet && !this.replacingKey && !form.removeKey
          ? html`<div>
              <span class="label-like"><strong>API key</strong></span>
              <div class="row">
                <span class="key-state" part="key-state">set</span>
                <button class="secondary small" type="button" part="replace-key" @click=${() => {
                  this.replacingKey = true;
                }}>Replace</button>
                <button class="secondary small" type="button" part="remove-key" @click=${() => {
                  this.form = { ...form, removeKey: true };
                }}>Remove</button>
              </div>
            </div>`
          : html`<div>
              <label for="api-key">API key</label>
              <input id="api-key" name="apiKey" part="input" type="password" autocomplete="off"
                spellcheck="false" placeholder=${form.removeKey ? 'The stored key is removed on save' : 'Paste the key'}
                .value=${form.apiKey} />
              <p class="hint">Stored as a secret. It is never shown again, only whether one is set.</p>
            </div>`;
    }
    return html`<div>
        <label for="model">Model</label>
        <input id="model" name="model" part="input" autocomplete="off" spellcheck="false" required .value=${form.model} />
      </div>
      <div>
        <label for="base-url">Base URL${compatible ? '' : ' (optional)'}</label>
        <input id="base-url" name="baseUrl" part="input" type="url" inputmode="url" spellcheck="false"
          placeholder=${compatible ? 'http://localhost:11434/v1' : 'The provider’s own'} .value=${form.baseUrl} />
      </div>
      ${key}`;
  }

  #onFormInput = (event: Event): void => {
    const target = event.target as HTMLInputElement | HTMLSelectElement;
    if (!this.form || !target.name) return;
    this.form = { ...this.form, [target.name]: target.value } as SettingsForm;
  };

  #save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (!this.form) return;
    const result = settingsUpdateFrom(this.form);
    this.notes = { ...this.notes, model: '' };
    if ('error' in result) {
      this.errors = { ...this.errors, model: result.error };
      return;
    }
    await this.#run('model', async () => {
      const saved = (await this.#api().request<SettingsView>('PUT', '/v1/settings', { json: result.update }))
        .data;
      this.#showSettings(saved);
      this.notes = { ...this.notes, model: 'Saved.' };
      this.#emit('openclaw-settings-saved', saved);
    });
  };

  /** Shows a settings view; the key input always starts empty (the API never returns the key). */
  #showSettings(view: SettingsView): void {
    this.view = view;
    this.form = formFromSettings(view);
    this.replacingKey = false;
  }

  // Linked channels -------------------------------------------------------------------------------------

  #renderChannels(): TemplateResult {
    const links = this.links;
    return html`<section part="section channels" aria-labelledby="channels-h">
      <h2 id="channels-h">Linked chat accounts</h2>
      <p class="hint">Talk to the same agent from Telegram, Discord or Slack: get a code here and send it to the bot.</p>
      ${
        links === undefined
          ? nothing
          : links.length === 0
            ? html`<p class="muted">No linked accounts.</p>`
            : html`<ul>
              ${repeat(
                links,
                (l) => `${l.channel}/${l.channelUserId}`,
                (l) => html`<li part="channel">
                  <span class="what"><strong>${l.channel}</strong> ${l.channelUserId}
                    <span class="muted">linked ${formatWhen(l.linkedAt)}</span></span>
                  <button class="secondary small" part="unlink" aria-label="Unlink ${l.channel} ${l.channelUserId}"
                    @click=${() => this.#unlink(l)}>Unlink</button>
                </li>`,
              )}
            </ul>`
      }
      <button class="secondary" part="link-code-button" @click=${this.#newLinkCode}>Get a pairing code</button>
      ${
        this.linkCode
          ? html`<div part="link-code" role="status">
              <p><span class="code">${this.linkCode.code}</span>
                <span class="muted">valid until ${formatWhen(this.linkCode.expiresAt)}</span></p>
              <p class="hint">${this.linkCode.howTo}</p>
            </div>`
          : nothing
      }
      <p class="error" part="error" role="alert">${this.errors.channels ?? ''}</p>
    </section>`;
  }

  #unlink(link: LinkedChannel): Promise<void> {
    return this.#run('channels', async () => {
      await this.#api().request(
        'DELETE',
        `/v1/channels/${segment(link.channel)}/${segment(link.channelUserId)}`,
      );
      this.links = this.links?.filter((l) => l !== link);
    });
  }

  #newLinkCode = (): Promise<void> =>
    this.#run('channels', async () => {
      this.linkCode = (await this.#api().request<LinkCode>('POST', '/v1/link-codes')).data;
    });

  // Skills ----------------------------------------------------------------------------------------------

  #renderSkills(): TemplateResult {
    const skills = this.skills;
    return html`<section part="section skills" aria-labelledby="skills-h">
      <h2 id="skills-h">Custom skills</h2>
      <label for="skill-file">Upload a SKILL.md, or a skill folder as .zip</label>
      <input id="skill-file" part="skill-file" type="file" accept=".md,.zip,text/markdown,application/zip"
        @change=${this.#upload} />
      <p class="ok" role="status">${this.notes.skills ?? ''}</p>
      ${
        skills === undefined
          ? nothing
          : skills.length === 0
            ? html`<p class="muted">No custom skills yet.</p>`
            : html`<ul>
              ${repeat(
                skills,
                (s) => s.name,
                (s) => html`<li part="skill">
                  <span class="what"><strong>${s.name}</strong> <span class="muted">${s.description}</span></span>
                  <label class="inline-label"><input type="checkbox" part="skill-enabled" aria-label="Enabled: ${s.name}" .checked=${s.enabled}
                    @change=${(e: Event) => this.#setSkillEnabled(s, (e.target as HTMLInputElement).checked)} />
                    Enabled</label>
                  <button class="secondary small" part="delete-skill" aria-label="Delete skill ${s.name}"
                    @click=${() => this.#deleteSkill(s)}>Delete</button>
                </li>`,
              )}
            </ul>`
      }
      <p class="error" part="error" role="alert">${this.errors.skills ?? ''}</p>
    </section>`;
  }

  #loadSkills(): Promise<void> {
    return this.#run('skills', async () => {
      this.skills = (await this.#api().request<SkillList>('GET', '/v1/skills')).data.skills;
    });
  }

  #upload = async (event: Event): Promise<void> => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    const zip = /\.zip$/i.test(file.name) || file.type === 'application/zip';
    const limit = zip ? MAX_SKILL_ZIP_BYTES : MAX_SKILL_MD_BYTES;
    this.notes = { ...this.notes, skills: '' };
    if (!zip && !/\.md$/i.test(file.name)) {
      this.errors = { ...this.errors, skills: 'Choose a SKILL.md file or a .zip of a skill folder.' };
    } else if (file.size > limit) {
      this.errors = {
        ...this.errors,
        skills: `${file.name} is ${Math.ceil(file.size / 1024)} KB; the limit is ${limit / 1024} KB.`,
      };
    } else {
      await this.#run('skills', async () => {
        const { data } = await this.#api().request<Skill>('POST', '/v1/skills', {
          body: file,
          contentType: zip ? 'application/zip' : 'text/markdown',
        });
        this.notes = { ...this.notes, skills: `Uploaded ${data.name}.` };
        await this.#loadSkills();
      });
    }
    input.value = '';
  };

  #setSkillEnabled(skill: Skill, enabled: boolean): Promise<void> {
    return this.#run('skills', async () => {
      const { data } = await this.#api().request<Skill>('PATCH', `/v1/skills/${segment(skill.name)}`, {
        json: { enabled },
      });
      this.skills = this.skills?.map((s) => (s.name === skill.name ? data : s));
    }).then(() => {
      // A refused change leaves the checkbox as the server has it.
      if (this.errors.skills) this.skills = this.skills ? [...this.skills] : this.skills;
    });
  }

  #deleteSkill(skill: Skill): Promise<void> {
    return this.#run('skills', async () => {
      await this.#api().request('DELETE', `/v1/skills/${segment(skill.name)}`);
      this.skills = this.skills?.filter((s) => s.name !== skill.name);
    });
  }

  // Scheduled jobs --------------------------------------------------------------------------------------

  #renderJobs(): TemplateResult {
    const jobs = this.jobs;
    return html`<section part="section schedules" aria-labelledby="schedules-h">
      <h2 id="schedules-h">Scheduled jobs</h2>
      <p class="hint">Ask the agent in the chat to schedule something ("every weekday at 8, summarise my inbox").</p>
      ${
        jobs === undefined
          ? nothing
          : jobs.length === 0
            ? html`<p class="muted">No scheduled jobs.</p>`
            : html`<ul>
              ${repeat(
                jobs,
                (j) => j.jobId,
                (j) => html`<li part="schedule">
                  <span class="what"><strong>${j.expression}</strong> <span class="muted">(${j.timeZone})</span><br />
                    ${j.prompt}<br />
                    <span class="muted">${
                      j.enabled
                        ? j.nextFireAt
                          ? `next ${formatWhen(j.nextFireAt)}`
                          : 'no further runs'
                        : 'paused'
                    }</span></span>
                  <button class="secondary small" part=${j.enabled ? 'pause' : 'resume'}
                    @click=${() => this.#jobAction(j, j.enabled ? 'pause' : 'resume')}>${j.enabled ? 'Pause' : 'Resume'}</button>
                  <button class="secondary small" part="delete-schedule" aria-label="Delete job ${j.expression}"
                    @click=${() => this.#jobAction(j, 'delete')}>Delete</button>
                </li>`,
              )}
            </ul>`
      }
      <p class="error" part="error" role="alert">${this.errors.schedules ?? ''}</p>
    </section>`;
  }

  #loadJobs(): Promise<void> {
    return this.#run('schedules', async () => {
      this.jobs = (
        await this.#api().request<{ schedules: ScheduledJobView[] }>('GET', '/v1/schedules')
      ).data.schedules;
    });
  }

  /** Pause, resume or delete, conditional on the version shown (409 when it changed meanwhile). */
  #jobAction(job: ScheduledJobView, action: 'pause' | 'resume' | 'delete'): Promise<void> {
    return this.#run('schedules', async () => {
      const headers = { 'if-match': `"${job.version}"` };
      const path = `/v1/schedules/${segment(job.jobId)}`;
      if (action === 'delete') {
        await this.#api().request('DELETE', path, { headers });
        this.jobs = this.jobs?.filter((j) => j.jobId !== job.jobId);
        return;
      }
      const { data } = await this.#api().request<ScheduledJobView>('POST', `${path}/${action}`, { headers });
      this.jobs = this.jobs?.map((j) => (j.jobId === job.jobId ? data : j));
    }).then(async () => {
      // Someone changed the job meanwhile: show the current state next to the message.
      if (this.errors.schedules) {
        const message = this.errors.schedules;
        await this.#loadJobs();
        this.errors = { ...this.errors, schedules: message };
      }
    });
  }

  // Plumbing --------------------------------------------------------------------------------------------

  #api(): ApiClient {
    const getToken = this.getToken;
    const auth = this.auth ?? (getToken ? { getToken: async () => await getToken() } : undefined);
    return new ApiClient({ baseUrl: this.apiUrl, auth });
  }

  /** Runs one section's request, showing the server's `message` in that section on failure. */
  async #run(section: Section, work: () => Promise<void>): Promise<void> {
    this.errors = { ...this.errors, [section]: '' };
    try {
      await work();
    } catch (error) {
      this.errors = {
        ...this.errors,
        [section]: error instanceof Error ? error.message : 'Something went wrong.',
      };
    }
  }

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

const RUNTIME_LABELS: Record<RuntimePreference | '', string> = {
  '': 'Deployment default',
  auto: 'Auto (Lambda, Fargate for long work)',
  lambda: 'Lambda',
  fargate: 'Fargate',
};

function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

if (!customElements.get('openclaw-settings')) customElements.define('openclaw-settings', OpenclawSettings);

declare global {
  interface HTMLElementTagNameMap {
    'openclaw-settings': OpenclawSettings;
  }
}
