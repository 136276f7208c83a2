import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { observe } from '../../bus/observability.ts';
import {
  createAwsJobScheduler,
  createJobStore,
  JobConflictError,
  JobEditSchema,
  JobInputSchema,
  JobLimitError,
  JobNotFoundError,
  JobSchedulerError,
  type JobStore,
  JobValidationError,
  type ScheduleJob,
  type VersionGuard,
} from '../../producers/schedule/index.ts';
import { IdSchema } from '../../schemas/index.ts';
import { createStorage } from '../../schemas/table.ts';
import { ApiRequestError, readJsonBody } from './http.ts';

/** Largest request body we read, in bytes: a job is a prompt (≤ 4000 characters) and a few short fields. */
export const MAX_BODY_BYTES = 16 * 1024;

type Response = APIGatewayProxyResultV2;
type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): Response => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

const error = (statusCode: number, code: string, message: string, extra: object = {}): Response =>
  json(statusCode, { code, message, ...extra });

/** A request we refuse before it reaches the store; carries the response to send. */
class RequestError extends Error {
  readonly response: Response;

  constructor(statusCode: number, code: string, message: string, extra: object = {}) {
    super(message);
    this.name = 'RequestError';
    this.response = error(statusCode, code, message, extra);
  }
}

/** What the API shows of a job: the caller's own id is left out, `nextFireAt` is ISO like the other times. */
function view(job: ScheduleJob) {
  const { userId: _userId, nextFireAt, ...rest } = job;
  return { ...rest, nextFireAt: nextFireAt === undefined ? null : new Date(nextFireAt).toISOString() };
}

/** The job and its version as an ETag, so a client can send it back as `If-Match` on its next change. */
const jobResponse = (statusCode: number, job: ScheduleJob): Response =>
  json(statusCode, view(job), { etag: `"${job.version}"` });

/** Reads a JSON object body: size-capped, JSON only, parsed without throwing (the API's shared reader). */
function readBody(event: Event): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = readJsonBody(event, MAX_BODY_BYTES);
  } catch (cause) {
    if (cause instanceof ApiRequestError) throw new RequestError(cause.statusCode, cause.code, cause.message);
    throw cause;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RequestError(400, 'INVALID_JSON', 'The body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** Refuses fields the schema does not know, naming them (the store would refuse them less clearly). */
function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new RequestError(
      400,
      'UNKNOWN_FIELD',
      `Unknown field(s): ${unknown.map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}. Allowed: ${allowed.join(', ')}.`,
      { fields: unknown.map((key) => key.slice(0, 40)).slice(0, 10) },
    );
  }
}

const CREATE_FIELDS = Object.keys(JobInputSchema.shape);
const EDIT_FIELDS = Object.keys(JobEditSchema.shape);

function jobIdOf(event: Event): string {
  const jobId = event.pathParameters?.jobId;
  if (jobId === undefined || !IdSchema.safeParse(jobId).success) {
    throw new RequestError(400, 'INVALID_JOB_ID', 'The job id in the path is not a valid id.');
  }
  return jobId;
}

/** `If-Match: "3"` (the ETag of a job response) makes a change conditional on that version. */
function guardOf(event: Event): VersionGuard {
  const header = event.headers?.['if-match'];
  if (header === undefined || header.trim() === '*') return {};
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new RequestError(400, 'INVALID_IF_MATCH', 'If-Match must be the ETag of the job, such as "3".');
  }
  return { version: Number(match[1]) };
}

/** Store errors as responses: each with the store's message, which is written for the user. */
function storeErrorResponse(cause: unknown): Response | undefined {
  if (cause instanceof JobValidationError) {
    return error(400, 'INVALID_JOB', cause.message, { field: cause.field });
  }
  if (cause instanceof JobLimitError) {
    // 422, not 429: waiting and retrying does not help, and clients retry 429 on their own.
    return error(422, cause.limit === 'jobs' ? 'TOO_MANY_JOBS' : 'TOO_FREQUENT', cause.message);
  }
  if (cause instanceof JobNotFoundError) {
    return error(404, 'NOT_FOUND', 'No scheduled job with this id.');
  }
  if (cause instanceof JobConflictError) {
    return cause.currentVersion === undefined
      ? error(404, 'NOT_FOUND', 'No scheduled job with this id.')
      : error(409, 'VERSION_CONFLICT', cause.message, { currentVersion: cause.currentVersion });
  }
  if (cause instanceof JobSchedulerError) {
    // A dependency (EventBridge Scheduler) refused: a gateway error, honestly 502, with the store's
    // message (it says whether anything changed); never the AWS error itself.
    return error(502, 'SCHEDULER_UNAVAILABLE', cause.message, { retryable: cause.restored });
  }
  return undefined;
}

