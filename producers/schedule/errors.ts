/** The part of a schedule a {@link ScheduleExpressionError} is about, so a form can highlight it. */
export type ScheduleField =
  | 'expression'
  | 'timeZone'
  | 'at'
  | 'rate'
  | 'minutes'
  | 'hours'
  | 'day-of-month'
  | 'month'
  | 'day-of-week'
  | 'year';

/**
 * A schedule expression or time zone that EventBridge Scheduler would reject (or that we refuse because
 * AWS does not document it). The message is written for the person who typed the schedule: it names
 * the field and says what to write instead, e.g.
 * `cron: day-of-month and day-of-week cannot both be set; use ? in one of them.`
 */
export class ScheduleExpressionError extends Error {
  /** Which part of the schedule is wrong. */
  readonly field: ScheduleField;

  constructor(field: ScheduleField, message: string) {
    super(message);
    this.name = 'ScheduleExpressionError';
    this.field = field;
  }
}

/** Quotes user input in a message without letting a huge paste flood it. */
export function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
