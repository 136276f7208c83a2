import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { $remove, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import type { z } from 'zod';
import { observe } from '../../bus/observability.ts';
import { SettingsUpdateSchema, type SettingsViewSchema } from '../../schemas/api.ts';
import { type LlmSettings, RuntimePreferenceSchema, UserLlmSettingsSchema } from '../../schemas/index.ts';
import { defaultLlmSettingsFromEnv } from '../../schemas/llm-defaults.ts';
import { createStorage, type Storage } from '../../schemas/table.ts';
import {
  USER_LLM_KEY_NAME,
  USER_LLM_KEY_REF,
  type UserSecretStore,
  userSecretStoreFromEnv,
} from '../../schemas/user-secrets.ts';
import {
  type ApiEvent,
  type ApiLogger,
  ApiRequestError,
  type ApiResponse,
  handleApiRequest,
  json,
  readJsonBody,
} from './http.ts';
import { PROVIDER_ENDPOINTS, providerOf } from './llm-providers.ts';

/** Largest `PUT /v1/settings` body: a model id, a URL and a key. */
export const MAX_SETTINGS_BODY_BYTES = 8 * 1024;

type SettingsView = z.infer<typeof SettingsViewSchema>;
type SettingsUpdate = z.infer<typeof SettingsUpdateSchema>;

export interface SettingsHandlerDeps {
  storage: Storage;
  /** Where users' API keys go; without one a key cannot be stored (422). */
  userSecrets: UserSecretStore | undefined;
  /** The deployment's LLM, shown as `defaultLlm`; a user without a key of their own may use its key. */
  defaultLlm: LlmSettings | undefined;
  logger: ApiLogger;
  now?: () => number;
}

const sameEndpoint = (a: LlmSettings, b: LlmSettings | undefined) =>
  b !== undefined && a.api === b.api && (a.baseUrl ?? '') === (b.baseUrl ?? '');

/**
 * `GET /v1/settings` and `PUT /v1/settings` (JWT-authorised): the user's LLM, runtime and idle timeout,
 * in the same `UserSettings` item the agent and the bots' `/model` read. The API key is write-only: it is
 * stored in the user's secret store and the settings hold only a reference the agent resolves for this
 * user alone; no response, log line or error ever contains it.
 */
export function createSettingsHandler(deps: SettingsHandlerDeps) {
  const { storage, logger } = deps;
  const now = deps.now ?? Date.now;

  async function read(userId: string) {
    const { Item } = await storage.UserSettingsEntity.build(GetItemCommand)
      .key({ userId })
      .options({ consistent: true })
      .send();
    let llm: LlmSettings | undefined;
    try {
      const parsed = UserLlmSettingsSchema.safeParse(Item?.llm ? JSON.parse(Item.llm) : undefined);
      if (parsed.success) llm = parsed.data;
    } catch {
      // Not JSON: shown (and used) as the default.
    }
    const runtime = RuntimePreferenceSchema.safeParse(Item?.runtime);
    const idle = Item?.idleTimeoutMinutes;
    return { llm, runtime: runtime.success ? runtime.data : undefined, idleTimeoutMinutes: idle };
  }

  function view(stored: Awaited<ReturnType<typeof read>>): SettingsView {
    const { llm } = stored;
    return {
      llm: llm
        ? {
            provider: providerOf(llm),
            model: llm.model,
            ...(llm.baseUrl ? { baseUrl: llm.baseUrl } : {}),
            apiKeySet: llm.apiKeyRef === USER_LLM_KEY_REF,
          }
        : null,
      defaultLlm: deps.defaultLlm
        ? { provider: deps.defaultLlm.provider, model: deps.defaultLlm.model }
        : null,
      runtime: stored.runtime ?? null,
      idleTimeoutMinutes: typeof stored.idleTimeoutMinutes === 'number' ? stored.idleTimeoutMinutes : null,
    };
  }

  /** The LLM settings to store for `update.llm`, writing or deleting the user's key as asked. */
  async function nextLlm(
    userId: string,
    input: NonNullable<SettingsUpdate['llm']>,
    current: LlmSettings | undefined,
  ): Promise<LlmSettings> {
    if (input.provider === 'bedrock') {
      throw new ApiRequestError(
        422,
        'PROVIDER_NOT_AVAILABLE',
        'Amazon Bedrock needs the @openclaw/amazon-bedrock-provider plugin, which this deployment does not include. Choose another provider.',
      );
    }
    const endpoint = PROVIDER_ENDPOINTS[input.provider];
    const baseUrl = input.baseUrl ?? endpoint.baseUrl;
    if (!baseUrl) {
      throw new ApiRequestError(400, 'BASE_URL_REQUIRED', 'An OpenAI-compatible provider needs its baseUrl.');
    }
    const candidate = { provider: input.provider, api: endpoint.api, model: input.model, baseUrl };
    const parsed = UserLlmSettingsSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'llm';
      throw new ApiRequestError(
        400,
        field === 'baseUrl' ? 'INVALID_BASE_URL' : 'INVALID_SETTINGS',
        `llm.${field}: ${issue?.message ?? 'invalid'}.`,
      );
    }
    // A stored key stays only with the endpoint it was given for: switching servers without a new key
    // must not send the old one (say, an OpenAI key) to the new server.
    let ownKey = current?.apiKeyRef === USER_LLM_KEY_REF && sameEndpoint(parsed.data, current);
    if (typeof input.apiKey === 'string') {
      if (!deps.userSecrets) {
        throw new ApiRequestError(422, 'SECRETS_UNAVAILABLE', 'This deployment cannot store API keys.');
      }
      await deps.userSecrets.put(userId, USER_LLM_KEY_NAME, input.apiKey);
      ownKey = true;
    } else if (input.apiKey === null || (!ownKey && current?.apiKeyRef === USER_LLM_KEY_REF)) {
      await deps.userSecrets?.delete(userId, USER_LLM_KEY_NAME);
      ownKey = false;
    }
    // Without a key of their own, the user may use the deployment's, but only for its own endpoint: a
    // deployment key is never sent to a server the user chose.
    const apiKeyRef = ownKey
      ? USER_LLM_KEY_REF
      : sameEndpoint(parsed.data, deps.defaultLlm)
        ? deps.defaultLlm?.apiKeyRef
        : undefined;
    return { ...parsed.data, ...(apiKeyRef ? { apiKeyRef } : {}) };
  }

  async function update(userId: string, event: ApiEvent): Promise<ApiResponse> {
    const parsed = SettingsUpdateSchema.safeParse(readJsonBody(event, MAX_SETTINGS_BODY_BYTES));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // The path and zod's words only: never the value, which may be the key.
      throw new ApiRequestError(
        400,
        'INVALID_SETTINGS',
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}.`,
      );
    }
    const input = parsed.data;
    const current = await read(userId);
    let llm: LlmSettings | null | undefined;
    if (input.llm === null) {
      await deps.userSecrets?.delete(userId, USER_LLM_KEY_NAME);
      llm = null;
    } else if (input.llm !== undefined) {
      llm = await nextLlm(userId, input.llm, current.llm);
    }
    const orRemove = <T>(value: T | null | undefined) =>
      value === null ? $remove() : value === undefined ? undefined : value;
    await storage.UserSettingsEntity.build(UpdateItemCommand)
      .item({
        userId,
        llm: llm === null ? $remove() : llm ? JSON.stringify(llm) : undefined,
        runtime: orRemove(input.runtime),
        idleTimeoutMinutes: orRemove(input.idleTimeoutMinutes),
        updatedAt: new Date(now()).toISOString(),
      })
      .send();
    logger.info('settings updated', {
      userId,
      fields: Object.keys(input),
      ...(llm
        ? { provider: llm.provider, model: llm.model, ownKey: llm.apiKeyRef === USER_LLM_KEY_REF }
        : {}),
    });
    return json(200, view(await read(userId)));
  }

  return function settings(event: ApiEvent): Promise<ApiResponse> {
    return handleApiRequest(event, logger, async (userId) => {
      if (event.routeKey === 'GET /v1/settings') return json(200, view(await read(userId)));
      if (event.routeKey === 'PUT /v1/settings') return update(userId, event);
      throw new ApiRequestError(404, 'NO_SUCH_ROUTE', 'No such route.');
    });
  };
}

let defaultHandler: ReturnType<typeof createSettingsHandler> | undefined;

/** Lambda entry: TABLE_NAME, SECRETS_PREFIX (users' keys in SSM) and the default LLM from the environment. */
const entry = middy<ApiEvent, ApiResponse>().handler((event) => {
  defaultHandler ??= createSettingsHandler({
    storage: createStorage(),
    userSecrets: userSecretStoreFromEnv(),
    defaultLlm: defaultLlmSettingsFromEnv(),
    logger: new Logger({ serviceName: 'api-settings' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
