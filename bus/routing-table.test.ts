import { describe, expect, it } from 'vitest';
import type { BusEnvelope } from '../schemas/index.ts';
import { LocalBus } from './local-bus.ts';
import { ROUTES, TARGETS, type TargetId } from './routing-table.ts';

/** A local bus on the real routing table, with every target recording what reaches it. */
function busWithRecordingTargets() {
  const received: { target: TargetId; detailType: string; source: string }[] = [];
  const record = (target: TargetId) => async (envelope: BusEnvelope) =>
    void received.push({ target, detailType: envelope['detail-type'], source: envelope.source });
  const bus = new LocalBus({
    targets: Object.fromEntries(
      (Object.keys(TARGETS) as TargetId[]).map((target) => [target, record(target)]),
    ),
    logger: { warn() {}, error() {} },
  });
  return { bus, received };
}

const message = {
  userId: 'user-1',
  conversationId: 'conv-1',
  messageId: 'msg-1',
  text: 'hello',
  receivedAt: '2026-11-24T10:00:00.000Z',
  replyTo: { channel: 'web', address: { connectionId: 'abc=' } },
};

describe('the routing table', () => {
  it('sends every user message, from every channel, to the runtime selector and the history, and only there', async () => {
    // Prepare
    const { bus, received } = busWithRecordingTargets();
    const sources = [
      'openclaw.web',
      'openclaw.telegram',
      'openclaw.discord',
      'openclaw.slack',
      'openclaw.schedule',
    ];

    // Act
    bus.putEvents(
      sources.map((Source) => ({
        Source,
        DetailType: 'MessageReceived.v1',
        Detail: JSON.stringify(message),
      })),
    );
    await bus.idle();

    // Assess
    expect(received.filter((r) => r.target === 'runtime-selector')).toEqual(
      sources.map((source) => ({ target: 'runtime-selector', detailType: 'MessageReceived.v1', source })),
    );
    expect(received.filter((r) => r.target === 'history')).toEqual(
      sources.map((source) => ({ target: 'history', detailType: 'MessageReceived.v1', source })),
    );
    expect(received).toHaveLength(sources.length * 2);
  });

  it("sends the agent's PendingMessagesWaiting to the runtime selector, and ignores it from anyone else", async () => {
    // Prepare
    const { bus, received } = busWithRecordingTargets();
    const detail = JSON.stringify({ userId: 'user-1', reason: 'task-exited' });

    // Act
    bus.putEvents([
      { Source: 'openclaw.agent', DetailType: 'PendingMessagesWaiting.v1', Detail: detail },
      { Source: 'openclaw.web', DetailType: 'PendingMessagesWaiting.v1', Detail: detail },
    ]);
    await bus.idle();

    // Assess
    expect(received).toEqual([
      { target: 'runtime-selector', detailType: 'PendingMessagesWaiting.v1', source: 'openclaw.agent' },
    ]);
  });

  it("sends each channel's replies to that channel's consumer, completed ones also to the history, and never a message to the agent directly", async () => {
    // Prepare
    const { bus, received } = busWithRecordingTargets();
    const reply = { ...message, inReplyTo: 'msg-1', seq: 0, status: 'ok', text: 'hi' };
    const delta = { ...message, inReplyTo: 'msg-1', seq: 0, text: 'h' };

    // Act
    bus.putEvents([
      { Source: 'openclaw.agent', DetailType: 'ReplyCompleted.v1', Detail: JSON.stringify(reply) },
      {
        Source: 'openclaw.agent',
        DetailType: 'ReplyCompleted.v1',
        Detail: JSON.stringify({ ...reply, replyTo: { channel: 'telegram', address: { chatId: 1 } } }),
      },
      { Source: 'openclaw.agent', DetailType: 'ReplyDelta.v1', Detail: JSON.stringify(delta) },
    ]);
    await bus.idle();

    // Assess
    expect(received).toEqual(
      expect.arrayContaining([
        { target: 'web-consumer', detailType: 'ReplyCompleted.v1', source: 'openclaw.agent' },
        { target: 'telegram-consumer', detailType: 'ReplyCompleted.v1', source: 'openclaw.agent' },
        { target: 'web-consumer', detailType: 'ReplyDelta.v1', source: 'openclaw.agent' },
      ]),
    );
    // Deltas are worthless to the history: only the two completed replies reach it.
    expect(received.filter((r) => r.target === 'history')).toEqual([
      { target: 'history', detailType: 'ReplyCompleted.v1', source: 'openclaw.agent' },
      { target: 'history', detailType: 'ReplyCompleted.v1', source: 'openclaw.agent' },
    ]);
    expect(received).toHaveLength(5);
    // The agent is invoked by the runtime selector, not by a rule; its retry settings still live here.
    expect(ROUTES.some((route) => route.target === 'agent')).toBe(false);
    expect(Object.keys(TARGETS).sort()).toEqual([
      'agent',
      'discord-consumer',
      'history',
      'runtime-selector',
      'schedule-producer',
      'slack-consumer',
      'telegram-consumer',
      'web-consumer',
    ]);
  });
});
