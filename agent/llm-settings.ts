import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { type LlmSettings, UserLlmSettingsSchema } from '../schemas/index.ts';
import type { Storage } from '../schemas/table.ts';

/**
 * The user's own choice if they made one, else the deployment default. Stored settings that no longer
 * validate (hand-edited, or from an older schema) fall back to the default with a warning, not silently.
 */
export async function resolveLlmSettings(
  storage: Storage,
  userId: string,
  fallback: LlmSettings | undefined,
  warn: (message: string) => void = () => undefined,
): Promise<LlmSettings | undefined> {
  const { Item } = await storage.UserSettingsEntity.build(GetItemCommand).key({ userId }).send();
  if (!Item?.llm) return fallback;
  let stored: unknown;
  try {
    stored = JSON.parse(Item.llm);
  } catch {
    warn('stored LLM settings are not JSON; using the default');
    return fallback;
  }
  const parsed = UserLlmSettingsSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  warn(`stored LLM settings are invalid (${parsed.error.issues[0]?.path.join('.')}); using the default`);
  return fallback;
}

/**
 * The idle timeout of the user's Fargate task in ms: their own setting (minutes, from the settings page),
 * else `fallbackMs`. A settings read that fails uses the fallback: a task must start all the same.
 */
export async function resolveIdleTimeoutMs(
  storage: Storage,
  userId: string,
  fallbackMs: number,
): Promise<number> {
  try {
    const { Item } = await storage.UserSettingsEntity.build(GetItemCommand).key({ userId }).send();
    const minutes = Item?.idleTimeoutMinutes;
    return typeof minutes === 'number' && Number.isInteger(minutes) && minutes >= 1 && minutes <= 120
      ? minutes * 60_000
      : fallbackMs;
  } catch {
    return fallbackMs;
  }
}
