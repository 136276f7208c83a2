import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus, type Route } from '../../bus/index.ts';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, MessageReceived } from '../../schemas/index.ts';
import {
  type FakeSlackApi,
  type SlackRequestOptions,
  slackWebhookEvent,
  startFakeSlackApi,
} from '../../test/fixtures/fake-slack-api.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createJobStore } from '../schedule/jobs.ts';
import { recordingScheduler } from '../schedule/test-fixtures.ts';
import { defaultConversationId } from '../shared/channel-ingress.ts';
import { MAX_WEBHOOK_BODY_BYTES } from '../shared/http.ts';
import { createIdentity } from '../shared/identity.ts';
import { createSlackProducer } from './handler.ts';
import { createNoticeSender } from './notice-sender.ts';

const SECRET = 'test-signing-secret-0123456789abcdef';
const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0GENERAL';

/** Every MessageReceived on the bus, as the runtime selector would get it. */
const captureMessages: Route = {
  name: 'capture-messages',
  description: 'test',
  pattern: { 'detail-type': ['MessageReceived.v1'] },
  target: 'runtime-selector',
  delivery: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
};

let eventIds = 0;
let tsCounter = 0;
const nextTs = () => `1760000100.${String(++tsCounter).padStart(6, '0')}`;

/** An Events API `event_callback` as Slack sends it, for our bot `UBOT`. */
function eventCallback(event: Record<string, unknown>, envelope: Record<string, unknown> = {}) {
  return {
    token: 'legacy-verification-token',
    team_id: 'T0TEAM',
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: `Ev${++eventIds}TEST`,
    event_time: 1_760_000_100,
    authorizations: [{ enterprise_id: null, team_id: 'T0TEAM', user_id: 'UBOT', is_bot: true }],
    event: { event_ts: '1760000100.000000', ...event } as Record<string, unknown>,
    ...envelope,
  };
}
const mention = (text: string, extra: Record<string, unknown> = {}) =>
  eventCallback({
    type: 'app_mention',
    user: 'UALICE',
    text: `<@UBOT> ${text}`,
    ts: nextTs(),
    channel: CHANNEL,
    ...extra,
  });
const directMessage = (text: string, extra: Record<string, unknown> = {}) =>
  eventCallback({
    type: 'message',
    channel_type: 'im',
    user: 'UALICE',
    text,
    ts: nextTs(),
    channel: 'D0ALICE',
    ...extra,
  });

/** A slash command form as Slack posts it. */
const slashCommand = (text: string, user = 'UALICE', extra: Record<string, string> = {}) =>
  new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0TEAM',
    team_domain: 'example',
    channel_id: CHANNEL,
    channel_name: 'general',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/openclaw',
    text,
    api_app_id: 'A0APP',
    response_url: 'https://hooks.slack.com/commands/T0TEAM/1/abc',
    trigger_id: `${++eventIds}.760000100.0f1e2d3c4b5a`,
    ...extra,
  }).toString();

