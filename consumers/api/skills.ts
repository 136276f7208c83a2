import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { observe, traced } from '../../bus/observability.ts';
import { SKILL_LIMITS, SkillNameSchema, SkillUpdateSchema } from '../../schemas/api.ts';
import { IdSchema } from '../../schemas/index.ts';
import { SkillPackageError } from '../../schemas/skill-errors.ts';
import { readSkillUpload, skillUploadKind } from '../../schemas/skill-package.ts';
import { skillView } from '../../schemas/skill-storage.ts';
import { createStorage } from '../../schemas/table.ts';
import {
  createSkillStore,
  SkillConflictError,
  SkillLimitError,
  SkillNotFoundError,
  type SkillStore,
} from './skill-store.ts';

type Response = APIGatewayProxyResultV2;
type Event = APIGatewayProxyEventV2WithJWTAuthorizer;

/** Largest `PATCH` body: `{"enabled":true}` and some whitespace. */
const MAX_PATCH_BYTES = 1024;

const json = (statusCode: number, body: unknown): Response => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const error = (statusCode: number, code: string, message: string): Response =>
  json(statusCode, { code, message });

/** A request refused before it reaches the store; carries its status and code. */
class RequestError extends Error {
  readonly statusCode: number;
  readonly code: string;

  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'RequestError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** Decodes the body (base64 when API Gateway encoded it), refusing it unread when it is over `max`. */
function bodyBytes(event: Event, max: number): Uint8Array {
  const raw = event.body ?? '';
  const tooLarge = () => new RequestError(413, 'BODY_TOO_LARGE', `The body may be at most ${max} bytes.`);
  // Checked before decoding, so a huge body is never copied: base64 is four characters per three bytes,
  // and UTF-8 at least one byte per UTF-16 unit.
  if (raw.length > (event.isBase64Encoded ? Math.ceil(max / 3) * 4 : max)) throw tooLarge();
  const bytes = Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > max) throw tooLarge();
  return bytes;
}

function uploadOf(event: Event) {
  const contentType = event.headers?.['content-type'];
  const kind = skillUploadKind(contentType);
  if (!kind) {
    throw new RequestError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Upload a SKILL.md as text/markdown or a skill folder as application/zip.',
    );
  }
  const max = kind === 'zip' ? SKILL_LIMITS.maxZipBytes : SKILL_LIMITS.maxSkillMdBytes;
  const bytes = bodyBytes(event, max);
  if (bytes.length === 0)
    throw new RequestError(400, 'EMPTY_BODY', 'Send the SKILL.md or the zip as the body.');
  return readSkillUpload(contentType, bytes);
}

function enabledOf(event: Event): boolean {
  const type = event.headers?.['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new RequestError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  const text = Buffer.from(bodyBytes(event, MAX_PATCH_BYTES)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RequestError(400, 'INVALID_JSON', 'The body is not valid JSON.');
  }
  const result = SkillUpdateSchema.safeParse(parsed);
  if (!result.success) {
    throw new RequestError(
      400,
      'INVALID_SKILL_UPDATE',
      'Send {"enabled": true} or {"enabled": false}, nothing else.',
    );
  }
  return result.data.enabled;
}

function nameOf(event: Event): string {
  const name = event.pathParameters?.name;
  if (name === undefined || !SkillNameSchema.safeParse(name).success) {
    throw new RequestError(
      400,
      'INVALID_SKILL_NAME',
      'The skill name in the path is not a valid skill name.',
    );
  }
  return name;
}

/** Store and validation errors as responses; undefined for anything unexpected. */
function refusal(cause: unknown): Response | undefined {
  if (cause instanceof RequestError || cause instanceof SkillPackageError) {
    return error(cause.statusCode, cause.code, cause.message);
  }
  if (cause instanceof SkillNotFoundError) return error(404, 'NOT_FOUND', cause.message);
  if (cause instanceof SkillLimitError) return error(409, 'TOO_MANY_SKILLS', cause.message);
  if (cause instanceof SkillConflictError) return error(409, 'CONFLICT', cause.message);
  return undefined;
}

