import { parseDocument } from 'yaml';
import { SKILL_LIMITS, SkillNameSchema } from './api.ts';
import { SkillPackageError } from './skill-errors.ts';

/** What a SKILL.md declares about itself in its front matter. */
export interface SkillFrontMatter {
  name: string;
  description: string;
}

// `---` on the first line (after an optional BOM), the YAML, then a line of `---` (or YAML's `...`).
const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/;

/** Strict UTF-8: a skill in another encoding would reach the model as mojibake. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a SKILL.md's bytes, refusing anything that is not UTF-8. */
export function decodeSkillMd(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new SkillPackageError(422, 'NOT_UTF8', 'SKILL.md must be UTF-8 text.', { cause });
  }
}

/**
 * Reads and checks a SKILL.md's front matter: YAML between `---` lines at the very top, with `name`
 * (lower-case letters, digits and `-`, as {@link SkillNameSchema}) and a non-empty `description` of at
 * most `SKILL_LIMITS.maxDescriptionChars`. Other keys are allowed (OpenClaw reads some) but not checked.
 *
 * Throws only {@link SkillPackageError}, whatever the input.
 *
 * @example
 * parseSkillFrontMatter('---\nname: weather\ndescription: Looks up the weather.\n---\n# Weather\n')
 * // { name: 'weather', description: 'Looks up the weather.' }
 */
export function parseSkillFrontMatter(text: string): SkillFrontMatter {
  const match = FRONT_MATTER.exec(text);
  if (!match) {
    throw new SkillPackageError(
      422,
      'MISSING_FRONT_MATTER',
      'SKILL.md must start with YAML front matter: a line "---", then name: and description:, then "---".',
    );
  }
  let data: unknown;
  try {
    // uniqueKeys: two `name:` lines are an error, not "the last one wins". maxAliasCount bounds
    // alias expansion ("billion laughs"); front matter has no use for aliases anyway.
    const document = parseDocument(match[1] ?? '', { uniqueKeys: true, prettyErrors: false });
    if (document.errors.length > 0) throw document.errors[0];
    data = document.toJS({ maxAliasCount: 10 });
  } catch (cause) {
    throw new SkillPackageError(
      422,
      'INVALID_FRONT_MATTER',
      `The front matter is not valid YAML: ${firstLine(cause)}.`,
      { cause },
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SkillPackageError(
      422,
      'INVALID_FRONT_MATTER',
      'The front matter must be a YAML mapping (key: value lines).',
    );
  }
  const { name, description } = data as Record<string, unknown>;
  if (typeof name !== 'string' || !SkillNameSchema.safeParse(name).success) {
    throw new SkillPackageError(
      422,
      'INVALID_SKILL_NAME',
      'name: must be 1 to 64 lower-case letters, digits and -, starting with a letter or digit (such as "weather-report").',
    );
  }
  if (typeof description !== 'string' || description.trim().length === 0) {
    throw new SkillPackageError(
      422,
      'INVALID_DESCRIPTION',
      'description: must be a non-empty text saying when to use the skill.',
    );
  }
  const trimmed = description.trim();
  if (trimmed.length > SKILL_LIMITS.maxDescriptionChars) {
    throw new SkillPackageError(
      422,
      'INVALID_DESCRIPTION',
      `description: may be at most ${SKILL_LIMITS.maxDescriptionChars} characters (it has ${trimmed.length}).`,
    );
  }
  return { name, description: trimmed };
}

function firstLine(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return (text.split('\n')[0] ?? '').slice(0, 200).replace(/[.:]\s*$/, '');
}
