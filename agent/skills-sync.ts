import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Publisher } from '../bus/index.ts';
import { traced } from '../bus/observability.ts';
import { SKILL_LIMITS } from '../schemas/api.ts';
import { EventSources, type MessageReceived } from '../schemas/index.ts';
import { SkillPackageError } from '../schemas/skill-errors.ts';
import { validateSkillFiles } from '../schemas/skill-package.ts';
import { listStoredSkills, type StoredSkill, skillFileKey } from '../schemas/skill-storage.ts';
import { checkSkillPath, type SkillFile } from '../schemas/skill-zip.ts';
import type { Storage } from '../schemas/table.ts';
import type { S3Credentials } from './runtime/user-scoped-s3.ts';
import { createAgentS3Client } from './s3-client.ts';

/** The logging the sync needs; Powertools' Logger fits. */
export interface SkillsSyncLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What {@link createSkillsSync} needs. */
export interface SkillsSyncOptions {
  storage: Storage;
  /** @default a client for the environment's region and endpoint (`AWS_ENDPOINT_URL_S3` locally) */
  s3?: S3Client;
  /** The S3 client's credentials (a Fargate task's, scoped to its user); the default chain otherwise. */
  credentials?: S3Credentials;
  /** @default process.env.STATE_BUCKET */
  bucket?: string;
  /** Where a skipped skill is reported to the user (an `AgentStatusChanged`); none: only logged. */
  publisher?: Publisher;
  logger: SkillsSyncLogger;
}

/** What one sync did: the skill names OpenClaw may load this turn, and what it skipped and why. */
export interface SkillsSyncResult {
  names: string[];
  /** Skills downloaded this time (0 when the workspace copy was current: the cache hit). */
  downloaded: number;
  /**
   * The folder's skills differ from what the previous sync left (a skill added, replaced or removed):
   * OpenClaw must be told to look again (`skillsChanged` of the turn), or a warm runtime keeps listing
   * the skills it found the first time.
   */
  changed: boolean;
  warnings: string[];
}

/** The folder under the workspace where OpenClaw 2026.9.6 loads workspace skills from. */
export const WORKSPACE_SKILLS_DIR = 'skills';
/** Which version of each skill the folder holds; travels with the workspace (and its state archive). */
const MANIFEST = '.synced-versions.json';
const DOWNLOAD_CONCURRENCY = 8;

/**
 * Keeps a user's workspace `skills/` folder equal to their ENABLED custom skills before a turn.
 *
 * Only that user's items are read (the query is keyed by the turn's user) and only their prefix is
 * downloaded. A manifest of the versions already unpacked is the cache: a skill whose version did not
 * change is not downloaded again, so a warm runtime (or a restored workspace) costs one DynamoDB query.
 * Disabled and deleted skills, and anything else in the folder, are removed. A skill that fails the
 * same checks as an upload (or cannot be downloaded) is skipped with a warning to the user; the sync
 * itself never throws, so a turn never fails because of a skill.
 */