/** The logging the handler needs; Powertools' Logger fits. */
export interface SchedulesLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/**
 * The management API for scheduled agent jobs (API Gateway HTTP API, JWT authorizer), one route per
 * `routeKey`:
 *
 * | Route | Success |
 * | --- | --- |
 * | `GET /v1/schedules` | 200 `{ schedules }` |
 * | `POST /v1/schedules` | 201 job |
 * | `GET /v1/schedules/{jobId}` | 200 job |
 * | `PATCH /v1/schedules/{jobId}` | 200 job |
 * | `DELETE /v1/schedules/{jobId}` | 204 |
 * | `POST /v1/schedules/{jobId}/pause` | 200 job |
 * | `POST /v1/schedules/{jobId}/resume` | 200 job |
 *
 * The user id comes only from the verified JWT, and every read and write is keyed by it, so another
 * user's job id answers 404 exactly like one that never existed. Changes honour `If-Match` (the job's
 * ETag, its version) and answer 409 when someone changed the job meanwhile.
 */
export function createSchedulesHandler(deps: { jobs: JobStore; logger: SchedulesLogger }) {
  const { jobs, logger } = deps;

  async function route(event: Event, userId: string): Promise<Response> {
    switch (event.routeKey) {
      case 'GET /v1/schedules':
        return json(200, { schedules: (await jobs.list(userId)).map(view) });

      case 'POST /v1/schedules': {
        const body = readBody(event);
        rejectUnknownFields(body, CREATE_FIELDS);
        if (body.replyTo === undefined) {
          // No sensible default: a web connection id does not outlive the tab, so the client says where.
          throw new RequestError(
            400,
            'MISSING_REPLY_TO',
            'replyTo is required: where the job\'s replies go, such as {"channel":"web","address":{...}}.',
            { field: 'replyTo' },
          );
        }
        // Without one, each job talks in a conversation of its own, apart from the user's chats.
        const conversationId = body.conversationId ?? `schedule-${randomUUID()}`;
        const job = await jobs.create(userId, { ...body, conversationId } as Parameters<
          JobStore['create']
        >[1]);
        logger.info('scheduled job created', { userId, jobId: job.jobId });
        return jobResponse(201, job);
      }

      case 'GET /v1/schedules/{jobId}': {
        const job = await jobs.get(userId, jobIdOf(event));
        return job ? jobResponse(200, job) : error(404, 'NOT_FOUND', 'No scheduled job with this id.');
      }

      case 'PATCH /v1/schedules/{jobId}': {
        const jobId = jobIdOf(event);
        const body = readBody(event);
        rejectUnknownFields(body, EDIT_FIELDS);
        if (Object.keys(body).length === 0) {
          throw new RequestError(400, 'EMPTY_EDIT', `Send at least one of: ${EDIT_FIELDS.join(', ')}.`);
        }
        const job = await jobs.update(
          userId,
          jobId,
          body as Parameters<JobStore['update']>[2],
          guardOf(event),
        );
        logger.info('scheduled job updated', { userId, jobId, version: job.version });
        return jobResponse(200, job);
      }

      case 'DELETE /v1/schedules/{jobId}': {
        const jobId = jobIdOf(event);
        await jobs.delete(userId, jobId, guardOf(event));
        logger.info('scheduled job deleted', { userId, jobId });
        return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
      }

      case 'POST /v1/schedules/{jobId}/pause':
      case 'POST /v1/schedules/{jobId}/resume': {
        const jobId = jobIdOf(event);
        const action = event.routeKey.endsWith('/pause') ? 'pause' : 'resume';
        const job = await jobs[action](userId, jobId, guardOf(event));
        logger.info(`scheduled job ${action}d`, { userId, jobId, version: job.version });
        return jobResponse(200, job);
      }

      default:
        return error(404, 'NO_SUCH_ROUTE', 'No such route.');
    }
  }

  return async function schedules(event: Event): Promise<Response> {
    const sub = event.requestContext?.authorizer?.jwt?.claims?.sub;
    if (typeof sub !== 'string' || !IdSchema.safeParse(sub).success) {
      logger.warn('schedules request without a usable subject', { routeKey: event.routeKey });
      return error(401, 'UNAUTHORIZED', 'Sign in again.');
    }
    try {
      return await route(event, sub);
    } catch (cause) {
      if (cause instanceof RequestError) {
        logger.warn('schedules request refused', {
          userId: sub,
          routeKey: event.routeKey,
          status: (cause.response as { statusCode: number }).statusCode,
          reason: cause.message,
        });
        return cause.response;
      }
      const response = storeErrorResponse(cause);
      if (response) {
        const log = cause instanceof JobSchedulerError ? logger.error : logger.warn;
        log.call(logger, 'schedules request refused by the job store', {
          userId: sub,
          routeKey: event.routeKey,
          status: (response as { statusCode: number }).statusCode,
          error: cause,
        });
        return response;
      }
      logger.error('schedules request failed', { userId: sub, routeKey: event.routeKey, error: cause });
      return error(500, 'INTERNAL', 'Something went wrong on our side; try again.');
    }
  };
}

let defaultHandler: ReturnType<typeof createSchedulesHandler> | undefined;

/**
 * Lambda entry: TABLE_NAME for the store; SCHEDULE_GROUP_NAME, EVENT_BUS_ARN, SCHEDULER_ROLE_ARN and
 * SCHEDULE_DLQ_ARN for EventBridge Scheduler (see `createAwsJobScheduler`).
 */
const entry = middy<Event, Response>().handler((event) => {
  defaultHandler ??= createSchedulesHandler({
    jobs: createJobStore({ storage: createStorage(), scheduler: createAwsJobScheduler() }),
    logger: new Logger({ serviceName: 'api-schedules' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
