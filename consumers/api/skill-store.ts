import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteItemCommand } from 'dynamodb-toolbox/entity/actions/delete';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { SKILL_LIMITS } from '../../schemas/api.ts';
import type { SkillPackage } from '../../schemas/skill-package.ts';
import {
  fromSkillItem,
  listStoredSkills,
  type StoredSkill,
  skillFileKey,
} from '../../schemas/skill-storage.ts';
import { isConditionalCheckFailure, type Storage } from '../../schemas/table.ts';

/** No skill of that name for this user (also what another user's skill looks like). */
export class SkillNotFoundError extends Error {
  constructor(name: string) {
    super(`No skill named "${name}".`);
    this.name = 'SkillNotFoundError';
  }
}

/** The user has as many skills as allowed; a new one needs another deleted first. */
export class SkillLimitError extends Error {
  readonly limit: number;

  constructor(limit: number) {
    super(`You can keep at most ${limit} skills; delete one before adding another.`);
    this.name = 'SkillLimitError';
    this.limit = limit;
  }
}

/** The skill changed between our read and our write (two uploads at once); nothing was changed. */
export class SkillConflictError extends Error {
  constructor(name: string) {
    super(`The skill "${name}" was changed at the same time; try again.`);
    this.name = 'SkillConflictError';
  }
}

/** What {@link createSkillStore} needs. */
export interface SkillStoreOptions {
  storage: Storage;
  s3: S3Client;
  /** The state bucket. */
  bucket: string;
  /** @default SKILL_LIMITS.maxSkillsPerUser */
  maxSkillsPerUser?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Files uploaded at a time: a skill has at most 100, one at a time would take seconds. */
const UPLOAD_CONCURRENCY = 8;

/**
 * Stores users' custom skills: files in S3 under a version prefix, then the `Skill` item pointing at
 * them (a conditional write on the version read, so two uploads at once cannot both win), then the
 * previous version's files are removed. A crash between the steps leaves unreferenced files, never an
 * item pointing at missing ones.
 */
export function createSkillStore(options: SkillStoreOptions) {
  const { storage, s3, bucket } = options;
  const maxSkills = options.maxSkillsPerUser ?? SKILL_LIMITS.maxSkillsPerUser;
  const now = options.now ?? Date.now;
  const entity = storage.SkillEntity;

  async function get(userId: string, name: string): Promise<StoredSkill | undefined> {
    const { Item } = await entity
      .build(GetItemCommand)
      .key({ userId, name })
      .options({ consistent: true })
      .send();
    return Item ? fromSkillItem(Item) : undefined;
  }

  async function removeFiles(skill: Pick<StoredSkill, 'userId' | 'name' | 'version' | 'paths'>) {
    const keys = skill.paths.map((path) => skillFileKey(skill.userId, skill.name, skill.version, path));
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }

  async function write(skill: StoredSkill, previous: StoredSkill | undefined): Promise<void> {
    const { paths, ...rest } = skill;
    try {
      await entity
        .build(PutItemCommand)
        .item({ ...rest, paths: JSON.stringify(paths) })
        .options({
          condition: previous
            ? { attr: 'version', eq: previous.version }
            : { attr: 'version', exists: false },
        })
        .send();
    } catch (error) {
      if (isConditionalCheckFailure(error)) throw new SkillConflictError(skill.name);
      throw error;
    }
  }

  return {
    /** The user's skills, by name. */
    list: (userId: string) => listStoredSkills(storage, userId),

    get,

    /**
     * Stores a validated package under its name, replacing a skill of that name (keeping its `enabled`).
     * @returns the stored skill and whether it is new
     * @throws SkillLimitError, SkillConflictError
     */
    async put(userId: string, pkg: SkillPackage): Promise<{ skill: StoredSkill; created: boolean }> {
      const previous = await get(userId, pkg.name);
      // Counted, not enforced atomically: two first uploads at once may end one over the limit. The
      // limit bounds prompt size and storage, which one extra skill does not threaten.
      if (!previous && (await listStoredSkills(storage, userId)).length >= maxSkills) {
        throw new SkillLimitError(maxSkills);
      }
      const skill: StoredSkill = {
        userId,
        name: pkg.name,
        description: pkg.description,
        enabled: previous?.enabled ?? true,
        paths: pkg.files.map((file) => file.path),
        files: pkg.files.length,
        bytes: pkg.bytes,
        version: pkg.version,
        updatedAt: new Date(now()).toISOString(),
      };
      const queue = [...pkg.files];
      const uploadNext = async (): Promise<void> => {
        for (let file = queue.shift(); file; file = queue.shift()) {
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: skillFileKey(userId, pkg.name, pkg.version, file.path),
              Body: file.bytes,
              ContentType: file.path.endsWith('.md')
                ? 'text/markdown; charset=utf-8'
                : 'application/octet-stream',
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, uploadNext));
      try {
        await write(skill, previous);
      } catch (error) {
        // Same content, same keys: only remove what no item points at.
        if (previous?.version !== pkg.version) await removeFiles(skill).catch(() => undefined);
        throw error;
      }
      if (previous && previous.version !== pkg.version) await removeFiles(previous);
      return { skill, created: !previous };
    },

    /**
     * Turns a skill on or off for the agent's next turn.
     * @throws SkillNotFoundError
     */
    async setEnabled(userId: string, name: string, enabled: boolean): Promise<StoredSkill> {
      const previous = await get(userId, name);
      if (!previous) throw new SkillNotFoundError(name);
      const skill = { ...previous, enabled, updatedAt: new Date(now()).toISOString() };
      await write(skill, previous);
      return skill;
    },

    /**
     * Deletes a skill and its files.
     * @throws SkillNotFoundError
     */
    async delete(userId: string, name: string): Promise<void> {
      const previous = await get(userId, name);
      if (!previous) throw new SkillNotFoundError(name);
      try {
        await entity
          .build(DeleteItemCommand)
          .key({ userId, name })
          .options({ condition: { attr: 'version', eq: previous.version } })
          .send();
      } catch (error) {
        if (isConditionalCheckFailure(error)) throw new SkillConflictError(name);
        throw error;
      }
      await removeFiles(previous);
    },
  };
}

export type SkillStore = ReturnType<typeof createSkillStore>;
