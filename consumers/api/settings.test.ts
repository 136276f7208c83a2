import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveIdleTimeoutMs, resolveLlmSettings } from '../../agent/llm-settings.ts';
import { setUserModel } from '../../producers/telegram/model-setting.ts';
import { SettingsViewSchema } from '../../schemas/api.ts';
import type { LlmSettings } from '../../schemas/index.ts';
import {
  createFileUserSecretStore,
  USER_LLM_KEY_NAME,
  USER_LLM_KEY_REF,
} from '../../schemas/user-secrets.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createSettingsHandler } from './settings.ts';
import { apiEvent, bodyOf, recordingLogger } from './test-fixtures.ts';

const KEY = 'sk-user-secret-do-not-log-0123456789';
const defaultLlm: LlmSettings = {
  provider: 'custom',
  api: 'openai-completions',
  model: 'fake-model',
  baseUrl: 'http://127.0.0.1:9/v1',
  apiKeyRef: 'OPENCLAW_LLM_API_KEY',
};

describe('the settings API (/v1/settings)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let secretsDir: string;
  const log = recordingLogger();
  let api: ReturnType<typeof createSettingsHandler>;
  let secrets: ReturnType<typeof createFileUserSecretStore>;
  let users = 0;
  const user = () => `settings-user-${++users}`;
  const put = (sub: string, body: unknown) => api(apiEvent('PUT /v1/settings', { sub, body }));
  const get = async (sub: string) =>
    SettingsViewSchema.parse(bodyOf(await api(apiEvent('GET /v1/settings', { sub }))));

  beforeAll(async () => {
    aws = await startLocalAws();
    secretsDir = await mkdtemp(join(tmpdir(), 'openclaw-secrets-'));
    secrets = createFileUserSecretStore({ dir: secretsDir });
    api = createSettingsHandler({
      storage: aws.storage,
      userSecrets: secrets,
      defaultLlm,
      logger: log.logger,
    });
  });
  afterAll(async () => {
    await aws.close();
    await rm(secretsDir, { recursive: true, force: true });
  });

  it('starts with the deployment defaults', async () => {
    expect(await get(user())).toEqual({
      llm: null,
      defaultLlm: { provider: 'custom', model: 'fake-model' },
      runtime: null,
      idleTimeoutMinutes: null,
    });
  });

  it('stores a key as a 0600 secret, shows it only as set, and the agent resolves it for that user only', async () => {
    // Prepare
    const userId = user();
    // Act
    const answer = await put(userId, {
      llm: { provider: 'openrouter', model: 'meta-llama/llama-3.1-8b:free', apiKey: KEY },
      runtime: 'fargate',
      idleTimeoutMinutes: 30,
    });
    // Assess
    expect(answer).toMatchObject({ statusCode: 200 });
    expect(bodyOf(answer)).toEqual({
      llm: {
        provider: 'openrouter',
        model: 'meta-llama/llama-3.1-8b:free',
        baseUrl: 'https://openrouter.ai/api/v1',
        apiKeySet: true,
      },
      defaultLlm: { provider: 'custom', model: 'fake-model' },
      runtime: 'fargate',
      idleTimeoutMinutes: 30,
    });
    expect(JSON.stringify(await get(userId))).not.toContain(KEY);
    expect(log.text()).not.toContain(KEY);
    expect(await secrets.read(userId, USER_LLM_KEY_NAME)).toBe(KEY);
    expect(await secrets.read(user(), USER_LLM_KEY_NAME)).toBeUndefined();
    const file = await stat(join(secretsDir, userId, USER_LLM_KEY_NAME));
    expect(file.mode & 0o777).toBe(0o600);
    const llm = await resolveLlmSettings(aws.storage, userId, defaultLlm);
    expect(llm).toMatchObject({ api: 'openai-completions', apiKeyRef: USER_LLM_KEY_REF });
    expect(await resolveIdleTimeoutMs(aws.storage, userId, 900_000)).toBe(30 * 60_000);
  });

  it('maps each provider to its OpenClaw api and base URL', async () => {
    const userId = user();
    const cases = [
      ['anthropic', 'anthropic-messages', 'https://api.anthropic.com'],
      ['openai', 'openai-completions', 'https://api.openai.com/v1'],
      ['deepseek', 'openai-completions', 'https://api.deepseek.com/v1'],
    ] as const;
    for (const [provider, api, baseUrl] of cases) {
      expect(await put(userId, { llm: { provider, model: 'm' } })).toMatchObject({ statusCode: 200 });
      expect(await resolveLlmSettings(aws.storage, userId, undefined)).toMatchObject({
        provider,
        api,
        baseUrl,
      });
    }
    await put(userId, {
      llm: { provider: 'openai-compatible', model: 'llama3.2', baseUrl: 'http://127.0.0.1:11434/v1' },
    });
    expect(await resolveLlmSettings(aws.storage, userId, undefined)).toMatchObject({
      api: 'openai-completions',
      baseUrl: 'http://127.0.0.1:11434/v1',
    });
  });

  it('uses the deployment key only for the deployment endpoint, and drops an own key when the endpoint changes', async () => {
    const userId = user();
    await put(userId, {
      llm: { provider: 'openai-compatible', model: 'other', baseUrl: defaultLlm.baseUrl },
    });
    expect((await resolveLlmSettings(aws.storage, userId, undefined))?.apiKeyRef).toBe(
      'OPENCLAW_LLM_API_KEY',
    );
    await put(userId, { llm: { provider: 'openai', model: 'gpt-4.1', apiKey: KEY } });
    await put(userId, {
      llm: { provider: 'openai-compatible', model: 'x', baseUrl: 'https://llm.example.com/v1' },
    });
    const llm = await resolveLlmSettings(aws.storage, userId, undefined);
    expect(llm?.apiKeyRef).toBeUndefined();
    expect(await secrets.read(userId, USER_LLM_KEY_NAME)).toBeUndefined();
  });

  it('resets fields with null and deletes the key', async () => {
    const userId = user();
    await put(userId, {
      llm: { provider: 'openai', model: 'gpt-4.1', apiKey: KEY },
      runtime: 'auto',
      idleTimeoutMinutes: 5,
    });
    expect(await put(userId, { llm: null, runtime: null, idleTimeoutMinutes: null })).toMatchObject({
      statusCode: 200,
    });
    expect(await get(userId)).toMatchObject({ llm: null, runtime: null, idleTimeoutMinutes: null });
    expect(await secrets.read(userId, USER_LLM_KEY_NAME)).toBeUndefined();
    expect(await resolveIdleTimeoutMs(aws.storage, userId, 900_000)).toBe(900_000);
  });

  it('keeps working with the bots’ /model, which writes the same item', async () => {
    const userId = user();
    await put(userId, { llm: { provider: 'openai', model: 'gpt-4.1', apiKey: KEY } });
    await setUserModel(aws.storage, userId, 'gpt-4.1-mini', {
      fallback: defaultLlm,
      defaultRuntime: 'lambda',
      now: Date.now(),
    });
    expect((await get(userId)).llm).toEqual({
      provider: 'openai',
      model: 'gpt-4.1-mini',
      baseUrl: 'https://api.openai.com/v1',
      apiKeySet: true,
    });
  });

  it.each([
    [{ llm: { provider: 'bedrock', model: 'anthropic.claude' } }, 422, 'PROVIDER_NOT_AVAILABLE'],
    [{ llm: { provider: 'openai-compatible', model: 'm' } }, 400, 'BASE_URL_REQUIRED'],
    [
      { llm: { provider: 'openai-compatible', model: 'm', baseUrl: 'http://10.0.0.1/v1' } },
      400,
      'INVALID_BASE_URL',
    ],
    [{ llm: { provider: 'nope', model: 'm' } }, 400, 'INVALID_SETTINGS'],
    [{ idleTimeoutMinutes: 0 }, 400, 'INVALID_SETTINGS'],
    [{ idleTimeoutMinutes: 121 }, 400, 'INVALID_SETTINGS'],
    [{ runtime: 'gpu' }, 400, 'INVALID_SETTINGS'],
    [{ extra: true }, 400, 'INVALID_SETTINGS'],
    [{ llm: { provider: 'openai', model: 'm', apiKey: '' } }, 400, 'INVALID_SETTINGS'],
  ])('refuses %j with %i %s', async (body, status, code) => {
    const answer = await put(user(), body);
    expect(answer).toMatchObject({ statusCode: status });
    expect(bodyOf(answer).code).toBe(code);
  });

  it('refuses bodies that are not JSON objects, too large, or without a user, and never echoes the key', async () => {
    const userId = user();
    const raw = (rawBody: string, headers?: Record<string, string>) =>
      api(apiEvent('PUT /v1/settings', { sub: userId, rawBody, headers }));
    expect(bodyOf(await raw('{')).code).toBe('INVALID_JSON');
    expect(bodyOf(await raw('x'.repeat(9000))).code).toBe('BODY_TOO_LARGE');
    expect(bodyOf(await raw('{}', { 'content-type': 'text/plain' })).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await api(apiEvent('GET /v1/settings', { sub: undefined }))).toMatchObject({ statusCode: 401 });
    const tooLong = await put(userId, {
      llm: { provider: 'openai', model: 'm', apiKey: `${KEY}${'z'.repeat(1100)}` },
    });
    expect(tooLong).toMatchObject({ statusCode: 400 });
    expect(JSON.stringify(tooLong)).not.toContain(KEY);
    expect(log.text()).not.toContain(KEY);
  });
});
