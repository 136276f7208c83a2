import { createHash } from 'node:crypto';
import { SKILL_LIMITS } from './api.ts';
import { SkillPackageError } from './skill-errors.ts';
import { decodeSkillMd, parseSkillFrontMatter } from './skill-front-matter.ts';
import { type SkillFile, type UnpackLimits, unpackSkillZip } from './skill-zip.ts';

/** A validated skill, ready to store: its files relative to the skill folder, SKILL.md among them. */
export interface SkillPackage {
  name: string;
  description: string;
  files: SkillFile[];
  /** All files' bytes together. */
  bytes: number;
  /** A hash of the paths and contents: equal packages have equal versions (the agent's cache key). */
  version: string;
}

/** The file every skill has, at the root of its folder. */
export const SKILL_MD = 'SKILL.md';

/** The upload media types and which reader takes each; Windows browsers label zips x-zip-compressed. */
const MEDIA_TYPES: Record<string, 'markdown' | 'zip'> = {
  'text/markdown': 'markdown',
  'application/zip': 'zip',
  'application/x-zip-compressed': 'zip',
};

/** The reader for a `Content-Type` header, or undefined when skills cannot come in that type. */
export function skillUploadKind(contentType: string | undefined): 'markdown' | 'zip' | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MEDIA_TYPES[type];
}

/**
 * Reads a skill upload: a `text/markdown` body is the SKILL.md itself, an `application/zip` body a skill
 * folder (SKILL.md at the zip's root, or inside one top folder, which is then stripped). Throws only
 * {@link SkillPackageError}, naming the rule the upload broke.
 */
export function readSkillUpload(
  contentType: string | undefined,
  body: Uint8Array,
  limits: UnpackLimits = {},
): SkillPackage {
  const kind = skillUploadKind(contentType);
  if (kind === 'markdown') {
    return validateSkillFiles([{ path: SKILL_MD, bytes: body }]);
  }
  if (kind === 'zip') {
    return validateSkillFiles(stripTopFolder(unpackSkillZip(body, limits)), limits);
  }
  throw new SkillPackageError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'Upload a SKILL.md as text/markdown or a skill folder as application/zip.',
  );
}

/**
 * Checks a skill folder's files as stored (the API before it stores them, the agent after it downloads
 * them): a SKILL.md at the root within `maxSkillMdBytes` with valid front matter, the file count and the
 * total size within limits. Returns the package with its version.
 */
export function validateSkillFiles(files: SkillFile[], limits: UnpackLimits = {}): SkillPackage {
  const maxFiles = limits.maxFiles ?? SKILL_LIMITS.maxFiles;
  const maxUnpackedBytes = limits.maxUnpackedBytes ?? SKILL_LIMITS.maxUnpackedBytes;
  const skillMd = files.find((file) => file.path === SKILL_MD);
  if (!skillMd) {
    throw new SkillPackageError(
      422,
      'MISSING_SKILL_MD',
      'The skill has no SKILL.md: put it at the root of the zip, or inside one top folder.',
    );
  }
  if (skillMd.bytes.length > SKILL_LIMITS.maxSkillMdBytes) {
    throw new SkillPackageError(
      413,
      'SKILL_MD_TOO_LARGE',
      `SKILL.md may be at most ${SKILL_LIMITS.maxSkillMdBytes} bytes (it is ${skillMd.bytes.length}).`,
    );
  }
  if (files.length > maxFiles) {
    throw new SkillPackageError(413, 'TOO_MANY_FILES', `A skill may have at most ${maxFiles} files.`);
  }
  const bytes = files.reduce((sum, file) => sum + file.bytes.length, 0);
  if (bytes > maxUnpackedBytes) {
    throw new SkillPackageError(
      413,
      'UNPACKED_TOO_LARGE',
      `The files may be at most ${maxUnpackedBytes} bytes unpacked.`,
    );
  }
  const { name, description } = parseSkillFrontMatter(decodeSkillMd(skillMd.bytes));
  return { name, description, files, bytes, version: versionOf(files) };
}

/** When every file sits in one top folder (how "compress folder" makes zips), drops that folder. */
function stripTopFolder(files: SkillFile[]): SkillFile[] {
  if (files.some((file) => file.path === SKILL_MD)) return files;
  const tops = new Set(files.map((file) => file.path.split('/')[0]));
  const [top] = tops;
  if (tops.size !== 1 || top === undefined || !files.every((file) => file.path.startsWith(`${top}/`))) {
    return files;
  }
  return files.map((file) => ({ path: file.path.slice(top.length + 1), bytes: file.bytes }));
}

function versionOf(files: SkillFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\0${file.bytes.length}\0`);
    hash.update(file.bytes);
  }
  return hash.digest('hex').slice(0, 20);
}