describe('the Slack webhook (dynalite, local bus, loopback Slack Web API)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let slack: FakeSlackApi;
  let bus: LocalBus;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let handle: ReturnType<typeof createSlackProducer>;
  let identity: ReturnType<typeof createIdentity>;
  const received: BusEnvelope[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    slack = await startFakeSlackApi({ botToken: TOKEN });
    bus = new LocalBus({
      routes: [captureMessages],
      targets: { 'runtime-selector': async (envelope) => void received.push(envelope) },
    });
    busEndpoint = await startEventBridgeEndpoint(bus);
    const logger = new Logger({ logLevel: 'SILENT' });
    identity = createIdentity({ storage: aws.storage, allowedUsers: ['slack:UALICE'] });
    handle = createSlackProducer({
      storage: aws.storage,
      publisher: createPublisher({
        client: new EventBridgeClient(localClientConfig(busEndpoint.endpoint)),
        eventBusName: 'test',
      }),
      identity,
      signingSecret: async () => SECRET,
      notices: createNoticeSender({ botToken: async () => TOKEN, slackApiUrl: slack.apiUrl, logger }),
      logger,
    });
  });
  afterAll(async () => {
    await bus?.close();
    await busEndpoint?.close();
    await slack?.close();
    await aws?.close();
  });
  beforeEach(() => {
    received.length = 0;
  });

  async function send(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const response = await handle(event);
    await bus.idle();
    return response;
  }
  const postJson = (payload: unknown, options: Partial<SlackRequestOptions> = {}) =>
    send(
      slackWebhookEvent({
        body: JSON.stringify(payload),
        contentType: 'application/json',
        signingSecret: SECRET,
        ...options,
      }),
    );
  const postForm = (body: string, options: Partial<SlackRequestOptions> = {}) =>
    send(
      slackWebhookEvent({
        body,
        contentType: 'application/x-www-form-urlencoded',
        signingSecret: SECRET,
        ...options,
      }),
    );
  const published = () => received.map((envelope) => envelope.detail as MessageReceived);
  const ephemeralText = (response: APIGatewayProxyStructuredResultV2) => {
    const body = JSON.parse(String(response.body)) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    return body.text;
  };
  const challenge = { type: 'url_verification', token: 'legacy', challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9' };

  describe('signatures', () => {
    it('answers url_verification with its challenge when signed', async () => {
      // Act
      const response = await postJson(challenge);

      // Assess
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(String(response.body))).toEqual({ challenge: challenge.challenge });
    });

    it('refuses a body changed after signing', async () => {
      // Prepare
      const event = slackWebhookEvent({
        body: JSON.stringify(mention('original')),
        contentType: 'application/json',
        signingSecret: SECRET,
      });
      event.body = JSON.stringify(mention('tampered'));

      // Act
      const response = await send(event);

      // Assess
      expect(response.statusCode).toBe(401);
      expect(published()).toHaveLength(0);
    });

    it('refuses a request signed with another secret', async () => {
      // Act
      const response = await postJson(mention('hi'), { signingSecret: 'not-our-secret' });

      // Assess
      expect(response.statusCode).toBe(401);
      expect(published()).toHaveLength(0);
    });

    it.each([
      ['more than five minutes old', -301],
      ['more than five minutes ahead', 301],
    ])('refuses a timestamp %s, even when correctly signed', async (_name, offsetSeconds) => {
      // Act
      const response = await postJson(challenge, {
        timestamp: Math.floor(Date.now() / 1000) + offsetSeconds,
      });

      // Assess
      expect(response.statusCode).toBe(401);
    });

    it('accepts a timestamp a few minutes off (clock skew)', async () => {
      // Act
      const response = await postJson(challenge, { timestamp: Math.floor(Date.now() / 1000) - 240 });

      // Assess
      expect(response.statusCode).toBe(200);
    });

    it.each([
      ['signature', { 'x-slack-signature': undefined }],
      ['timestamp', { 'x-slack-request-timestamp': undefined }],
      ['both', { 'x-slack-signature': undefined, 'x-slack-request-timestamp': undefined }],
      ['a usable timestamp', { 'x-slack-request-timestamp': 'yesterday' }],
    ])('refuses a request without a %s', async (_name, headers) => {
      // Act
      const response = await postJson(challenge, { headers });

      // Assess
      expect(response.statusCode).toBe(401);
    });

    it('reads the headers in any case', async () => {
      // Prepare
      const event = slackWebhookEvent({
        body: JSON.stringify(challenge),
        contentType: 'application/json',
        signingSecret: SECRET,
      });
      const original = event.headers;
      event.headers = {
        'Content-Type': `${original['content-type']}; charset=utf-8`,
        'X-Slack-Signature': original['x-slack-signature'] ?? '',
        'X-SLACK-REQUEST-TIMESTAMP': original['x-slack-request-timestamp'] ?? '',
      };

      // Act
      const response = await send(event);

      // Assess
      expect(response.statusCode).toBe(200);
    });

    it('verifies a body API Gateway handed over base64-encoded', async () => {
      // Act
      const response = await postJson(mention('from base64 é ✓'), { base64: true });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(published().map((m) => m.text)).toEqual(['from base64 é ✓']);
    });

    it('refuses a body over the size limit before checking anything else', async () => {
      // Act
      const response = await postJson({
        type: 'event_callback',
        padding: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES),
      });

      // Assess
      expect(response.statusCode).toBe(413);
    });

    it('answers 400 to signed bodies that are not JSON or not the expected shape, 415 to other content types', async () => {
      // Act
      const notJson = await send(
        slackWebhookEvent({ body: '{not json', contentType: 'application/json', signingSecret: SECRET }),
      );
      const badShape = await postJson(eventCallback({ type: 'app_mention', channel: 'lower-case', ts: 'x' }));
      const badEnvelope = await postJson({ type: 'event_callback', event_id: 'Ev/../1', event: {} });
      const xml = await send({
        ...slackWebhookEvent({ body: '<xml/>', contentType: 'application/json', signingSecret: SECRET }),
        headers: {
          ...slackWebhookEvent({ body: '<xml/>', contentType: 'application/json', signingSecret: SECRET })
            .headers,
          'content-type': 'text/xml',
        },
      });

      // Assess
      expect([notJson.statusCode, badShape.statusCode, badEnvelope.statusCode, xml.statusCode]).toEqual([
        400, 400, 400, 415,
      ]);
      expect(published()).toHaveLength(0);
    });
  });

  describe('events', () => {
    it('publishes a mention with the mention removed, to be answered in its thread', async () => {
      // Prepare
      const payload = mention('what is <https://a.example|this>?');
      const ts = String(payload.event.ts);

      // Act
      const response = await postJson(payload);

      // Assess
      expect(response.statusCode).toBe(200);
      expect(received).toHaveLength(1);
      expect(received[0]?.source).toBe('openclaw.slack');
      expect(published()[0]).toMatchObject({
        userId: 'slack:UALICE',
        text: 'what is this (https://a.example)?',
        conversationId: defaultConversationId('slack', `${CHANNEL}:${ts}`),
        replyTo: {
          channel: 'slack',
          address: { channel: CHANNEL, threadTs: ts, userId: 'UALICE', teamId: 'T0TEAM' },
        },
        sender: { channelUserId: 'UALICE' },
      });
    });

    it('keeps a mention inside a thread in that thread and its conversation', async () => {
      // Prepare
      const thread = '1760000000.999999';

      // Act
      await postJson(mention('first', { thread_ts: thread }));
      await postJson(mention('second', { thread_ts: thread }));

      // Assess
      const [first, second] = published();
      expect(first?.replyTo.address.threadTs).toBe(thread);
      expect(second?.conversationId).toBe(first?.conversationId);
    });

    it('publishes a direct message, answered at the top level of the direct message', async () => {
      // Act
      await postJson(directMessage('hello &amp; welcome'));

      // Assess
      expect(published()).toHaveLength(1);
      expect(published()[0]).toMatchObject({
        text: 'hello & welcome',
        conversationId: defaultConversationId('slack', 'D0ALICE'),
        replyTo: { channel: 'slack', address: { channel: 'D0ALICE', userId: 'UALICE' } },
      });
      expect(published()[0]?.replyTo.address.threadTs).toBeUndefined();
    });

    it('publishes a retried event (X-Slack-Retry-Num, same event_id) once', async () => {
      // Prepare
      const payload = mention('only once');

      // Act
      const first = await postJson(payload);
      const retry = await postJson(payload, {
        headers: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' },
      });

      // Assess
      expect([first.statusCode, retry.statusCode]).toEqual([200, 200]);
      expect(published()).toHaveLength(1);
    });

    it("answers 500 when the bus refuses the message, so Slack's retry is published", async () => {
      // Prepare: more rejections than the publisher's four attempts
      const payload = mention('through a hiccup');
      bus.injectFailures(4);

      // Act
      const first = await postJson(payload);
      const retry = await postJson(payload, {
        headers: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_error' },
      });

      // Assess
      expect([first.statusCode, retry.statusCode]).toEqual([500, 200]);
      expect(published().map((m) => m.text)).toEqual(['through a hiccup']);
    });

    it.each([
      ['a bot message', directMessage('beep', { bot_id: 'B0OTHER' })],
      ['an edit', directMessage('edited', { subtype: 'message_changed' })],
      [
        'a channel join',
        eventCallback({
          type: 'message',
          subtype: 'channel_join',
          channel: CHANNEL,
          ts: '1.2',
          user: 'UALICE',
        }),
      ],
      ['our own message', directMessage('my own words', { user: 'UBOT' })],
      [
        'a channel message that is no mention',
        directMessage('chatter', { channel_type: 'channel', channel: CHANNEL }),
      ],
      ['an event we do not subscribe to', eventCallback({ type: 'reaction_added', user: 'UALICE' })],
    ])('acknowledges and ignores %s', async (_name, payload) => {
      // Act
      const response = await postJson(payload);

      // Assess
      expect(response.statusCode).toBe(200);
      expect(published()).toHaveLength(0);
    });

    it('tells a stranger how to link, privately in the thread, and publishes nothing', async () => {
      // Prepare
      const payload = mention('let me in', { user: 'USTRANGER' });

      // Act
      const response = await postJson(payload);

      // Assess
      expect(response.statusCode).toBe(200);
      expect(published()).toHaveLength(0);
      expect(slack.ephemerals.at(-1)).toMatchObject({
        channel: CHANNEL,
        user: 'USTRANGER',
        threadTs: payload.event.ts,
        text: expect.stringContaining('/openclaw link CODE'),
      });
    });

    it('answers an over-long message with a notice instead of publishing it', async () => {
      // Act
      const response = await postJson(directMessage('a'.repeat(40_000)));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(published()).toHaveLength(0);
      expect(slack.ephemerals.at(-1)?.text).toContain('40,000 characters');
    });
  });

  describe('the slash command', () => {
    it('answers help privately', async () => {
      // Act
      const response = await postForm(slashCommand('help'));

      // Assess
      expect(ephemeralText(response)).toContain('/openclaw link CODE');
      expect(published()).toHaveLength(0);
    });

    it('links a stranger with a code from the web app, who can then talk to the agent', async () => {
      // Prepare
      const { code } = await identity.createLinkCode('user-carol');

      // Act
      const wrong = await postForm(slashCommand('link 00000000', 'UCAROL'));
      const linked = await postForm(slashCommand(`link ${code}`, 'UCAROL'));
      await postJson(mention('hello after linking', { user: 'UCAROL' }));

      // Assess
      expect(ephemeralText(wrong)).toContain('not valid');
      expect(ephemeralText(linked)).toContain('Linked');
      expect(published()).toMatchObject([{ userId: 'user-carol', text: 'hello after linking' }]);
    });

    it('publishes a question, answered in the channel, and says so privately', async () => {
      // Act
      const response = await postForm(slashCommand('summarise the &lt;week&gt; &amp; plan'));

      // Assess
      expect(ephemeralText(response)).toContain('Asked your agent: “summarise the &lt;week&gt; &amp; plan”');
      expect(published()).toMatchObject([
        {
          userId: 'slack:UALICE',
          text: 'summarise the <week> & plan',
          conversationId: defaultConversationId('slack', CHANNEL),
          replyTo: { channel: 'slack', address: { channel: CHANNEL, userId: 'UALICE', teamId: 'T0TEAM' } },
        },
      ]);
    });

    it('takes "link" followed by more words for a question', async () => {
      // Act
      await postForm(slashCommand('link these two notes'));

      // Assess
      expect(published().map((m) => m.text)).toEqual(['link these two notes']);
    });

    it('tells a stranger how to link instead of publishing their question', async () => {
      // Act
      const response = await postForm(slashCommand('hello?', 'USTRANGER'));

      // Assess
      expect(ephemeralText(response)).toContain('/openclaw link CODE');
      expect(published()).toHaveLength(0);
    });

    it('starts a new conversation in the channel on "new" and reports the link on "status"', async () => {
      // Prepare
      await postForm(slashCommand('before'));

      // Act
      const fresh = await postForm(slashCommand('new'));
      await postForm(slashCommand('after'));
      const status = await postForm(slashCommand('status'));
      const strangerStatus = await postForm(slashCommand('status', 'USTRANGER'));

      // Assess
      expect(ephemeralText(fresh)).toContain('new conversation');
      const [before, after] = published();
      expect(after?.conversationId).not.toBe(before?.conversationId);
      expect(ephemeralText(status)).toContain('is linked');
      expect(ephemeralText(strangerStatus)).toContain('not linked');
    });

    it('refuses a form that is not a slash command', async () => {
      // Act
      const response = await postForm(
        new URLSearchParams({ payload: '{"type":"block_actions"}' }).toString(),
      );

      // Assess
      expect(response.statusCode).toBe(400);
    });
  });

  describe('scheduled jobs from the slash command', () => {
    it('schedule makes a job that answers in this channel; schedules lists it; unschedule deletes it', async () => {
      // Prepare
      const { scheduler, calls } = recordingScheduler();
      const jobs = createJobStore({ storage: aws.storage, scheduler });
      const logger = new Logger({ logLevel: 'SILENT' });
      const withJobs = createSlackProducer({
        storage: aws.storage,
        publisher: createPublisher({
          client: new EventBridgeClient(localClientConfig(busEndpoint.endpoint)),
          eventBusName: 'test',
        }),
        identity,
        signingSecret: async () => SECRET,
        notices: createNoticeSender({ botToken: async () => TOKEN, slackApiUrl: slack.apiUrl, logger }),
        logger,
        jobs,
      });
      const form = (body: string) =>
        withJobs(
          slackWebhookEvent({
            body,
            contentType: 'application/x-www-form-urlencoded',
            signingSecret: SECRET,
          }),
        );

      // Act
      const created = await form(
        slashCommand('schedule every weekday 08:00 tz=Europe/Berlin Inbox &lt;summary&gt;'),
      );
      const [job] = await jobs.list('slack:UALICE');
      const listed = await form(slashCommand('schedules'));
      const tooOften = await form(slashCommand('schedule every 1m spam'));
      const stranger = await form(slashCommand('schedule in 2h hi', 'USTRANGER'));
      const deleted = await form(slashCommand(`unschedule ${job!.jobId.slice(0, 8)}`));
      await bus.idle();

      // Assess
      expect(ephemeralText(created)).toContain('Scheduled:');
      expect(job).toMatchObject({
        expression: 'cron(0 8 ? * MON-FRI *)',
        timeZone: 'Europe/Berlin',
        prompt: 'Inbox <summary>',
        replyTo: { channel: 'slack', address: { channel: CHANNEL, userId: 'UALICE', teamId: 'T0TEAM' } },
      });
      // Shown escaped for mrkdwn again.
      expect(ephemeralText(listed)).toContain('Inbox &lt;summary&gt;');
      expect(ephemeralText(tooOften)).toContain('at most every 5 minutes');
      expect(ephemeralText(stranger)).toContain('link CODE');
      expect(ephemeralText(deleted)).toContain('Deleted:');
      expect(await jobs.list('slack:UALICE')).toEqual([]);
      expect(calls.map((call) => call.action)).toEqual(['upsert', 'remove']);
      expect(published()).toHaveLength(0);
    });
  });
});
