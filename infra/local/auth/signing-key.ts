import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The local issuer's RSA key: signs tokens; its public half is the JWKS. */
export interface SigningKey {
  privateKey: KeyObject;
  /** Key id: the public key's RFC 7638 thumbprint, so a new key never reuses an old id. */
  kid: string;
  /** The public key as a JWK, as Cognito lists its keys (`kty`, `n`, `e`, `kid`, `alg`, `use`). */
  publicJwk: { kty: string; n: string; e: string; kid: string; alg: 'RS256'; use: 'sig' };
}

const KEY_FILE = 'issuer-key.pem';

function describe(privateKey: KeyObject): SigningKey {
  const { kty, n, e } = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  if (kty !== 'RSA' || !n || !e)
    throw new Error(`${KEY_FILE} is not an RSA key: delete it to have a new one made`);
  // RFC 7638: SHA-256 over the required members in lexicographic order.
  const kid = createHash('sha256').update(JSON.stringify({ e, kty, n })).digest('base64url');
  return { privateKey, kid, publicJwk: { kty, n, e, kid, alg: 'RS256', use: 'sig' } };
}

/**
 * Loads the issuer's key from `<dir>/issuer-key.pem`, or makes one (RSA 2048) and stores it there with
 * mode 0600. Kept on disk so that tokens signed before a restart still verify after it.
 */
export async function loadOrCreateSigningKey(dir: string): Promise<SigningKey> {
  const file = join(dir, KEY_FILE);
  try {
    return describe(createPrivateKey(await readFile(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  try {
    // `wx`: if another process made one meanwhile, theirs wins and we read it.
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return describe(createPrivateKey(await readFile(file, 'utf8')));
  }
  return describe(privateKey);
}
