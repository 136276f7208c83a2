import { Inflate } from 'fflate';
import { SKILL_LIMITS } from './api.ts';
import { SkillPackageError } from './skill-errors.ts';

/** One regular file of a skill folder: its relative path (`/`-separated) and its bytes. */
export interface SkillFile {
  path: string;
  bytes: Uint8Array;
}

/** Limits for {@link unpackSkillZip}; each defaults to `SKILL_LIMITS`. */
export interface UnpackLimits {
  /** @default SKILL_LIMITS.maxZipBytes */
  maxZipBytes?: number;
  /** @default SKILL_LIMITS.maxUnpackedBytes */
  maxUnpackedBytes?: number;
  /** @default SKILL_LIMITS.maxFiles */
  maxFiles?: number;
}

// Why our own central-directory reader: fflate's unzip does not expose an entry's external attributes
// (so symlinks would pass as files) and trusts the declared sizes when it allocates. We read the
// directory ourselves, refuse what a skill must not contain, and inflate each entry in small slices,
// counting what comes out, so a zip bomb stops at the limit instead of at the memory ceiling.

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
/** Compressed bytes handed to the inflater at a time: deflate expands at most ~1032×, so ≤ ~8 MB out. */
const INFLATE_SLICE = 8 * 1024;
const UNIX_TYPE_MASK = 0o170000;
const UNIX_REGULAR = 0o100000;
const UNIX_DIRECTORY = 0o040000;
/** Made-by hosts whose external attributes carry a Unix mode in the high 16 bits (Unix, macOS). */
const UNIX_HOSTS = new Set([3, 19]);
/** macOS Finder adds these to every zip it makes; they are not part of the skill. */
const IGNORED = /(^|\/)(__MACOSX\/|\.DS_Store$)/;

const names = new TextDecoder('utf-8', { fatal: true });

const invalid = (message: string) => new SkillPackageError(400, 'INVALID_ZIP', message);

interface Entry {
  path: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  directory: boolean;
}

/**
 * Unpacks a skill folder from a zip, enforcing every rule a skill upload has: the zip and the unpacked
 * total within the limits (declared sizes checked before, actual sizes while inflating), at most
 * `maxFiles` entries, UTF-8 names, no absolute paths, no `..`, no backslashes, no symlinks or other
 * special files, no duplicate names (also not differing only in case), stored or deflated entries only,
 * no encryption, no ZIP64. Directory entries and macOS `__MACOSX/` / `.DS_Store` entries are skipped.
 *
 * Returns the regular files with their paths as in the zip. Throws only {@link SkillPackageError}.
 */
export function unpackSkillZip(zip: Uint8Array, limits: UnpackLimits = {}): SkillFile[] {
  const maxZipBytes = limits.maxZipBytes ?? SKILL_LIMITS.maxZipBytes;
  const maxUnpackedBytes = limits.maxUnpackedBytes ?? SKILL_LIMITS.maxUnpackedBytes;
  const maxFiles = limits.maxFiles ?? SKILL_LIMITS.maxFiles;
  if (zip.length > maxZipBytes) {
    throw new SkillPackageError(413, 'ZIP_TOO_LARGE', `The zip may be at most ${maxZipBytes} bytes.`);
  }
  const entries = readCentralDirectory(zip, maxFiles);
  const declared = entries.reduce((sum, entry) => sum + entry.size, 0);
  if (declared > maxUnpackedBytes) {
    throw new SkillPackageError(
      413,
      'UNPACKED_TOO_LARGE',
      `The files may be at most ${maxUnpackedBytes} bytes unpacked.`,
    );
  }
  const files: SkillFile[] = [];
  let budget = maxUnpackedBytes;
  for (const entry of entries) {
    if (entry.directory || IGNORED.test(entry.path)) continue;
    const bytes = extract(zip, entry, budget);
    budget -= bytes.length;
    files.push({ path: entry.path, bytes });
  }
  return files;
}

