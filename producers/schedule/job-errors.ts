/** Which input a {@link JobValidationError} is about, so a form or a chat reply can point at it. */
export type JobField =
  | 'prompt'
  | 'expression'
  | 'timeZone'
  | 'replyTo'
  | 'conversationId'
  | 'runtime'
  | 'endDate'
  | 'input';

/** The family of errors the job store throws; each subclass carries what the caller needs to act. */
export class ScheduleJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScheduleJobError';
  }
}

/** The job as given cannot be scheduled; the message says what to write instead. */
export class JobValidationError extends ScheduleJobError {
  readonly field: JobField;

  constructor(field: JobField, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JobValidationError';
    this.field = field;
  }
}

/** A per-user limit refuses the job: too many jobs, or a schedule that fires too often. */
export class JobLimitError extends ScheduleJobError {
  readonly limit: 'jobs' | 'interval';

  constructor(limit: 'jobs' | 'interval', message: string) {
    super(message);
    this.name = 'JobLimitError';
    this.limit = limit;
  }
}

/** The user has no job with this id (never had, or it was deleted). */
export class JobNotFoundError extends ScheduleJobError {
  readonly jobId: string;

  constructor(jobId: string) {
    super(`No scheduled job ${jobId}.`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

/** Someone changed the job since it was read (another tab, the agent): read it again and retry. */
export class JobConflictError extends ScheduleJobError {
  readonly jobId: string;
  /** The version in the table now; undefined when the job is gone. */
  readonly currentVersion: number | undefined;

  constructor(jobId: string, currentVersion: number | undefined) {
    super(
      currentVersion === undefined
        ? `Scheduled job ${jobId} was deleted meanwhile.`
        : `Scheduled job ${jobId} was changed meanwhile (now version ${currentVersion}); read it again and retry.`,
    );
    this.name = 'JobConflictError';
    this.jobId = jobId;
    this.currentVersion = currentVersion;
  }
}

/**
 * The scheduler (EventBridge Scheduler or the local one) refused a change the table already took.
 * `restored` says whether the table was put back as it was: true means nothing changed and the caller
 * may simply retry; false means the table and the scheduler may disagree until the job is saved again.
 */
export class JobSchedulerError extends ScheduleJobError {
  readonly jobId: string;
  readonly action: 'create' | 'update' | 'pause' | 'resume' | 'delete';
  readonly restored: boolean;

  constructor(action: JobSchedulerError['action'], jobId: string, restored: boolean, options: ErrorOptions) {
    super(
      restored
        ? `Could not ${action} scheduled job ${jobId}: the scheduler refused the change, nothing was changed; try again.`
        : `Could not ${action} scheduled job ${jobId}: the scheduler refused the change and undoing it failed; save the job again to bring the scheduler back in line.`,
      options,
    );
    this.name = 'JobSchedulerError';
    this.jobId = jobId;
    this.action = action;
    this.restored = restored;
  }
}
