import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: fuzzing, load and injected faults (docs/reliability.md). Kept apart from
// `vitest run` by its file suffix; RELIABILITY_SCALE=ci|full (default full) sets the sizes.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/reliability/global-setup.ts'],
    pool: 'forks',
    // One file at a time: the load and fault runs measure the pipeline, not the neighbours on 2 cores.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
