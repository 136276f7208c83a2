import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Options of {@link buildWebComponents}. */
export interface BuildWebComponentsOptions {
  /** Folder to write `openclaw-chat.js` into. @default '<repo>/dist/web' */
  outdir?: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Bundles the web components (Lit included) into one minified ES module, `openclaw-chat.js`, that a page
 * loads with a single `<script type="module">`.
 * @example const { file, bytes } = await buildWebComponents({ outdir: '/tmp/web' });
 */
export async function buildWebComponents(
  opts: BuildWebComponentsOptions = {},
): Promise<{ file: string; bytes: number }> {
  const outdir = opts.outdir ?? join(here, '..', 'dist', 'web');
  const file = join(outdir, 'openclaw-chat.js');
  await build({
    entryPoints: [join(here, 'index.ts')],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Private class fields and `??=` are used as written; every evergreen browser has them.
    target: 'es2022',
    minify: true,
    sourcemap: false,
    // Lit's "development" export condition is never picked, so the production build is bundled.
    conditions: ['browser', 'production'],
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const { size } = await stat(file);
  return { file, bytes: size };
}

if (import.meta.main) {
  const { file, bytes } = await buildWebComponents();
  console.log(`wrote ${file} (${(bytes / 1024).toFixed(1)} KiB)`);
}
