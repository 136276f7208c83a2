import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { startEventBridgeEndpoint } from '../infra/local/event-bridge-endpoint.ts';
import type { BusEnvelope, BusEvent, MessageReceived } from '../schemas/index.ts';
import { InvalidEventError, PublishError } from './errors.ts';
import { LocalBus } from './local-bus.ts';
import { batchEntries, createPublisher, entrySize, MAX_BYTES_PER_CALL } from './publish.ts';
import { type Route, TARGETS } from './routing-table.ts';

const message = (n: number, text = `hello ${n}`): BusEvent<'MessageReceived.v1'> => ({
  source: 'openclaw.web',
  detailType: 'MessageReceived.v1',
  detail: {
    userId: 'user-1',
    conversationId: 'conv-1',
    messageId: `msg-${n}`,
    text,
    receivedAt: new Date(0).toISOString(),
    replyTo: { channel: 'web', address: { connectionId: 'abc=' } },
  } satisfies MessageReceived,
});

const catchAll: Route = {
  name: 'all-messages',
  description: 'test',
  pattern: { 'detail-type': ['MessageReceived.v1'] },
  target: 'agent',
  delivery: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A publisher wired to a local bus through the real EventBridge client and our PutEvents endpoint. */
async function publisherOnLocalBus() {
  const received: BusEnvelope[] = [];
  const bus = new LocalBus({ routes: [catchAll], targets: { agent: async (e) => void received.push(e) } });
  const endpoint = await startEventBridgeEndpoint(bus);
  const requests: number[] = [];
  const client = new EventBridgeClient(localClientConfig(endpoint.endpoint));
  client.middlewareStack.add(
    (next) => async (args) => {
      requests.push(((args.input as { Entries: unknown[] }).Entries ?? []).length);
      return next(args);
    },
    { step: 'initialize' },
  );
  cleanups.push(async () => {
    client.destroy();
    await endpoint.close();
  });
  return {
    bus,
    received,
    requests,
    publisher: createPublisher({ client, eventBusName: 'test', baseDelayMs: 1 }),
  };
}

describe('batchEntries', () => {
  it('splits at 10 entries a call', () => {
    const entries = Array.from({ length: 23 }, (_, i) => ({
      Source: 's',
      DetailType: 'd',
      Detail: `{"i":${i}}`,
    }));
    expect(batchEntries(entries).map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it('splits before a call would pass 256 KB, keeping order', () => {
    const big = 'x'.repeat(100 * 1024);
    const entries = Array.from({ length: 5 }, (_, i) => ({
      Source: 's',
      DetailType: 'd',
      Detail: `{"i":${i},"t":"${big}"}`,
    }));
    const batches = batchEntries(entries);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    for (const batch of batches)
      expect(batch.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(MAX_BYTES_PER_CALL);
    expect(batches.flat()).toEqual(entries);
  });

  it('counts size the EventBridge way: UTF-8 bytes of source, detail-type and detail', () => {
    expect(entrySize({ Source: 'ab', DetailType: 'é', Detail: '{}' })).toBe(2 + 2 + 2);
    expect(entrySize({ Source: 'a', DetailType: 'b', Detail: '{}', Time: new Date() })).toBe(4 + 14);
  });
});

describe('publish() through the EventBridge client', () => {
  it('delivers every event to the matching target, 10 per PutEvents call', async () => {
    const { publisher, bus, received, requests } = await publisherOnLocalBus();
    await publisher.publish(Array.from({ length: 25 }, (_, i) => message(i)));
    await bus.idle();
    expect(requests).toEqual([10, 10, 5]);
    expect(received.map((e) => (e.detail as MessageReceived).messageId).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `msg-${i}`).sort(),
    );
    expect(received[0]).toMatchObject({
      version: '0',
      source: 'openclaw.web',
      'detail-type': 'MessageReceived.v1',
    });
  });

  it('retries only the entries EventBridge rejected', async () => {
    const { publisher, bus, received, requests } = await publisherOnLocalBus();
    bus.injectFailures(3);
    await publisher.publish(Array.from({ length: 5 }, (_, i) => message(i)));
    await bus.idle();
    expect(requests).toEqual([5, 3]);
    expect(received).toHaveLength(5);
  });

  it('throws PublishError naming what still failed after every attempt', async () => {
    const { publisher, bus } = await publisherOnLocalBus();
    bus.injectFailures(100);
    const error = await publisher.publish([message(1), message(2)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failed).toHaveLength(2);
    expect((error as PublishError).failed[0]?.errorCode).toBe('InternalFailure');
  });

  it('refuses an invalid detail before sending anything', async () => {
    const { publisher, requests } = await publisherOnLocalBus();
    const bad = message(1);
    (bad.detail as { userId: string }).userId = 'has spaces';
    await expect(publisher.publish([message(0), bad])).rejects.toThrow(InvalidEventError);
    expect(requests).toEqual([]);
  });

  it('refuses an event larger than 256 KB', async () => {
    const { publisher } = await publisherOnLocalBus();
    const reply: BusEvent = {
      source: 'openclaw.agent',
      detailType: 'ReplyCompleted.v1',
      // Within the 100,000-character text limit, but 3 bytes a character: ~297 KB on the wire.
      detail: { ...message(1).detail, inReplyTo: 'm', seq: 1, status: 'ok', text: '€'.repeat(99_000) },
    } as BusEvent;
    await expect(publisher.publish(reply)).rejects.toThrow(/256 KB/);
  });
});

describe('LocalBus delivery', () => {
  it('retries a failing target per the route policy, then keeps a dead letter', async () => {
    let calls = 0;
    const bus = new LocalBus({
      routes: [catchAll],
      targetDefinitions: { ...TARGETS, agent: { ...TARGETS.agent, retryAttempts: 2 } },
      targets: {
        agent: async () => {
          calls++;
          throw new Error('target down');
        },
      },
      retryDelayMs: () => 1,
      logger: { warn: () => undefined, error: () => undefined },
    });
    bus.putEvents([{ Source: 'openclaw.web', DetailType: 'MessageReceived.v1', Detail: '{"a":1}' }]);
    await bus.idle();
    expect(calls).toBe(3);
    expect(bus.deadLetters).toHaveLength(1);
    expect(bus.deadLetters[0]).toMatchObject({ route: 'all-messages', attempts: 3 });
  });

  it('rejects malformed entries per entry, like PutEvents', () => {
    const bus = new LocalBus({ routes: [catchAll], targets: {} });
    const results = bus.putEvents([
      { Source: 's', DetailType: 'd', Detail: 'not json' },
      { Source: 's', DetailType: 'd', Detail: '[1]' },
      { Source: 's', Detail: '{}' },
      { Source: 's', DetailType: 'd', Detail: '{}' },
    ]);
    expect(results.map((r) => r.ErrorCode)).toEqual([
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      undefined,
    ]);
    expect(results[3]?.EventId).toMatch(/[0-9a-f-]{36}/);
  });

  it('does not deliver events that match no route', async () => {
    const received: unknown[] = [];
    const bus = new LocalBus({ routes: [catchAll], targets: { agent: async (e) => void received.push(e) } });
    bus.putEvents([{ Source: 'openclaw.agent', DetailType: 'ReplyDelta.v1', Detail: '{}' }]);
    await bus.idle();
    expect(received).toEqual([]);
  });
});
