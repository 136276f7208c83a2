import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, LocalBus, type Publisher, ROUTES, type TargetId } from '../bus/index.ts';
import { createSlackConsumer } from '../consumers/slack/handler.ts';
import { createSlackApi } from '../consumers/slack/slack-api.ts';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import { createIdentity } from '../producers/shared/identity.ts';
import { createSlackProducer } from '../producers/slack/handler.ts';
import { createNoticeSender } from '../producers/slack/notice-sender.ts';
import { type BusEnvelope, EventSources, type MessageReceived } from '../schemas/index.ts';
import { type FakeSlackApi, slackWebhookEvent, startFakeSlackApi } from './fixtures/fake-slack-api.ts';
import { startLocalAws } from './fixtures/local-aws.ts';

const SECRET = 'round-trip-signing-secret';
const TOKEN = 'xoxb-round-trip';
const CHANNEL = 'C0GENERAL';

const SLACK_CONSUMER: TargetId = 'slack-consumer';
// The routing table's own routes: the selector's (here a stand-in agent) and Slack's replies.
const routes = ROUTES.filter((route) => ['runtime-selector', SLACK_CONSUMER].includes(route.target));

const LONG_PARAGRAPH = `A paragraph of the long answer. ${'More words to read. '.repeat(40)}`;

/**
 * Stands in for the runtime selector and the agent: answers each message the way the agent does, with a
 * status, two cumulative deltas and the completed reply, in Markdown, through the real publisher.
 */
function standInAgent(publisher: Publisher, asked: MessageReceived[]) {
  return async (envelope: BusEnvelope) => {
    const message = envelope.detail as MessageReceived;
    asked.push(message);
    const about = {
      userId: message.userId,
      conversationId: message.conversationId,
      replyTo: message.replyTo,
      inReplyTo: message.messageId,
    };
    const answer = message.text.startsWith('long')
      ? Array.from({ length: 8 }, (_, i) => `**Part ${i + 1}.** ${LONG_PARAGRAPH}`).join('\n\n')
      : `You said: **${message.text}**. See [the docs](https://docs.example/?q=1&r=2).`;
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'AgentStatusChanged.v1',
      detail: { ...about, status: 'thinking', message: 'Thinking…' },
    });
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'ReplyDelta.v1',
      detail: { ...about, seq: 1, text: answer.slice(0, 12) },
    });
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'ReplyDelta.v1',
      detail: { ...about, seq: 2, text: answer.slice(0, 30) },
    });
    // A model takes a moment between its last words and the end of the turn.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await publisher.publish({
      source: EventSources.agent,
      detailType: 'ReplyCompleted.v1',
      detail: { ...about, seq: 3, status: 'ok', text: answer },
    });
  };
}

