import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalLauncher, type LocalLauncher } from './local-launcher.ts';
import { TaskLaunchError } from './task-launcher.ts';

// Stand-ins for the container entry: one that saves its state on SIGTERM like the real worker,
// one that ignores SIGTERM, and one that exits on its own.
const GRACEFUL = `
import { writeFileSync } from 'node:fs';
process.on('SIGTERM', () => {
  writeFileSync(process.env.MARKER_FILE, 'saved on SIGTERM');
  process.exit(0);
});
console.log('READY user=' + process.env.OPENCLAW_USER_ID + ' base=' + process.env.BASE_SETTING + ' secret=' + process.env.LAUNCHER_TEST_SECRET);
setInterval(() => {}, 1000);
`;
const STUBBORN = `
process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
console.log('READY');
setInterval(() => {}, 1000);
`;
const CRASHING = `console.log('READY'); setTimeout(() => process.exit(3), 50);`;

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the local launcher (real child processes)', () => {
  let dir: string;
  const lines: { message: string; extra?: Record<string, unknown> }[] = [];
  const warnings: string[] = [];
  const logger = {
    info: (message: string, extra?: Record<string, unknown>) => lines.push({ message, extra }),
    warn: (message: string) => warnings.push(message),
  };
  const launchers: LocalLauncher[] = [];
  const launcher = (entry: string, stopGraceMs = 10_000) => {
    const created = createLocalLauncher({
      entry: join(dir, entry),
      env: { BASE_SETTING: 'from-options', MARKER_FILE: join(dir, `${entry}.marker`) },
      logger,
      stopGraceMs,
    });
    launchers.push(created);
    return created;
  };
  const printed = (taskId: string, text: string) =>
    lines.some((line) => line.extra?.taskId === taskId && line.message.includes(text));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-launcher-'));
    await writeFile(join(dir, 'graceful.mjs'), GRACEFUL);
    await writeFile(join(dir, 'stubborn.mjs'), STUBBORN);
    await writeFile(join(dir, 'crashing.mjs'), CRASHING);
  });
  afterEach(async () => {
    await Promise.all(launchers.splice(0).map((l) => l.stopAll()));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('starts the entry as a running child that sees the launch environment', async () => {
    // Prepare
    const local = launcher('graceful.mjs');

    // Act
    const { taskId } = await local.start({ userId: 'u1', environment: { OPENCLAW_USER_ID: 'u1' } });

    // Assess
    expect(taskId).toMatch(/^local:\d+$/);
    expect(await local.describe([taskId])).toEqual([{ taskId, state: 'running' }]);
    await waitFor(() => printed(taskId, 'READY'));
    expect(printed(taskId, 'READY user=u1 base=from-options')).toBe(true);
  });

  it("passes on only the parent variables it is told to, so a child never sees the bots' secrets", async () => {
    // Prepare
    process.env.LAUNCHER_TEST_SECRET = 'not-for-the-agent';
    const local = createLocalLauncher({
      entry: join(dir, 'graceful.mjs'),
      env: { BASE_SETTING: 'from-options', MARKER_FILE: join(dir, 'filtered.marker') },
      logger,
      inheritEnv: (name) => name !== 'LAUNCHER_TEST_SECRET',
    });
    launchers.push(local);

    // Act
    const { taskId } = await local.start({ userId: 'u2', environment: { OPENCLAW_USER_ID: 'u2' } });

    // Assess
    await waitFor(() => printed(taskId, 'READY'));
    expect(printed(taskId, 'READY user=u2 base=from-options secret=undefined')).toBe(true);
    delete process.env.LAUNCHER_TEST_SECRET;
  });

  it('stops with SIGTERM, lets the child save its state, and stops again without complaint', async () => {
    // Prepare
    const local = launcher('graceful.mjs');
    const { taskId } = await local.start({ userId: 'u1', environment: {} });
    await waitFor(() => printed(taskId, 'READY'));

    // Act
    await local.stop(taskId, 'idle timeout');

    // Assess
    expect(await readFile(join(dir, 'graceful.mjs.marker'), 'utf8')).toBe('saved on SIGTERM');
    expect(isAlive(Number(taskId.split(':')[1]))).toBe(false);
    expect(await local.describe([taskId])).toEqual([
      { taskId, state: 'stopped', stoppedReason: 'idle timeout' },
    ]);
    await expect(local.stop(taskId, 'again')).resolves.toBeUndefined();
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    // Prepare
    const local = launcher('stubborn.mjs', 200);
    const { taskId } = await local.start({ userId: 'u1', environment: {} });
    await waitFor(() => printed(taskId, 'READY'));

    // Act
    const started = Date.now();
    const stopping = local.stop(taskId, 'watchdog');
    const duringGrace = await local.describe([taskId]);
    await stopping;

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(duringGrace[0]?.state).toBe('stopping');
    await waitFor(() => printed(taskId, 'ignoring SIGTERM'));
    expect(warnings).toContain('Local agent task ignored SIGTERM; killing it');
    expect(isAlive(Number(taskId.split(':')[1]))).toBe(false);
    expect(lines.find((line) => line.extra?.taskId === taskId && line.extra.exit)?.extra?.exit).toBe(
      'killed by SIGKILL',
    );
  });

  it('reports a child that exited on its own as stopped, with its exit code', async () => {
    const local = launcher('crashing.mjs');
    const { taskId } = await local.start({ userId: 'u1', environment: {} });

    await waitFor(() => lines.some((line) => line.extra?.taskId === taskId && line.extra.exit));

    expect(await local.describe([taskId])).toEqual([
      { taskId, state: 'stopped', stoppedReason: 'exited with code 3' },
    ]);
  });

  it('describes an unknown task as stopped and stops it without error', async () => {
    const local = launcher('graceful.mjs');

    expect(await local.describe(['local:999999999'])).toEqual([
      { taskId: 'local:999999999', state: 'stopped', stoppedReason: 'MISSING' },
    ]);
    await expect(local.stop('local:999999999', 'cleanup')).resolves.toBeUndefined();
  });

  it('returns the same task for a repeated idempotency key, and stopAll stops every child', async () => {
    // Prepare
    const local = launcher('graceful.mjs');
    const first = await local.start({ userId: 'u1', environment: {}, idempotencyKey: 'start-1' });
    const again = await local.start({ userId: 'u1', environment: {}, idempotencyKey: 'start-1' });
    const other = await local.start({ userId: 'u2', environment: {} });

    // Act
    await local.stopAll();

    // Assess
    expect(again.taskId).toBe(first.taskId);
    expect(other.taskId).not.toBe(first.taskId);
    const infos = await local.describe([first.taskId, other.taskId]);
    expect(infos.map((info) => info.state)).toEqual(['stopped', 'stopped']);
  });

  it('lists the children that run, with when they started, and not those stopped or exited', async () => {
    // Prepare
    const local = launcher('graceful.mjs');
    const crashing = launcher('crashing.mjs');
    const before = Date.now();
    const kept = await local.start({ userId: 'u1', environment: {} });
    const stopped = await local.start({ userId: 'u2', environment: {} });
    const crashed = await crashing.start({ userId: 'u3', environment: {} });
    const after = Date.now();
    await waitFor(() => lines.some((line) => line.extra?.taskId === crashed.taskId && line.extra.exit));
    const bothRunning = (await local.list()).map((task) => task.taskId).sort();

    // Act
    await local.stop(stopped.taskId, 'idle timeout');
    const listed = await local.list();
    const listedCrashing = await crashing.list();

    // Assess
    expect(bothRunning).toEqual([kept.taskId, stopped.taskId].sort());
    expect(listed.map((task) => task.taskId)).toEqual([kept.taskId]);
    expect(listed[0]?.startedAt).toBeGreaterThanOrEqual(before);
    expect(listed[0]?.startedAt).toBeLessThanOrEqual(after);
    expect(listedCrashing).toEqual([]);
  });

  it('fails to start with a final TaskLaunchError when the entry or Node is missing', async () => {
    const missingEntry = launcher('does-not-exist.mjs');
    await expect(missingEntry.start({ userId: 'u1', environment: {} })).rejects.toMatchObject({
      name: 'TaskLaunchError',
      retryable: false,
    });

    const badNode = createLocalLauncher({ entry: join(dir, 'graceful.mjs'), nodePath: join(dir, 'no-node') });
    const error = await badNode.start({ userId: 'u1', environment: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskLaunchError);
    expect(existsSync(join(dir, 'no-node'))).toBe(false);
  });
});
