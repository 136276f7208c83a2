import { describe, expect, it } from 'vitest';
import { DeploymentConfigSchema } from './config.ts';

describe('deployment config', () => {
  it('deploys with no settings at all, on a Fargate size AWS accepts', () => {
    // Act
    const config = DeploymentConfigSchema.parse({});

    // Assess
    expect(config.agent).toMatchObject({ fargateCpu: 1024, fargateMemoryMb: 2048 });
    expect(config).toMatchObject({ defaultRuntime: 'lambda', idleTimeoutMinutes: 15 });
  });

  it.each([
    [512, 1024],
    [512, 4096],
    [2048, 16384],
    [4096, 30720],
  ])('accepts fargateCpu %i with %i MB', (fargateCpu, fargateMemoryMb) => {
    expect(DeploymentConfigSchema.safeParse({ agent: { fargateCpu, fargateMemoryMb } }).success).toBe(true);
  });

  it.each([
    [1024, 1024, 'from 2048 to 8192'],
    [512, 5120, 'from 1024 to 4096'],
    [4096, 9000, 'a multiple of 1024'],
  ])(
    'refuses fargateCpu %i with %i MB before anything is deployed, saying what fits',
    (fargateCpu, fargateMemoryMb, hint) => {
      // Act
      const result = DeploymentConfigSchema.safeParse({ agent: { fargateCpu, fargateMemoryMb } });

      // Assess
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]).toMatchObject({
        path: ['agent', 'fargateMemoryMb'],
        message: expect.stringContaining(hint),
      });
    },
  );

  it('leaves the chat channels off and their settings unset by default', () => {
    const config = DeploymentConfigSchema.parse({});
    expect(config.channels).toEqual({ web: true, telegram: false, discord: false, slack: false });
    expect(config.webAppUrl).toBeUndefined();
    expect(config.telegram).toEqual({});
    expect(config.slack).toEqual({});
  });

  it.each([
    [{ allowedUsers: ['12345'] }, 'allowedUsers.0', '<channel>:<user id>'],
    [{ allowedUsers: ['telegram:1,telegram:2'] }, 'allowedUsers.0', '<channel>:<user id>'],
    [{ telegram: { botUsername: '@my_bot' } }, 'telegram.botUsername', 'without @'],
    [{ slack: { command: 'openclaw' } }, 'slack.command', '/openclaw'],
    [{ webAppUrl: 'chat.example.com' }, 'webAppUrl', ''],
  ])('refuses the channel setting %j, saying what fits', (raw, path, hint) => {
    // Act
    const result = DeploymentConfigSchema.safeParse(raw);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(path);
    expect(result.error?.issues[0]?.message).toContain(hint);
  });
});
