import fc from 'fast-check';
import { strToU8, type Zippable, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { SKILL_LIMITS } from './api.ts';
import { SkillPackageError } from './skill-errors.ts';
import { parseSkillFrontMatter } from './skill-front-matter.ts';
import { readSkillUpload } from './skill-package.ts';
import { unpackSkillZip } from './skill-zip.ts';

const skillMd = (name = 'weather', description = 'Looks up the weather for a city.') =>
  `---\nname: ${name}\ndescription: ${description}\n---\n# ${name}\n\nRun the steps.\n`;

/** The SkillPackageError a call throws (fails the test when it throws something else or nothing). */
function refusal(call: () => unknown): SkillPackageError {
  try {
    call();
  } catch (error) {
    if (error instanceof SkillPackageError) return error;
    throw error;
  }
  throw new Error('expected a SkillPackageError, got none');
}

/** Overwrites the declared uncompressed size of every entry (local and central headers). */
function lieAboutSizes(zip: Uint8Array, size: number): Uint8Array {
  const copy = zip.slice();
  const view = new DataView(copy.buffer);
  for (let at = 0; at + 4 <= copy.length; at++) {
    const signature = view.getUint32(at, true);
    if (signature === 0x04034b50) view.setUint32(at + 22, size, true);
    if (signature === 0x02014b50) view.setUint32(at + 24, size, true);
  }
  return copy;
}

describe('SKILL.md front matter', () => {
  it('reads name and description and trims the description', () => {
    expect(parseSkillFrontMatter(skillMd('weather-report', '  Says when it rains.  '))).toEqual({
      name: 'weather-report',
      description: 'Says when it rains.',
    });
  });

  it('accepts a BOM, CRLF line ends, other keys and a "..." end marker', () => {
    const text =
      '\uFEFF---\r\nname: a1\r\ndescription: "x: y"\r\nmetadata: {openclaw: {emoji: "☀"}}\r\n...\r\nbody';
    expect(parseSkillFrontMatter(text)).toEqual({ name: 'a1', description: 'x: y' });
  });

  it.each([
    ['no front matter', '# Weather\n', 'MISSING_FRONT_MATTER'],
    ['front matter not at the top', '\n---\nname: a\ndescription: b\n---\n', 'MISSING_FRONT_MATTER'],
    ['unterminated front matter', '---\nname: a\ndescription: b\n', 'MISSING_FRONT_MATTER'],
    ['invalid YAML', '---\nname: [a\ndescription: b\n---\n', 'INVALID_FRONT_MATTER'],
    ['duplicate keys', '---\nname: a\nname: b\ndescription: c\n---\n', 'INVALID_FRONT_MATTER'],
    ['a list, not a mapping', '---\n- a\n- b\n---\n', 'INVALID_FRONT_MATTER'],
    [
      'alias bomb',
      `---\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nname: a\ndescription: b\n---\n`,
      'INVALID_FRONT_MATTER',
    ],
    ['no name', '---\ndescription: b\n---\n', 'INVALID_SKILL_NAME'],
    ['upper-case name', skillMd('Weather'), 'INVALID_SKILL_NAME'],
    ['name with a slash', skillMd('../etc'), 'INVALID_SKILL_NAME'],
    ['numeric name', '---\nname: 42\ndescription: b\n---\n', 'INVALID_SKILL_NAME'],
    ['name too long', skillMd('a'.repeat(65)), 'INVALID_SKILL_NAME'],
    ['no description', '---\nname: a\n---\n', 'INVALID_DESCRIPTION'],
    ['blank description', '---\nname: a\ndescription: "  "\n---\n', 'INVALID_DESCRIPTION'],
    [
      'description too long',
      skillMd('a', 'x'.repeat(SKILL_LIMITS.maxDescriptionChars + 1)),
      'INVALID_DESCRIPTION',
    ],
  ])('refuses %s', (_case, text, code) => {
    const error = refusal(() => parseSkillFrontMatter(text));
    expect(error.code).toBe(code);
    expect(error.statusCode).toBe(422);
  });

  it('only ever throws its own errors, whatever the text (fuzzed)', () => {
    const frontMatterish = fc
      .tuple(
        fc.constantFrom('---\n', '\uFEFF---\r\n', '', '--- \n'),
        fc.string({ maxLength: 200 }),
        fc.constantFrom('\n---\n', '\n...\n', '\n---', ''),
        fc.string({ maxLength: 50 }),
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          frontMatterish,
        ),
        (text) => {
          try {
            const { name, description } = parseSkillFrontMatter(text);
            expect(name).toMatch(/^[a-z0-9][a-z0-9-]{0,63}$/);
            expect(description.trim()).toBe(description);
            expect(description.length).toBeGreaterThan(0);
          } catch (error) {
            expect(error).toBeInstanceOf(SkillPackageError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('parses fuzzed valid names and descriptions back exactly', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,63}$/),
        fc.string({ minLength: 1, maxLength: 300 }).filter((text) => text.trim().length > 0),
        (name, description) => {
          const text = `---\nname: ${JSON.stringify(name)}\ndescription: ${JSON.stringify(description)}\n---\nbody`;
          expect(parseSkillFrontMatter(text)).toEqual({ name, description: description.trim() });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('skill uploads', () => {
  it('takes a text/markdown SKILL.md', () => {
    const upload = readSkillUpload('text/markdown; charset=utf-8', strToU8(skillMd()));
    expect(upload).toMatchObject({ name: 'weather', description: 'Looks up the weather for a city.' });
    expect(upload.files.map((file) => file.path)).toEqual(['SKILL.md']);
    expect(upload.bytes).toBe(strToU8(skillMd()).length);
    expect(upload.version).toMatch(/^[0-9a-f]{20}$/);
  });

  it('takes a zip with SKILL.md at its root or in one top folder, with the same version', () => {
    const files = { 'SKILL.md': strToU8(skillMd()), 'scripts/run.sh': strToU8('echo hi\n') };
    const atRoot = readSkillUpload('application/zip', zipSync(files));
    const inFolder = readSkillUpload(
      'application/zip',
      zipSync({ weather: { 'SKILL.md': files['SKILL.md'], scripts: { 'run.sh': files['scripts/run.sh'] } } }),
    );
    expect(atRoot.files.map((file) => file.path).sort()).toEqual(['SKILL.md', 'scripts/run.sh']);
    expect(inFolder.files.map((file) => file.path).sort()).toEqual(['SKILL.md', 'scripts/run.sh']);
    expect(inFolder.version).toBe(atRoot.version);
    expect(readSkillUpload('application/zip', zipSync({ ...files, 'x.md': strToU8('x') })).version).not.toBe(
      atRoot.version,
    );
  });

  it('skips macOS __MACOSX and .DS_Store entries', () => {
    const zip = zipSync({
      weather: { 'SKILL.md': strToU8(skillMd()), '.DS_Store': strToU8('x') },
      __MACOSX: { weather: { '._SKILL.md': strToU8('x') } },
    });
    expect(readSkillUpload('application/zip', zip).files.map((file) => file.path)).toEqual(['SKILL.md']);
  });

  it.each([
    ['another media type', 'application/json', strToU8('{}'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no media type', undefined, strToU8(skillMd()), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a SKILL.md over the limit',
      'text/markdown',
      strToU8(skillMd() + 'x'.repeat(SKILL_LIMITS.maxSkillMdBytes)),
      413,
      'SKILL_MD_TOO_LARGE',
    ],
    [
      'a SKILL.md that is not UTF-8',
      'text/markdown',
      new Uint8Array([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe]),
      422,
      'NOT_UTF8',
    ],
    ['bytes that are not a zip', 'application/zip', strToU8('not a zip at all, sorry'), 400, 'INVALID_ZIP'],
    ['an empty body as zip', 'application/zip', new Uint8Array(0), 400, 'INVALID_ZIP'],
    [
      'a zip without SKILL.md',
      'application/zip',
      zipSync({ 'README.md': strToU8('x') }),
      422,
      'MISSING_SKILL_MD',
    ],
    [
      'a zip with two top folders',
      'application/zip',
      zipSync({ a: { 'SKILL.md': strToU8(skillMd()) }, b: { 'x.md': strToU8('x') } }),
      422,
      'MISSING_SKILL_MD',
    ],
    [
      'SKILL.md two folders deep',
      'application/zip',
      zipSync({ a: { b: { 'SKILL.md': strToU8(skillMd()) } } }),
      422,
      'MISSING_SKILL_MD',
    ],
    [
      'a zip over the limit',
      'application/zip',
      new Uint8Array(SKILL_LIMITS.maxZipBytes + 1),
      413,
      'ZIP_TOO_LARGE',
    ],
  ])('refuses %s', (_case, type, body, status, code) => {
    const error = refusal(() => readSkillUpload(type, body));
    expect([error.statusCode, error.code]).toEqual([status, code]);
  });

  it('refuses more files than allowed, before unpacking', () => {
    const files: Zippable = { 'SKILL.md': strToU8(skillMd()) };
    for (let i = 0; i < SKILL_LIMITS.maxFiles; i++) files[`f${i}.txt`] = strToU8('x');
    const error = refusal(() => readSkillUpload('application/zip', zipSync(files)));
    expect([error.statusCode, error.code]).toEqual([413, 'TOO_MANY_FILES']);
  });

  it('refuses files whose declared total is over the unpacked limit', () => {
    const zip = zipSync({ 'SKILL.md': strToU8(skillMd()), 'big.txt': new Uint8Array(2 * 1024 * 1024) });
    const error = refusal(() => unpackSkillZip(zip, { maxUnpackedBytes: 1024 * 1024 }));
    expect([error.statusCode, error.code]).toEqual([413, 'UNPACKED_TOO_LARGE']);
  });

  it('stops a zip bomb that lies about its sizes while inflating', () => {
    // 20 MB of zeros deflates to ~20 KB; the headers claim 10 bytes.
    const bomb = lieAboutSizes(zipSync({ 'SKILL.md': new Uint8Array(20 * 1024 * 1024) }, { level: 9 }), 10);
    expect(bomb.length).toBeLessThan(SKILL_LIMITS.maxZipBytes);
    const error = refusal(() => readSkillUpload('application/zip', bomb));
    expect([error.statusCode, error.code]).toEqual([413, 'UNPACKED_TOO_LARGE']);
  });

  it('refuses an entry larger or smaller than it declares', () => {
    const zip = lieAboutSizes(zipSync({ 'SKILL.md': strToU8(skillMd()) }, { level: 0 }), 3);
    const error = refusal(() => readSkillUpload('application/zip', zip));
    expect([error.statusCode, error.code]).toEqual([400, 'INVALID_ZIP']);
  });

  it('refuses symbolic links and other special files', () => {
    const link = zipSync({
      'SKILL.md': strToU8(skillMd()),
      passwd: [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }],
    });
    const fifo = zipSync({
      'SKILL.md': strToU8(skillMd()),
      pipe: [strToU8(''), { os: 3, attrs: (0o010644 << 16) >>> 0 }],
    });
    const regular = zipSync({ 'SKILL.md': [strToU8(skillMd()), { os: 3, attrs: (0o100644 << 16) >>> 0 }] });
    expect(refusal(() => readSkillUpload('application/zip', link)).code).toBe('SYMLINK');
    expect(refusal(() => readSkillUpload('application/zip', fifo)).code).toBe('SPECIAL_FILE');
    expect(readSkillUpload('application/zip', regular).name).toBe('weather');
  });

  it.each([
    ['../evil.sh', 'UNSAFE_PATH'],
    ['a/../../evil.sh', 'UNSAFE_PATH'],
    ['/etc/cron.d/evil', 'UNSAFE_PATH'],
    ['C:/evil.bat', 'UNSAFE_PATH'],
    ['a\\..\\evil', 'UNSAFE_PATH'],
    ['a//b', 'UNSAFE_PATH'],
    ['./SKILL.md', 'UNSAFE_PATH'],
    ['bad\u0001name', 'UNSAFE_PATH'],
  ])('refuses the path %j', (path, code) => {
    const zip = zipSync({ 'SKILL.md': strToU8(skillMd()), [path]: strToU8('x') });
    const error = refusal(() => readSkillUpload('application/zip', zip));
    expect([error.statusCode, error.code]).toEqual([422, code]);
  });

  it('refuses duplicate names, also when they differ only in case', () => {
    const twice = zipSync({ 'SKILL.md': strToU8(skillMd()), 'a.md': strToU8('1'), 'A.md': strToU8('2') });
    expect(refusal(() => readSkillUpload('application/zip', twice)).code).toBe('DUPLICATE_FILE');
  });

  it('refuses names that are not UTF-8', () => {
    const zip = zipSync({ 'SKILL.md': strToU8(skillMd()), 'xx.md': strToU8('x') });
    const at = Buffer.from(zip).lastIndexOf(Buffer.from('xx.md'));
    zip[at] = 0xff; // in the central directory, which is what the reader trusts
    expect(refusal(() => readSkillUpload('application/zip', zip)).code).toBe('NOT_UTF8_NAME');
  });

  it('only ever throws its own errors for mutated zips (fuzzed)', () => {
    const base = zipSync({
      weather: { 'SKILL.md': strToU8(skillMd()), 'notes.md': strToU8('n'.repeat(500)) },
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(base.length),
        (flips, cut) => {
          const zip = base.slice(0, Math.max(cut, base.length - 40));
          for (const [at, value] of flips) if (at < zip.length) zip[at] = value;
          try {
            const upload = readSkillUpload('application/zip', zip);
            expect(upload.bytes).toBeLessThanOrEqual(SKILL_LIMITS.maxUnpackedBytes);
            for (const file of upload.files) expect(file.path).not.toMatch(/(^|\/)\.\.(\/|$)|^\//);
          } catch (error) {
            expect(error).toBeInstanceOf(SkillPackageError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('only ever throws its own errors for random bytes (fuzzed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          readSkillUpload('application/zip', bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(SkillPackageError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
