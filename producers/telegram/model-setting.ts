import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { $get, $remove, UpdateItemCommand } from 'dynamodb-toolbox/entity/actions/update';
import {
  type LlmSettings,
  type RuntimePreference,
  RuntimePreferenceSchema,
  UserLlmSettingsSchema,
} from '../../schemas/index.ts';
import type { Storage } from '../../schemas/table.ts';

/** What a user's settings say about their agent, read for `/status` and `/model`. */
export interface UserAgentSettings {
  /** The user's own LLM choice; undefined when they use the deployment default (or stored junk). */
  llm?: LlmSettings;
  /** The user's own runtime preference; undefined when they use the deployment default. */
  runtime?: RuntimePreference;
}

export async function readUserAgentSettings(storage: Storage, userId: string): Promise<UserAgentSettings> {
  const { Item } = await storage.UserSettingsEntity.build(GetItemCommand).key({ userId }).send();
  const runtime = RuntimePreferenceSchema.safeParse(Item?.runtime);
  let llm: LlmSettings | undefined;
  try {
    const parsed = UserLlmSettingsSchema.safeParse(Item?.llm ? JSON.parse(Item.llm) : undefined);
    if (parsed.success) llm = parsed.data;
  } catch {
    // Not JSON: the agent falls back to the default, and so does what we show.
  }
  return { ...(llm ? { llm } : {}), ...(runtime.success ? { runtime: runtime.data } : {}) };
}

/** `provider/model`, the way users name a model. */
export const describeLlm = (llm: LlmSettings) => `${llm.provider}/${llm.model}`;

export type SetModelResult =
  | { ok: true; llm: LlmSettings }
  /** No setting to start from: neither the user's nor a deployment default. */
  | { ok: false; reason: 'no-base' }
  /** The result would not be a valid user setting (the model id, or a default a user may not copy). */
  | { ok: false; reason: 'invalid'; field: string };

/** Model ids as providers spell them (`claude-sonnet-4-5`, `gpt-4.1-mini`, `meta-llama/llama-3.1-8b:free`). */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

/**
 * Sets the model of the user's LLM setting, keeping its provider, API, base URL and key reference (or the
 * deployment default's, when the user has no setting yet). The result is validated as a user setting, so
 * `/model` cannot do what the settings page would refuse.
 */
export async function setUserModel(
  storage: Storage,
  userId: string,
  model: string,
  options: { fallback: LlmSettings | undefined; defaultRuntime: RuntimePreference; now: number },
): Promise<SetModelResult> {
  if (!MODEL_ID.test(model)) return { ok: false, reason: 'invalid', field: 'model' };
  const current = await readUserAgentSettings(storage, userId);
  const base = current.llm ?? options.fallback;
  if (!base) return { ok: false, reason: 'no-base' };
  const parsed = UserLlmSettingsSchema.safeParse({ ...base, model });
  if (!parsed.success) {
    return { ok: false, reason: 'invalid', field: parsed.error.issues[0]?.path.join('.') || 'llm' };
  }
  await storage.UserSettingsEntity.build(UpdateItemCommand)
    .item({
      userId,
      llm: JSON.stringify(parsed.data),
      // The item requires a runtime: a user with no settings yet gets the deployment's default.
      runtime: $get('runtime', options.defaultRuntime),
      updatedAt: new Date(options.now).toISOString(),
    })
    .send();
  return { ok: true, llm: parsed.data };
}

/** Removes the user's own LLM choice: their agent uses the deployment default again. */
export async function resetUserModel(storage: Storage, userId: string, now: number): Promise<void> {
  const { Item } = await storage.UserSettingsEntity.build(GetItemCommand).key({ userId }).send();
  if (!Item?.llm) return;
  await storage.UserSettingsEntity.build(UpdateItemCommand)
    .item({ userId, llm: $remove(), updatedAt: new Date(now).toISOString() })
    .send();
}
