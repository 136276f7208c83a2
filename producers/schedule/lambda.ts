import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { createPublisher } from '../../bus/index.ts';
import { observe } from '../../bus/observability.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';
import { createAwsRetryFirer } from './aws-scheduler.ts';
import { createScheduleFiredHandler } from './fired.ts';
import { createRunOutcomeHandler } from './run-outcome.ts';

let handlers:
  | {
      fired: ReturnType<typeof createScheduleFiredHandler>;
      outcome: ReturnType<typeof createRunOutcomeHandler>;
    }
  | undefined;

/**
 * Lambda entry of the schedule producer (bus target `schedule-producer`): turns each `ScheduleFired.v1`
 * from EventBridge Scheduler into the owner's `MessageReceived`, and each failed `ReplyCompleted.v1` of a
 * scheduled run into a retry (a one-time schedule) or, after the last attempt, a report to the user.
 * Env: TABLE_NAME, EVENT_BUS_NAME, and for retries SCHEDULE_GROUP_NAME, EVENT_BUS_ARN, SCHEDULER_ROLE_ARN,
 * SCHEDULE_DLQ_ARN. It throws only when the bus should retry.
 */
async function entry(envelope: BusEnvelope): Promise<void> {
  if (!handlers) {
    const storage = createStorage();
    const publisher = createPublisher();
    const logger = new Logger({ serviceName: 'schedule-producer' });
    handlers = {
      fired: createScheduleFiredHandler({ storage, publisher, logger }),
      outcome: createRunOutcomeHandler({ storage, publisher, logger, retry: createAwsRetryFirer() }),
    };
  }
  if (envelope['detail-type'] === 'ReplyCompleted.v1') await handlers.outcome(envelope);
  else await handlers.fired(envelope);
}

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(middy(entry));
