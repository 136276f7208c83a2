import type { Storage } from '../../schemas/table.ts';
import { liveConnectionsOf } from '../../schemas/web-connections.ts';

/**
 * A user's open connections, remembered for a short while: a streamed reply is many deltas, and each one
 * would otherwise query the user's connections again. A caller that must not miss a connection opened
 * just now (the completed frame) asks for a fresh list; a connection found gone is forgotten at once.
 */
export function createLiveConnections(storage: Storage, options: { ttlMs: number; now: () => number }) {
  const cache = new Map<string, { connectionIds: string[]; readAt: number }>();

  return {
    async of(userId: string, fresh: boolean): Promise<{ connectionIds: string[]; cached: boolean }> {
      const hit = cache.get(userId);
      if (!fresh && hit && options.now() - hit.readAt < options.ttlMs) {
        return { connectionIds: hit.connectionIds, cached: true };
      }
      const readAt = options.now();
      const connectionIds = await liveConnectionsOf(storage, userId, readAt);
      cache.set(userId, { connectionIds, readAt });
      // Users who stopped chatting need not stay in memory: drop what has expired now and then.
      if (cache.size > 1_000) {
        for (const [id, entry] of cache) if (readAt - entry.readAt >= options.ttlMs) cache.delete(id);
      }
      return { connectionIds, cached: false };
    },

    forget(userId: string, connectionId: string): void {
      const hit = cache.get(userId);
      if (hit) hit.connectionIds = hit.connectionIds.filter((id) => id !== connectionId);
    },
  };
}
