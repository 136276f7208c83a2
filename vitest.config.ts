import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'agent/openclaw-runtime/**', 'dist/**', 'cdk.out/**', '.data/**'],
    // Real OpenClaw turns use ~1 GB and a core each: two files at a time fit this 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // No EMF lines or X-Ray segments from tests, unless a test turns metrics on to read them.
    env: {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    },
    // The JSON report lets CI print a plain "N passed, N failed" line (test/print-summary.mjs).
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
