import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A user of the local issuer. */
export interface LocalUser {
  username: string;
  password: string;
}

/** The default user when LOCAL_USERS is not set. Its id stays `local-user`, the id local data already uses. */
export const DEFAULT_USERNAME = 'local';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const PASSWORD_FILE = 'local-password';

/** The internal user id (`sub`) of a local user: stable, derived from the name. */
export function localUserId(username: string): string {
  return username === DEFAULT_USERNAME ? 'local-user' : `local-${username}`;
}

/**
 * Parses LOCAL_USERS: `alice:secret,bob:other` (a password may contain `:` but not `,`).
 * @throws with what to type instead, on an empty entry, a bad name, a duplicate or an empty password
 */
export function parseLocalUsers(value: string): LocalUser[] {
  const users: LocalUser[] = [];
  for (const entry of value.split(',')) {
    const colon = entry.indexOf(':');
    const username = (colon < 0 ? entry : entry.slice(0, colon)).trim();
    const password = colon < 0 ? '' : entry.slice(colon + 1);
    if (!USERNAME.test(username)) {
      throw new Error(
        `LOCAL_USERS: '${username}' is not a user name (letters, digits, _ . -; e.g. alice:secret)`,
      );
    }
    // The password itself is never echoed.
    if (!password) throw new Error(`LOCAL_USERS: give ${username} a password, as ${username}:<password>`);
    if (users.some((user) => user.username === username))
      throw new Error(`LOCAL_USERS: ${username} is listed twice`);
    users.push({ username, password });
  }
  return users;
}

/** The local users and, when it was made for them, where the default user's password is kept. */
export interface ResolvedLocalUsers {
  users: LocalUser[];
  /** Set when the default user's password was generated (now or on an earlier start), for `npm start` to print. */
  generatedPassword?: { password: string; file: string };
}

/**
 * The users of the local issuer: LOCAL_USERS if set, else one user `local` with LOCAL_PASSWORD, else with
 * a password generated once and kept in `<dir>/local-password` (mode 0600).
 */
export async function resolveLocalUsers(env: NodeJS.ProcessEnv, dir: string): Promise<ResolvedLocalUsers> {
  if (env.LOCAL_USERS?.trim()) return { users: parseLocalUsers(env.LOCAL_USERS.trim()) };
  if (env.LOCAL_PASSWORD) return { users: [{ username: DEFAULT_USERNAME, password: env.LOCAL_PASSWORD }] };
  const file = join(dir, PASSWORD_FILE);
  let password: string;
  try {
    password = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    password = randomBytes(18).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
  }
  if (!password) throw new Error(`${file} is empty: delete it to have a new password made`);
  return { users: [{ username: DEFAULT_USERNAME, password }], generatedPassword: { password, file } };
}

/** Compares two secrets in constant time, whatever their lengths (both are hashed to 32 bytes first). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
