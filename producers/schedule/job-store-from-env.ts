import type { Storage } from '../../schemas/table.ts';
import { createAwsJobScheduler } from './aws-scheduler.ts';
import { createJobStore, type JobStore } from './jobs.ts';

/**
 * The job store on AWS for a Lambda that manages jobs besides `/v1/schedules` (the chat producers, for
 * `/schedule`): EventBridge Scheduler from SCHEDULE_GROUP_NAME, EVENT_BUS_ARN, SCHEDULER_ROLE_ARN and
 * SCHEDULE_DLQ_ARN. Undefined when SCHEDULE_GROUP_NAME is not set, so a deployment without scheduled
 * jobs still runs its chat commands (`/schedule` then says jobs are not set up).
 */
export function jobStoreFromEnv(
  storage: Storage,
  env: Record<string, string | undefined> = process.env,
): JobStore | undefined {
  if (!env.SCHEDULE_GROUP_NAME) return undefined;
  return createJobStore({ storage, scheduler: createAwsJobScheduler() });
}
