import { join } from 'node:path';

/** The repository root: Lambda entries and the agent's Docker build context are resolved from here. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export const repoPath = (...parts: string[]) => join(REPO_ROOT, ...parts);
