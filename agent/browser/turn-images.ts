// Images a turn produced (browser screenshots). OpenClaw 2026.9.6 saves each screenshot as
// `<stateDir>/media/outbound/<uuid>.png` and tells the model the path in the tool result; it does not
// put it in the run result's payloads. We take the files that appeared during the turn and move them
// out of the state dir: it is saved to S3 after every turn, and screenshots would grow it forever.
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';

/** An image file produced during a turn: an absolute local path. */
export interface TurnImage {
  path: string;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

/** Where OpenClaw writes outbound media under a state dir. */
export const outboundMediaDir = (stateDir: string) => join(stateDir, 'media', 'outbound');

/** Names in a directory, or none when it does not exist. */
export async function listNames(dir: string): Promise<Set<string>> {
  return new Set(await readdir(dir).catch(() => []));
}

/**
 * Moves the images that appeared in `stateDir`'s outbound media since `before` into a per-turn folder
 * under the temp dir (the caller delivers them and may delete them), and lists them.
 */
export async function collectTurnImages(
  stateDir: string,
  before: Set<string>,
  runId: string,
): Promise<TurnImage[]> {
  const source = outboundMediaDir(stateDir);
  const fresh = [...(await listNames(source))].filter(
    (name) => !before.has(name) && CONTENT_TYPES[extname(name).toLowerCase()],
  );
  if (fresh.length === 0) return [];
  const target = turnImagesDirOf(runId);
  await mkdir(target, { recursive: true });
  const images: TurnImage[] = [];
  for (const name of fresh.sort()) {
    const path = join(target, name);
    await move(join(source, name), path);
    images.push({ path, contentType: CONTENT_TYPES[extname(name).toLowerCase()]! });
  }
  return images;
}

/** Where {@link collectTurnImages} puts one run's images: outside the state dir, so S3 never gets them with it. */
export function turnImagesDirOf(runId: string): string {
  return join(tmpdir(), 'serverless-openclaw-images', encodeURIComponent(runId));
}

/** `rename`, or copy and delete when the temp dir is on another file system. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}