export function createSkillsSync(options: SkillsSyncOptions) {
  const { storage, logger, publisher } = options;
  const bucket = options.bucket ?? process.env.STATE_BUCKET;
  if (!bucket) throw new Error('No state bucket: set STATE_BUCKET or pass { bucket } to createSkillsSync()');
  const s3 =
    options.s3 ?? traced(createAgentS3Client({ requestTimeoutMs: 10_000, credentials: options.credentials }));

  async function download(skill: StoredSkill): Promise<SkillFile[]> {
    if (skill.paths.length === 0 || skill.paths.length > SKILL_LIMITS.maxFiles) {
      throw new SkillPackageError(422, 'INVALID_FILE_LIST', 'its stored file list is empty or too long');
    }
    for (const path of skill.paths) checkSkillPath(path);
    let budget = SKILL_LIMITS.maxUnpackedBytes;
    const files: SkillFile[] = [];
    const queue = [...skill.paths];
    const next = async (): Promise<void> => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
        const object = await s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: skillFileKey(skill.userId, skill.name, skill.version, path),
          }),
        );
        // Never read more than the limit, whatever was put in the bucket.
        if ((object.ContentLength ?? 0) > budget) {
          object.Body?.transformToWebStream().cancel();
          throw new SkillPackageError(413, 'UNPACKED_TOO_LARGE', 'its files are over the size limit');
        }
        const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array(0);
        budget -= bytes.length;
        if (budget < 0)
          throw new SkillPackageError(413, 'UNPACKED_TOO_LARGE', 'its files are over the size limit');
        files.push({ path, bytes });
      }
    };
    await Promise.all(Array.from({ length: DOWNLOAD_CONCURRENCY }, next));
    const checked = validateSkillFiles(files);
    if (checked.name !== skill.name) {
      throw new SkillPackageError(422, 'NAME_MISMATCH', `its SKILL.md names "${checked.name}"`);
    }
    return files;
  }

  /** Writes the files into a fresh folder next to the target, then swaps it in. */
  async function install(skillsDir: string, name: string, files: SkillFile[]): Promise<void> {
    const staging = join(skillsDir, `.staging-${name}-${randomUUID().slice(0, 8)}`);
    try {
      for (const file of files) {
        const target = join(staging, file.path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, file.bytes);
      }
      await rm(join(skillsDir, name), { recursive: true, force: true });
      await rename(staging, join(skillsDir, name));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async function warn(message: MessageReceived, text: string): Promise<void> {
    if (!publisher) return;
    const { userId, conversationId, replyTo, messageId } = message;
    await publisher
      .publish({
        source: EventSources.agent,
        detailType: 'AgentStatusChanged.v1',
        detail: {
          userId,
          conversationId,
          replyTo,
          inReplyTo: messageId,
          status: 'working',
          message: text.slice(0, 500),
        },
      })
      .catch((error) => logger.warn('skill warning not published', { error: error as Error }));
  }

  async function sync(message: MessageReceived, workspaceDir: string): Promise<SkillsSyncResult> {
    const { userId } = message;
    const skillsDir = join(workspaceDir, WORKSPACE_SKILLS_DIR);
    const stored = (await listStoredSkills(storage, userId)).filter((skill) => skill.enabled);
    await mkdir(skillsDir, { recursive: true });
    const synced = await readManifest(skillsDir);
    const present = new Set(await readdir(skillsDir));
    const next: Record<string, string> = {};
    const warnings: string[] = [];
    let downloaded = 0;
    for (const skill of stored) {
      if (synced[skill.name] === skill.version && present.has(skill.name)) {
        next[skill.name] = skill.version;
        continue;
      }
      try {
        await install(skillsDir, skill.name, await download(skill));
        next[skill.name] = skill.version;
        downloaded += 1;
      } catch (error) {
        const reason = error instanceof SkillPackageError ? error.message : 'it could not be downloaded';
        logger.warn('custom skill skipped', { userId, skill: skill.name, reason, error: error as Error });
        warnings.push(`Skill "${skill.name}" was skipped: ${reason}. Upload it again to fix it.`);
      }
    }
    // Disabled, deleted or skipped skills, and anything that is not ours, leave the folder.
    for (const entry of await readdir(skillsDir)) {
      if (entry !== MANIFEST && !Object.hasOwn(next, entry))
        await rm(join(skillsDir, entry), { recursive: true, force: true });
    }
    await writeFile(join(skillsDir, MANIFEST), JSON.stringify(next));
    for (const text of warnings) await warn(message, text);
    const names = Object.keys(next).sort();
    const before = Object.keys(synced).sort();
    const changed =
      downloaded > 0 || names.length !== before.length || names.some((name, i) => name !== before[i]);
    if (downloaded > 0 || warnings.length > 0) {
      logger.info('custom skills synced', {
        userId,
        skills: names.length,
        downloaded,
        skipped: warnings.length,
      });
    }
    return { names, downloaded, changed, warnings };
  }

  /** Syncs the message's user's skills into `workspaceDir/skills`; never throws. */
  return async function syncSkills(
    message: MessageReceived,
    workspaceDir: string,
  ): Promise<SkillsSyncResult> {
    try {
      return await sync(message, workspaceDir);
    } catch (error) {
      // No allow-listed names: OpenClaw loads none of the folder, whatever state it was left in.
      logger.warn('custom skills unavailable; turn runs without them', {
        userId: message.userId,
        error: error as Error,
      });
      const text = 'Your custom skills could not be loaded for this message; the agent answers without them.';
      await warn(message, text);
      return { names: [], downloaded: 0, changed: true, warnings: [text] };
    }
  };
}

export type SkillsSync = ReturnType<typeof createSkillsSync>;

async function readManifest(skillsDir: string): Promise<Record<string, string>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(skillsDir, MANIFEST), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}
