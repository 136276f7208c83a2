import { jobStoreFromEnv } from '../../producers/schedule/job-store-from-env.ts';
import type { Storage } from '../../schemas/table.ts';
import type { ScheduleToolsDeps } from './schedule-tools.ts';

/**
 * The schedule tools' dependencies on AWS: the job store on EventBridge Scheduler from SCHEDULE_GROUP_NAME,
 * EVENT_BUS_ARN, SCHEDULER_ROLE_ARN and SCHEDULE_DLQ_ARN. Undefined without SCHEDULE_GROUP_NAME: the
 * agent then offers no schedule tools.
 */
export function scheduleToolsFromEnv(
  storage: Storage,
  env: Record<string, string | undefined> = process.env,
): ScheduleToolsDeps | undefined {
  const jobs = jobStoreFromEnv(storage, env);
  return jobs ? { jobs } : undefined;
}
