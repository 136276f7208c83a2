import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity } from '../../producers/shared/identity.ts';
import { LinkedChannelListSchema } from '../../schemas/api.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createChannelsHandler } from './channels.ts';
import { apiEvent, bodyOf, recordingLogger } from './test-fixtures.ts';

describe('the linked channels API (/v1/channels)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let identity: ReturnType<typeof createIdentity>;
  let api: ReturnType<typeof createChannelsHandler>;
  beforeAll(async () => {
    aws = await startLocalAws();
    identity = createIdentity({ storage: aws.storage });
    api = createChannelsHandler({ storage: aws.storage, logger: recordingLogger().logger });
  });
  afterAll(() => aws.close());

  const link = async (userId: string, channel: string, channelUserId: string) => {
    const { code } = await identity.createLinkCode(userId);
    expect(await identity.link(channel, channelUserId, code)).toMatchObject({ linked: true, userId });
  };
  const unlink = (sub: string, channel: string, channelUserId: string) =>
    api(
      apiEvent('DELETE /v1/channels/{channel}/{channelUserId}', {
        sub,
        pathParameters: { channel, channelUserId },
      }),
    );

  it('lists the accounts linked with a code, and unlinking makes the account a stranger again', async () => {
    // Prepare
    await link('user-a', 'telegram', '1001');
    await link('user-a', 'slack', 'T1:U2');
    await link('user-b', 'discord', '777');
    // Act
    const list = LinkedChannelListSchema.parse(
      bodyOf(await api(apiEvent('GET /v1/channels', { sub: 'user-a' }))),
    );
    // Assess
    expect(list.links.map((l) => `${l.channel}:${l.channelUserId}`).sort()).toEqual([
      'slack:T1:U2',
      'telegram:1001',
    ]);
    expect(await unlink('user-a', 'telegram', '1001')).toMatchObject({ statusCode: 204 });
    expect(await identity.resolve('telegram', '1001')).toBeUndefined();
    const after = LinkedChannelListSchema.parse(
      bodyOf(await api(apiEvent('GET /v1/channels', { sub: 'user-a' }))),
    );
    expect(after.links.map((l) => l.channel)).toEqual(['slack']);
    expect(await unlink('user-a', 'telegram', '1001')).toMatchObject({ statusCode: 404 });
  });

  it("cannot unlink another user's account, and answers 404 as for one that does not exist", async () => {
    await link('user-c', 'discord', '888');
    const answer = await unlink('user-d', 'discord', '888');
    expect(answer).toMatchObject({ statusCode: 404 });
    expect(await identity.resolve('discord', '888')).toBe('user-c');
  });

  it('refuses a bad path and a request without a user', async () => {
    const bad = await unlink('user-a', 'Not A Channel', '1');
    expect(bad).toMatchObject({ statusCode: 400 });
    expect(bodyOf(bad).code).toBe('INVALID_PATH');
    expect(await api(apiEvent('GET /v1/channels', { sub: undefined }))).toMatchObject({ statusCode: 401 });
  });
});