describe('Slack end to end: webhook → bus → stand-in agent → bus → consumer → Slack Web API', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  let slack: FakeSlackApi;
  let bus: LocalBus;
  let busEndpoint: Awaited<ReturnType<typeof startEventBridgeEndpoint>>;
  let webhook: ReturnType<typeof createSlackProducer>;
  const asked: MessageReceived[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    slack = await startFakeSlackApi({ botToken: TOKEN });
    const logger = new Logger({ logLevel: 'SILENT' });
    let publisher: Publisher | undefined;
    const consumer = createSlackConsumer({
      storage: aws.storage,
      slack: createSlackApi({ botToken: async () => TOKEN, slackApiUrl: slack.apiUrl, logger }),
      logger,
      settleMs: 50,
    });
    bus = new LocalBus({
      routes,
      targets: {
        'runtime-selector': (envelope) => standInAgent(publisher as Publisher, asked)(envelope),
        [SLACK_CONSUMER]: (envelope: BusEnvelope) => consumer(envelope),
      },
      retryDelayMs: () => 50,
    });
    busEndpoint = await startEventBridgeEndpoint(bus);
    publisher = createPublisher({
      client: new EventBridgeClient(localClientConfig(busEndpoint.endpoint)),
      eventBusName: 'test',
    });
    webhook = createSlackProducer({
      storage: aws.storage,
      publisher,
      identity: createIdentity({ storage: aws.storage, allowedUsers: ['slack:UALICE'] }),
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

  let eventIds = 0;
  const mentionOf = (text: string, ts: string) => ({
    type: 'event_callback',
    team_id: 'T0TEAM',
    api_app_id: 'A0APP',
    event_id: `Ev${++eventIds}ROUNDTRIP`,
    authorizations: [{ team_id: 'T0TEAM', user_id: 'UBOT', is_bot: true }],
    event: {
      type: 'app_mention',
      user: 'UALICE',
      text: `<@UBOT> ${text}`,
      ts,
      channel: CHANNEL,
      event_ts: ts,
    },
  });
  async function deliver(
    body: string,
    contentType: 'application/json' | 'application/x-www-form-urlencoded',
    headers = {},
  ) {
    const response = await webhook(slackWebhookEvent({ body, contentType, signingSecret: SECRET, headers }));
    await bus.idle();
    return response;
  }

  it('answers a mention in its thread: posted, then edited into the final mrkdwn', async () => {
    // Prepare
    const ts = '1760000500.000001';

    // Act
    const response = await deliver(JSON.stringify(mentionOf('hello', ts)), 'application/json');

    // Assess
    expect(response.statusCode).toBe(200);
    const thread = slack.messagesIn(CHANNEL, ts);
    expect(thread).toHaveLength(1);
    expect(thread[0]?.text).toBe('You said: *hello*. See <https://docs.example/?q=1&amp;r=2|the docs>.');
    const calls = slack.calls.filter((c) => c.params.thread_ts === ts || c.params.ts === thread[0]?.ts);
    expect(calls[0]).toMatchObject({
      method: 'chat.postMessage',
      params: { channel: CHANNEL, thread_ts: ts },
    });
    expect(calls.at(-1)).toMatchObject({ method: 'chat.update', params: { text: thread[0]?.text } });
    expect(bus.deadLetters).toHaveLength(0);
  });

  it('answers a long reply with several thread messages under 3,000 characters', async () => {
    // Prepare
    const ts = '1760000500.000002';

    // Act
    await deliver(JSON.stringify(mentionOf('long answer please', ts)), 'application/json');

    // Assess
    const thread = slack.messagesIn(CHANNEL, ts);
    expect(thread.length).toBeGreaterThan(2);
    for (const message of thread) expect(message.text.length).toBeLessThanOrEqual(3_000);
    expect(thread[0]?.text.startsWith('*Part 1.* A paragraph')).toBe(true);
    expect(thread.map((m) => m.text).join('\n\n')).toContain('*Part 8.*');
  });

  it('answers a retried event (X-Slack-Retry-Num, same event_id) exactly once', async () => {
    // Prepare
    const ts = '1760000500.000003';
    const body = JSON.stringify(mentionOf('are you there?', ts));
    const askedBefore = asked.length;

    // Act
    await deliver(body, 'application/json');
    await deliver(body, 'application/json', {
      'X-Slack-Retry-Num': '1',
      'X-Slack-Retry-Reason': 'http_timeout',
    });
    await deliver(body, 'application/json', {
      'X-Slack-Retry-Num': '2',
      'X-Slack-Retry-Reason': 'http_timeout',
    });

    // Assess
    expect(asked.length - askedBefore).toBe(1);
    expect(slack.messagesIn(CHANNEL, ts)).toHaveLength(1);
  });

  it('answers a slash command question in the channel', async () => {
    // Prepare
    const form = new URLSearchParams({
      command: '/openclaw',
      text: 'slash question',
      team_id: 'T0TEAM',
      channel_id: 'C0RANDOM',
      user_id: 'UALICE',
      user_name: 'alice',
      trigger_id: '111.222.roundtrip',
      response_url: 'https://hooks.slack.com/commands/x',
    });

    // Act
    const response = await deliver(form.toString(), 'application/x-www-form-urlencoded');

    // Assess
    expect(JSON.parse(String(response.body))).toMatchObject({ response_type: 'ephemeral' });
    expect(slack.messagesIn('C0RANDOM').map((m) => m.text)).toEqual([
      'You said: *slash question*. See <https://docs.example/?q=1&amp;r=2|the docs>.',
    ]);
  });

  it('honours a 429 from Slack and still answers once', async () => {
    // Prepare
    const ts = '1760000500.000004';
    slack.rateLimit('chat.postMessage', 1, 1);

    // Act
    await deliver(JSON.stringify(mentionOf('patience', ts)), 'application/json');

    // Assess
    expect(slack.calls.some((c) => c.status === 429)).toBe(true);
    expect(slack.messagesIn(CHANNEL, ts).map((m) => m.text)).toEqual([
      'You said: *patience*. See <https://docs.example/?q=1&amp;r=2|the docs>.',
    ]);
  });
});