/** The logging the handler needs; Powertools' Logger fits. */
export interface SkillsLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/**
 * The management API for custom skills (API Gateway HTTP API, JWT authorizer), one route per `routeKey`:
 *
 * | Route | Success |
 * | --- | --- |
 * | `GET /v1/skills` | 200 `{ skills }` |
 * | `POST /v1/skills` (`text/markdown` SKILL.md or `application/zip` folder) | 201 new / 200 replaced skill |
 * | `PATCH /v1/skills/{name}` `{ enabled }` | 200 skill |
 * | `DELETE /v1/skills/{name}` | 204 |
 *
 * The user comes only from the verified JWT's `sub`, and every read and write is keyed by it, so another
 * user's skill answers 404 like one that never existed. Refusals are `{ code, message }` with a 4xx.
 */
export function createSkillsHandler(deps: { skills: SkillStore; logger: SkillsLogger }) {
  const { skills, logger } = deps;

  async function route(event: Event, userId: string): Promise<Response> {
    switch (event.routeKey) {
      case 'GET /v1/skills':
        return json(200, { skills: (await skills.list(userId)).map(skillView) });

      case 'POST /v1/skills': {
        const upload = uploadOf(event);
        const { skill, created } = await skills.put(userId, upload);
        logger.info(created ? 'skill created' : 'skill replaced', {
          userId,
          skill: skill.name,
          files: skill.files,
          bytes: skill.bytes,
          version: skill.version,
        });
        return json(created ? 201 : 200, skillView(skill));
      }

      case 'PATCH /v1/skills/{name}': {
        const name = nameOf(event);
        const skill = await skills.setEnabled(userId, name, enabledOf(event));
        logger.info('skill updated', { userId, skill: name, enabled: skill.enabled });
        return json(200, skillView(skill));
      }

      case 'DELETE /v1/skills/{name}': {
        const name = nameOf(event);
        await skills.delete(userId, name);
        logger.info('skill deleted', { userId, skill: name });
        return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
      }

      default:
        return error(404, 'NO_SUCH_ROUTE', 'No such route.');
    }
  }

  return async function skillsApi(event: Event): Promise<Response> {
    const sub = event.requestContext?.authorizer?.jwt?.claims?.sub;
    if (typeof sub !== 'string' || !IdSchema.safeParse(sub).success) {
      logger.warn('skills request without a usable subject', { routeKey: event.routeKey });
      return error(401, 'UNAUTHORIZED', 'Sign in again.');
    }
    try {
      return await route(event, sub);
    } catch (cause) {
      const response = refusal(cause);
      if (response) {
        logger.warn('skills request refused', {
          userId: sub,
          routeKey: event.routeKey,
          status: (response as { statusCode: number }).statusCode,
          code: (cause as { code?: string }).code,
          reason: (cause as Error).message,
        });
        return response;
      }
      logger.error('skills request failed', { userId: sub, routeKey: event.routeKey, error: cause });
      return error(500, 'INTERNAL', 'Something went wrong on our side; try again.');
    }
  };
}

let defaultHandler: ReturnType<typeof createSkillsHandler> | undefined;

/** Lambda entry: TABLE_NAME for the `Skill` items, STATE_BUCKET for the files (under `skills/`). */
const entry = middy<Event, Response>().handler((event) => {
  const bucket = process.env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET');
  defaultHandler ??= createSkillsHandler({
    skills: createSkillStore({
      storage: createStorage(),
      s3: traced(new S3Client({ requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 } })),
      bucket,
    }),
    logger: new Logger({ serviceName: 'api-skills' }),
  });
  return defaultHandler(event);
});

/** The Lambda entry, traced and with its cold starts counted (bus/observability.ts). */
export const handler = observe(entry);
