import { Logger } from '@aws-lambda-powertools/logger';
import { createPublisher } from '../../bus/index.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';
import { createScheduleFiredHandler } from './fired.ts';

let handleFired: ReturnType<typeof createScheduleFiredHandler> | undefined;

/**
 * Lambda entry of the schedule producer (bus target `schedule-producer`): turns each `ScheduleFired.v1`
 * from EventBridge Scheduler into the owner's `MessageReceived`. Env: TABLE_NAME, EVENT_BUS_NAME. It
 * throws only when publishing failed, so the bus retries the fire.
 */
export async function handler(envelope: BusEnvelope): Promise<void> {
  handleFired ??= createScheduleFiredHandler({
    storage: createStorage(),
    publisher: createPublisher(),
    logger: new Logger({ serviceName: 'schedule-producer' }),
  });
  await handleFired(envelope);
}
