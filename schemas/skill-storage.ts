import { QueryCommand } from 'dynamodb-toolbox/table/actions/query';
import type { z } from 'zod';
import type { SkillSchema } from './api.ts';
import type { Storage } from './table.ts';

/*
 * Where custom skills are kept, shared by the management API (writes) and the agent (reads): a `Skill`
 * item per skill in the table, and the files in the state bucket under a prefix per user, skill and
 * content version. A replaced skill gets a new version prefix, so an agent that read the old item still
 * downloads a complete old copy, never half of each.
 */

/** Every skill file's key starts with this; the IAM policies of the API and the agent name it. */
export const SKILLS_PREFIX = 'skills/';

/** `skills/<userId>/`: everything of one user (the user id URL-encoded, as the session store does). */
export const skillUserPrefix = (userId: string) => `${SKILLS_PREFIX}${encodeURIComponent(userId)}/`;

/** The S3 key of one file of one version of a skill. */
export const skillFileKey = (userId: string, name: string, version: string, path: string) =>
  `${skillUserPrefix(userId)}${name}/${version}/${path}`;

/** A skill as stored: the `Skill` item with its file list parsed. */
export interface StoredSkill {
  userId: string;
  name: string;
  description: string;
  enabled: boolean;
  /** Paths relative to the skill folder. */
  paths: string[];
  files: number;
  bytes: number;
  version: string;
  updatedAt: string;
}

/** All of a user's skills, by name (consistent read: a skill just uploaded is seen by the next turn). */
export async function listStoredSkills(storage: Storage, userId: string): Promise<StoredSkill[]> {
  const { Items = [] } = await storage.table
    .build(QueryCommand)
    .entities(storage.SkillEntity)
    .query({ partition: `USER#${userId}`, range: { beginsWith: 'SKILL#' } })
    .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY })
    .send();
  return Items.map(fromSkillItem);
}

/** An item as read from the table; a file list that does not parse counts as empty (and fails checks). */
export function fromSkillItem(item: Omit<StoredSkill, 'paths'> & { paths: string }): StoredSkill {
  let paths: string[] = [];
  try {
    const parsed: unknown = JSON.parse(item.paths);
    if (Array.isArray(parsed) && parsed.every((path) => typeof path === 'string')) paths = parsed;
  } catch {
    // left empty: the agent skips such a skill with a warning
  }
  return { ...item, paths };
}

/** What the API shows of a stored skill. */
export function skillView(skill: StoredSkill): z.infer<typeof SkillSchema> {
  const { name, description, enabled, files, bytes, updatedAt } = skill;
  return { name, description, enabled, files, bytes, updatedAt };
}
