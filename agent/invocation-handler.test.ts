import { describe, expect, it } from 'vitest';
import type { MessageReceived } from '../schemas/types.ts';
import { messageAt } from '../test/fixtures/messages.ts';
import { createInvocationHandler } from './invocation-handler.ts';

/** A handler whose message entry and drain record what they were asked to do. */
function setup() {
  const turns: { message: MessageReceived; deadlineAt: number }[] = [];
  const drains: { userId: string; deadlineAt: number }[] = [];
  const errors: { message: string; extra: Record<string, unknown>[] }[] = [];
  const handle = createInvocationHandler({
    answerMessage: async (message, deadlineAt) => {
      turns.push({ message, deadlineAt });
      return 'answered';
    },
    drainPending: async (userId, deadlineAt) => {
      drains.push({ userId, deadlineAt });
      return 'empty';
    },
    logger: { error: (message, ...extra) => void errors.push({ message, extra }) },
  });
  return { handle, turns, drains, errors };
}

describe('the agent invocation handler', () => {
  it('answers the message of a turn invocation, by the given deadline', async () => {
    // Prepare
    const { handle, turns, drains, errors } = setup();
    const message = messageAt('user-1', 'm1', 0);

    // Act
    await handle({ kind: 'turn', message }, 1_234_567);

    // Assess
    expect(turns).toEqual([{ message, deadlineAt: 1_234_567 }]);
    expect(drains).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("drains the user's queue for a drain invocation, by the given deadline", async () => {
    // Prepare
    const { handle, turns, drains, errors } = setup();

    // Act
    await handle({ kind: 'drain-pending', userId: 'user-2' }, 7_654_321);

    // Assess
    expect(drains).toEqual([{ userId: 'user-2', deadlineAt: 7_654_321 }]);
    expect(turns).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('logs and drops malformed invocations without throwing or leaking the message text', async () => {
    // Prepare
    const { handle, turns, drains, errors } = setup();
    const secretText = 'my password is hunter2';
    const malformed: unknown[] = [
      undefined,
      null,
      'turn',
      {},
      { kind: 'explode', userId: 'user-3' },
      { kind: 'turn' },
      { kind: 'turn', message: { ...messageAt('user-3', 'm3', 0), text: secretText, userId: 42 } },
      { kind: 'drain-pending' },
      // An EventBridge envelope: what the agent was invoked with before the selector existed.
      { 'detail-type': 'MessageReceived.v1', detail: messageAt('user-3', 'm4', 0) },
    ];

    // Act
    const results = await Promise.all(malformed.map((request) => handle(request, Date.now() + 60_000)));

    // Assess
    expect(results).toEqual(malformed.map(() => undefined));
    expect(turns).toEqual([]);
    expect(drains).toEqual([]);
    expect(errors).toHaveLength(malformed.length);
    expect(errors.every((error) => error.message === 'malformed agent invocation dropped')).toBe(true);
    expect(JSON.stringify(errors)).not.toContain('hunter2');
    expect(errors[6]?.extra[0]).toMatchObject({ field: 'message.userId' });
  });
});
