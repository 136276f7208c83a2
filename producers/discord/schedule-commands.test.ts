import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordClient, createDiscordRest } from '../../consumers/discord/discord-client.ts';
import { createDiscordConsumer } from '../../consumers/discord/handler.ts';
import type { BusEnvelope } from '../../schemas/index.ts';
import {
  type FakeDiscordApi,
  signInteraction,
  slashCommand,
  startFakeDiscordApi,
  TEST_CHANNEL_ID,
} from '../../test/fixtures/fake-discord-api.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createJobStore } from '../schedule/jobs.ts';
import { recordingPublisher, recordingScheduler } from '../schedule/test-fixtures.ts';
import { createDiscordProducer } from './handler.ts';

const ALLOWED_USER = '1200000000000000001';
const STRANGER = '1200000000000000666';
const BOT_TOKEN = 'bot-token-for-schedule-tests';

describe('Discord /schedule, /schedules, /unschedule (dynalite, fake Discord API)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let discord: FakeDiscordApi;
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');

  beforeAll(async () => {
    aws = await startLocalAws();
    discord = await startFakeDiscordApi({ botToken: BOT_TOKEN });
  });
  afterAll(async () => {
    await discord.close();
    await aws.close();
  });

  function setup() {
    const jobs = createJobStore({ storage: aws.storage, scheduler: recordingScheduler().scheduler });
    const handle = createDiscordProducer({
      storage: aws.storage,
      publisher: recordingPublisher().publisher,
      publicKey: async () => publicKeyHex,
      allowedUsers: [`discord:${ALLOWED_USER}`],
      logger: new Logger({ logLevel: 'SILENT' }),
      jobs,
    });
    async function call(interaction: unknown) {
      const body = JSON.stringify(interaction);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const result = await handle({
        headers: {
          'x-signature-ed25519': signInteraction(privateKey, timestamp, body),
          'x-signature-timestamp': timestamp,
        },
        body,
        isBase64Encoded: false,
        requestContext: {},
      } as unknown as APIGatewayProxyEventV2);
      return JSON.parse(result.body ?? '{}') as { type: number; data: { content: string; flags: number } };
    }
    return { jobs, call };
  }

  it('schedules a job privately, whose reply later goes to the channel with the bot token', async () => {
    // Prepare
    const { jobs, call } = setup();
    discord.addChannel(TEST_CHANNEL_ID);
    const command = slashCommand(
      'schedule',
      { when: 'every day 08:00', tz: 'Europe/Berlin', prompt: 'Morning brief' },
      { userId: ALLOWED_USER },
    );

    // Act
    const answer = await call(command);
    const [job] = await jobs.list(`discord:${ALLOWED_USER}`);
    const deliver = createDiscordConsumer({
      storage: aws.storage,
      client: createDiscordClient({
        rest: createDiscordRest({ api: discord.base, timeoutMs: 2_000 }),
        botToken: async () => BOT_TOKEN,
      }),
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    await deliver({
      version: '0',
      id: randomUUID(),
      'detail-type': 'ReplyCompleted.v1',
      source: 'openclaw.agent',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'local',
      resources: [],
      detail: {
        userId: job!.userId,
        conversationId: job!.conversationId,
        replyTo: job!.replyTo,
        inReplyTo: `sched-${randomUUID()}`,
        seq: 0,
        status: 'ok',
        text: 'Here is your morning brief.',
      },
    } as BusEnvelope);

    // Assess
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(answer.data.content).toContain('Scheduled:');
    expect(job).toMatchObject({
      expression: 'cron(0 8 * * ? *)',
      timeZone: 'Europe/Berlin',
      prompt: 'Morning brief',
    });
    // The interaction token (a credential) is not kept with the job.
    expect(JSON.stringify(job!.replyTo)).not.toContain(command.token);
    expect(discord.channelMessages(TEST_CHANNEL_ID).map((message) => message.content)).toContain(
      'Here is your morning brief.',
    );
  });

  it('lists and deletes by short id, refuses a job the store refuses, and tells strangers how to link', async () => {
    // Prepare
    const { jobs, call } = setup();
    await call(slashCommand('schedule', { when: 'in 2h', prompt: 'Stretch' }, { userId: ALLOWED_USER }));
    const job = (await jobs.list(`discord:${ALLOWED_USER}`)).find((j) => j.prompt === 'Stretch');

    // Act
    const listed = await call(slashCommand('schedules', {}, { userId: ALLOWED_USER }));
    const tooOften = await call(
      slashCommand('schedule', { when: 'every 1m', prompt: 'spam' }, { userId: ALLOWED_USER }),
    );
    const deleted = await call(
      slashCommand('unschedule', { id: job!.jobId.slice(0, 8) }, { userId: ALLOWED_USER }),
    );
    const stranger = await call(
      slashCommand('schedule', { when: 'in 2h', prompt: 'x' }, { userId: STRANGER }),
    );

    // Assess
    expect(listed.data.content).toContain('Stretch');
    expect(tooOften.data.content).toContain('at most every 5 minutes');
    expect(deleted.data.content).toContain('Deleted:');
    expect((await jobs.list(`discord:${ALLOWED_USER}`)).some((j) => j.jobId === job!.jobId)).toBe(false);
    expect(stranger.data.content).toContain('/link code:');
    expect(await jobs.list(`discord:${STRANGER}`)).toEqual([]);
  });
});
