import { describe, expect, it } from 'vitest';
import { browserOptionsFromEnv } from './browser-from-env.ts';

describe('browserOptionsFromEnv', () => {
  it('is off without a Chromium, and when switched off', async () => {
    expect(
      await browserOptionsFromEnv({ OPENCLAW_BROWSER_EXECUTABLE: '/nonexistent/chromium' }),
    ).toBeUndefined();
    expect(await browserOptionsFromEnv({ OPENCLAW_BROWSER: 'off' })).toBeUndefined();
  });

  it('finds Debian Chromium, with no private-host exception by default and a free port base', async () => {
    const options = await browserOptionsFromEnv({});
    expect(options).toMatchObject({ executablePath: '/usr/bin/chromium' });
    expect(options?.allowedHostnames).toBeUndefined();
    expect(options?.portBase).toBeGreaterThanOrEqual(20_000);
  });

  it('reads the test-only host exception, the sandbox switch and a fixed port base', async () => {
    const options = await browserOptionsFromEnv({
      OPENCLAW_BROWSER_EXECUTABLE: '/usr/bin/chromium',
      OPENCLAW_BROWSER_ALLOWED_HOSTS: ' 127.0.0.1, ,localhost ',
      OPENCLAW_BROWSER_NO_SANDBOX: '1',
      OPENCLAW_BROWSER_PORT_BASE: '23000',
    });
    expect(options).toEqual({
      executablePath: '/usr/bin/chromium',
      allowedHostnames: ['127.0.0.1', 'localhost'],
      noSandbox: true,
      portBase: 23_000,
    });
  });
});
