import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createIdentity, LINK_CODE_TTL_SECONDS, MAX_LINK_FAILURES } from './identity.ts';

describe('channel identities and link codes (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  it('links a channel account with a one-time code, after which it resolves to the web user', async () => {
    // Prepare
    const identity = createIdentity({ storage: aws.storage });
    const { code } = await identity.createLinkCode('web-user-1');

    // Act
    const before = await identity.resolve('telegram', '1001');
    const linked = await identity.link('telegram', '1001', code);
    const reused = await identity.link('telegram', '2002', code);

    // Assess
    expect(code).toMatch(/^\d{8}$/);
    expect(before).toBeUndefined();
    expect(linked).toEqual({ linked: true, userId: 'web-user-1' });
    expect(await identity.resolve('telegram', '1001')).toBe('web-user-1');
    expect(reused).toEqual({ linked: false, reason: 'invalid-code' });
    expect(await identity.resolve('telegram', '2002')).toBeUndefined();
  });

  it('links several channels to one user, so they share one agent', async () => {
    // Prepare
    const identity = createIdentity({ storage: aws.storage });

    // Act
    for (const [channel, id] of [
      ['telegram', 't-1'],
      ['discord', 'd-1'],
      ['slack', 's-1'],
    ] as const) {
      await identity.link(channel, id, (await identity.createLinkCode('web-user-2')).code);
    }

    // Assess
    expect(await identity.resolve('telegram', 't-1')).toBe('web-user-2');
    expect(await identity.resolve('discord', 'd-1')).toBe('web-user-2');
    expect(await identity.resolve('slack', 's-1')).toBe('web-user-2');
  });

  it('refuses an expired code', async () => {
    // Prepare
    let now = Date.UTC(2026, 10, 25, 12);
    const identity = createIdentity({ storage: aws.storage, now: () => now });
    const { code } = await identity.createLinkCode('web-user-3');

    // Act
    now += (LINK_CODE_TTL_SECONDS + 1) * 1000;
    const result = await identity.link('discord', 'late', code);

    // Assess
    expect(result).toEqual({ linked: false, reason: 'invalid-code' });
  });

  it('stops guessing after a few wrong codes, even when the right one follows', async () => {
    // Prepare
    const identity = createIdentity({ storage: aws.storage });
    const { code } = await identity.createLinkCode('web-user-4');

    // Act
    for (let i = 0; i < MAX_LINK_FAILURES; i++) await identity.link('slack', 'guesser', '00000000');
    const right = await identity.link('slack', 'guesser', code);

    // Assess
    expect(right).toEqual({ linked: false, reason: 'too-many-attempts' });
    expect(await identity.resolve('slack', 'guesser')).toBeUndefined();
  });

  it('gives allow-listed accounts their own user without linking, and strangers nothing', async () => {
    // Prepare
    const identity = createIdentity({ storage: aws.storage, allowedUsers: ['telegram:777'] });

    // Act + Assess
    expect(await identity.resolve('telegram', '777')).toBe('telegram:777');
    expect(await identity.resolve('telegram', '778')).toBeUndefined();
    expect(await identity.resolve('discord', '777')).toBeUndefined();
  });
});