function readCentralDirectory(zip: Uint8Array, maxFiles: number): Entry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  const offset = view.getUint32(eocd + 16, true);
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 8, true) !== count) {
    throw invalid('Multi-part (split) zips are not supported.');
  }
  if (count === 0xffff || offset === 0xffffffff) throw invalid('ZIP64 archives are not supported.');
  if (count > maxFiles) {
    throw new SkillPackageError(
      413,
      'TOO_MANY_FILES',
      `A skill may have at most ${maxFiles} files (this zip has ${count} entries).`,
    );
  }
  if (offset + size > eocd)
    throw invalid('The zip is truncated or corrupt (central directory out of range).');

  const entries: Entry[] = [];
  const seen = new Set<string>();
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || view.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw invalid('The zip is corrupt (bad central directory entry).');
    }
    const madeBy = view.getUint16(at + 4, true) >> 8;
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const compressedSize = view.getUint32(at + 20, true);
    const uncompressedSize = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const externalAttributes = view.getUint32(at + 38, true);
    const localOffset = view.getUint32(at + 42, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > eocd) throw invalid('The zip is corrupt (central directory entry out of range).');
    const path = decodeName(zip.subarray(at + 46, at + 46 + nameLength));
    at = next;

    if (flags & 0x1)
      throw new SkillPackageError(
        422,
        'ENCRYPTED_ENTRY',
        `"${shown(path)}" is encrypted; upload an unencrypted zip.`,
      );
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff)
      throw invalid('ZIP64 entries are not supported.');
    const mode = UNIX_HOSTS.has(madeBy) ? externalAttributes >>> 16 : 0;
    const type = mode & UNIX_TYPE_MASK;
    const directory =
      path.endsWith('/') ||
      type === UNIX_DIRECTORY ||
      (!UNIX_HOSTS.has(madeBy) && (externalAttributes & 0x10) !== 0);
    if (type !== 0 && type !== UNIX_REGULAR && type !== UNIX_DIRECTORY) {
      throw new SkillPackageError(
        422,
        type === 0o120000 ? 'SYMLINK' : 'SPECIAL_FILE',
        `"${shown(path)}" is ${type === 0o120000 ? 'a symbolic link' : 'not a regular file'}; a skill may contain only regular files.`,
      );
    }
    checkSkillPath(path);
    // Case-folded: on a case-insensitive disk "a.md" and "A.md" would overwrite each other.
    const key = path.replace(/\/$/, '').toLowerCase();
    if (seen.has(key))
      throw new SkillPackageError(
        422,
        'DUPLICATE_FILE',
        `"${shown(path)}" appears more than once in the zip.`,
      );
    seen.add(key);
    if (!directory && method !== 0 && method !== 8) {
      throw new SkillPackageError(
        422,
        'UNSUPPORTED_COMPRESSION',
        `"${shown(path)}" uses a compression other than deflate or none.`,
      );
    }
    entries.push({ path, method, flags, compressedSize, size: uncompressedSize, localOffset, directory });
  }
  return entries;
}

function findEndOfCentralDirectory(view: DataView): number {
  // The record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
  const last = view.byteLength - EOCD_SIZE;
  for (let at = last; at >= 0 && at >= last - 0xffff; at--) {
    if (
      view.getUint32(at, true) === EOCD_SIGNATURE &&
      at + EOCD_SIZE + view.getUint16(at + 20, true) === view.byteLength
    ) {
      return at;
    }
  }
  throw invalid('This is not a zip file (no end-of-central-directory record).');
}

function decodeName(bytes: Uint8Array): string {
  try {
    return names.decode(bytes);
  } catch {
    throw new SkillPackageError(422, 'NOT_UTF8_NAME', 'Every file name in the zip must be UTF-8.');
  }
}

/**
 * Checks that a path is relative, normalised and printable: safe to join under a skill's folder on any
 * disk. Throws {@link SkillPackageError} `UNSAFE_PATH` otherwise.
 */
export function checkSkillPath(path: string): void {
  const unsafe = (why: string) =>
    new SkillPackageError(
      422,
      'UNSAFE_PATH',
      `"${shown(path)}" ${why}; use relative paths inside the skill folder.`,
    );
  if (path.length === 0 || path.length > 255) throw unsafe('has an empty or over-long name');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw unsafe('is an absolute path');
  if (path.includes('\\')) throw unsafe('contains a backslash');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) throw unsafe('contains control characters');
  const segments = path.replace(/\/$/, '').split('/');
  if (segments.some((segment) => segment === '..')) throw unsafe('climbs out with ".."');
  if (segments.some((segment) => segment === '' || segment === '.'))
    throw unsafe('has an empty or "." segment');
}

function extract(zip: Uint8Array, entry: Entry, budget: number): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at = entry.localOffset;
  if (at + 30 > zip.length || view.getUint32(at, true) !== LOCAL_SIGNATURE) {
    throw invalid(`The zip is corrupt (no local header for "${shown(entry.path)}").`);
  }
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > zip.length) throw invalid(`The zip is truncated ("${shown(entry.path)}" runs past its end).`);
  const data = zip.subarray(start, end);
  const tooLarge = () =>
    new SkillPackageError(
      413,
      'UNPACKED_TOO_LARGE',
      'The files unpack to more than the limit (their declared sizes are wrong).',
    );

  let bytes: Uint8Array;
  if (entry.method === 0) {
    bytes = data;
  } else {
    const chunks: Uint8Array[] = [];
    let produced = 0;
    const inflater = new Inflate((chunk) => {
      produced += chunk.length;
      // Stop as soon as the output passes what this entry declared or what is left of the budget.
      if (produced > entry.size || produced > budget) throw tooLarge();
      chunks.push(chunk);
    });
    try {
      for (let offset = 0; offset < data.length; offset += INFLATE_SLICE) {
        inflater.push(data.subarray(offset, offset + INFLATE_SLICE), offset + INFLATE_SLICE >= data.length);
      }
      if (data.length === 0) inflater.push(new Uint8Array(0), true);
    } catch (cause) {
      if (cause instanceof SkillPackageError) throw cause;
      throw invalid(`"${shown(entry.path)}" could not be decompressed (corrupt data).`);
    }
    bytes = concat(chunks, produced);
  }
  if (bytes.length !== entry.size) {
    throw invalid(`"${shown(entry.path)}" is ${bytes.length} bytes, not the ${entry.size} the zip declares.`);
  }
  if (bytes.length > budget) throw tooLarge();
  // A copy: the caller keeps files, not views into the whole upload.
  return entry.method === 0 ? bytes.slice() : bytes;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A path as it may appear in an error message: printable and short. */
function shown(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  return path.replace(/[\u0000-\u001f\u007f"]/g, '?').slice(0, 120);
}
