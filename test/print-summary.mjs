#!/usr/bin/env node
// Prints vitest's totals as one plain line, "N passed, N failed, N skipped", for CI logs.
import { readFileSync } from 'node:fs';

try {
  const report = JSON.parse(readFileSync(new URL('../test-results/vitest.json', import.meta.url), 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
} catch (error) {
  console.log(`no test report: ${error.message}`);
  process.exitCode = 1;
}
