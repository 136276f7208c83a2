import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../infra/local/aws-config.ts';
import type { MessageReceived } from '../../schemas/index.ts';
import { createStorage, type Storage } from '../../schemas/table.ts';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { messageAt } from '../../test/fixtures/messages.ts';
import { createSessionLock } from '../session-lock.ts';
import { countDirectAttempt, findStoredReply, storeReply } from '../turn-records.ts';
import type { TurnOptions, TurnOutcome } from '../turn-runner.ts';
import { createOrderedTurn, type OrderedTurnResult } from './ordered-turn.ts';
import { createPendingDrain } from './pending-drain.ts';
import { createPendingMessages } from './pending-messages.ts';
import { createPredecessorGate } from './predecessor-gate.ts';
import { createTaskStateStore } from './task-state.ts';

/** Polls an asynchronous condition every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
async function until(holds: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A gate a test opens by hand: a turn that waits on it is "mid-turn" until then. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('Lambda turns of one user answered oldest first (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  /**
   * A Storage of its own on the same table, which counts its DynamoDB calls and can "die": from then on
   * every call fails, as for an invocation whose process was killed (its lease is no longer renewed).
   */
  function ownStorage(): { storage: Storage; calls: string[]; die(): void; failNext(calls: number): void } {
    const calls: string[] = [];
    let dead = false;
    let failing = 0;
    const client = new DynamoDBClient(localClientConfig(aws.dynamoEndpoint));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (dead) throw new Error('this invocation is dead');
        if (failing > 0) {
          failing--;
          throw new Error('Injected: throttled, and the SDK’s own retries did not get through');
        }
        calls.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize' },
    );
    const documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    return {
      storage: createStorage({ tableName: 'test-table', documentClient }),
      calls,
      die() {
        dead = true;
      },
      failNext(n) {
        failing = n;
      },
    };
  }

  const quiet = { info() {}, warn() {}, error() {} };

  /** What the fake turn runner saw, shared by every invocation of a test. */
  function recorder() {
    const answered: string[] = [];
    const republished: string[] = [];
    /** Messages answered with the crash error (the real one is `crash-reply.ts`). */
    const erroredWith: string[] = [];
    const answerWithError = async (message: MessageReceived) =>
      void erroredWith.push(idOf(message.messageId));
    let active = 0;
    let maxActive = 0;
    const gates = new Map<string, Promise<void>>();
    /**
     * A turn runner with the real one's contract where it matters here: it answers a message once and stores
     * the reply, and republishes a stored reply instead of asking the LLM again. Only one may hold the lock.
     */
    const runTurn = async (message: MessageReceived, turn: TurnOptions): Promise<TurnOutcome> => {
      if (!turn.lease) throw new Error('a Lambda turn must run under the caller’s lease');
      const id = message.messageId.slice(message.messageId.indexOf('.') + 1);
      if (await findStoredReply(aws.storage, message.messageId)) {
        republished.push(id);
        return 'answered';
      }
      active++;
      maxActive = Math.max(maxActive, active);
      await gates.get(id);
      answered.push(id);
      await storeReply(aws.storage, {
        userId: message.userId,
        conversationId: message.conversationId,
        replyTo: message.replyTo,
        inReplyTo: message.messageId,
        seq: 0,
        status: 'ok',
        text: `answer to ${message.messageId}`,
      });
      active--;
      return 'answered';
    };
    return {
      answered,
      republished,
      erroredWith,
      answerWithError,
      gates,
      runTurn,
      maxActive: () => maxActive,
      /** Turns started and not finished (a dead invocation's never finishes). */
      active: () => active,
    };
  }

  /** One agent invocation's `answerMessage`, on its own storage (and so its own DynamoDB connection). */
  function invocation(
    rec: ReturnType<typeof recorder>,
    options: { leaseMs?: number; own?: ReturnType<typeof ownStorage>; predecessorWaitMs?: number } = {},
  ) {
    const own = options.own ?? ownStorage();
    const pending = createPendingMessages(own.storage);
    const mustWaitForPredecessor = createPredecessorGate({
      storage: own.storage,
      maxWaitMs: options.predecessorWaitMs,
    });
    let n = 0;
    const newLock = () =>
      createSessionLock({
        storage: own.storage,
        owner: `inv-${Math.random()}-${++n}`,
        leaseMs: options.leaseMs,
      });
    const drain = createPendingDrain({
      taskState: createTaskStateStore(own.storage),
      pending,
      newLock,
      runTurn: rec.runTurn,
      mustWaitForPredecessor,
      answerWithError: async () => {},
      continueLater: async () => {},
      logger: quiet,
    });
    return {
      ...own,
      answerMessage: createOrderedTurn({
        pending,
        newLock,
        runTurn: rec.runTurn,
        mustWaitForPredecessor,
        countAttempt: (messageId) => countDirectAttempt(own.storage, messageId),
        answerWithError: rec.answerWithError,
        drain,
        logger: quiet,
      }),
    };
  }

  /** Turn records are keyed by message id alone: each test's ids carry its user, so tests stay apart. */
  const msg = (user: string, id: string, secondsAfter: number) =>
    messageAt(user, `${user}.${id}`, secondsAfter);
  const idOf = (messageId: string) => messageId.slice(messageId.indexOf('.') + 1);
  const pending = () => createPendingMessages(aws.storage);
  const queued = async (userId: string) =>
    (await pending().list(userId)).map((p) => idOf(p.message.messageId));
  const lockOf = async (userId: string) =>
    (
      await aws.storage.SessionLockEntity.build(GetItemCommand)
        .key({ userId })
        .options({ consistent: true })
        .send()
    ).Item;
  const deadline = () => Date.now() + 600_000;
  const attemptsOf = async (messageId: string) =>
    (
      await aws.storage.TurnRecordEntity.build(GetItemCommand)
        .key({ messageId })
        .options({ consistent: true })
        .send()
    ).Item?.attempts;

  it('answers the message of an idle user at once, with three DynamoDB calls of its own: take, count, release', async () => {
    // Prepare
    const rec = recorder();
    const agent = invocation(rec);
    const user = 'user-idle';

    // Act
    const result = await agent.answerMessage(msg(user, 'm0', 0), deadline());

    // Assess: the fake turn's own calls go through another client; these are the ordering's
    expect(result).toBe('answered');
    expect(rec.answered).toEqual(['m0']);
    expect(agent.calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });

  it('answers two messages that find the user busy oldest first, though the newer one came in first', async () => {
    // Prepare: the user's first message is mid-turn
    const rec = recorder();
    const user = 'user-race';
    const first = gate();
    rec.gates.set('m0', first.opened);
    const holder = invocation(rec).answerMessage(msg(user, 'm0', 0), deadline());
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');

    // Act: the newer message's invocation starts first, the older one's after it
    const newer = await invocation(rec).answerMessage(msg(user, 'm2', 2), deadline());
    const older = await invocation(rec).answerMessage(msg(user, 'm1', 1), deadline());
    first.open();
    const held = await holder;

    // Assess
    expect([newer, older]).toEqual(['queued', 'queued']);
    expect(held).toBe('empty');
    expect(rec.answered).toEqual(['m0', 'm1', 'm2']);
    expect(rec.maxActive()).toBe(1);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });

  /** A message received just now that names `after` as its predecessor (as the web chat sends them). */
  const sentAfter = (user: string, id: string, after: string | undefined, msAgo = 0): MessageReceived => ({
    ...msg(user, id, 0),
    receivedAt: new Date(Date.now() - msAgo).toISOString(),
    ...(after ? { afterMessageId: `${user}.${after}` } : {}),
  });

  it('answers a message that overtook its predecessor on the bus after it, though it found the user idle', async () => {
    // Prepare: m1's invocation takes the idle user's lock before m0's (sent first) reaches the agent
    const rec = recorder();
    const user = 'user-overtaken';
    const newer = invocation(rec).answerMessage(sentAfter(user, 'm1', 'm0'), deadline());
    await until(async () => (await queued(user)).includes('m1'), 5_000, 'm1 queued to wait for m0');

    // Act: the predecessor arrives 200 ms late
    await new Promise((resolve) => setTimeout(resolve, 200));
    const older = await invocation(rec).answerMessage(sentAfter(user, 'm0', undefined, 300), deadline());

    // Assess: m1's invocation answered both, in the order they were sent
    expect(older).toBe('queued');
    expect(await newer).toBe('empty');
    expect(rec.answered).toEqual(['m0', 'm1']);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });

  it('holds a message back for a predecessor only while it is unanswered, and only for the gate’s wait', async () => {
    // Prepare
    const rec = recorder();
    const user = 'user-predecessor';
    const agent = invocation(rec, { predecessorWaitMs: 600 });
    await agent.answerMessage(sentAfter(user, 'm0', undefined), deadline());

    // Act: one after an answered message, one after a message that never comes
    let startedAt = Date.now();
    await agent.answerMessage(sentAfter(user, 'm1', 'm0'), deadline());
    const afterAnsweredMs = Date.now() - startedAt;
    startedAt = Date.now();
    const result = await agent.answerMessage(sentAfter(user, 'm2', 'never-sent'), deadline());
    const afterMissingMs = Date.now() - startedAt;

    // Assess
    expect(rec.answered).toEqual(['m0', 'm1', 'm2']);
    expect(afterAnsweredMs).toBeLessThan(400);
    expect(result).toBe('empty');
    expect(afterMissingMs).toBeGreaterThanOrEqual(500);
    expect(await queued(user)).toEqual([]);
  });

  it('leaves a mark when it queued a message for its predecessor, so a retry after a crash answers it once', async () => {
    // Prepare: m1 names a predecessor that never comes; its invocation queues it, waits out the gate, and
    // dies mid-turn on it
    const rec = recorder();
    const user = 'user-gated-dies';
    const never = gate();
    rec.gates.set('m1', never.opened);
    const doomed = invocation(rec, { leaseMs: 400, predecessorWaitMs: 300 });
    void doomed.answerMessage(sentAfter(user, 'm1', 'never-sent'), deadline()).catch(() => 'died');
    await until(async () => rec.active() === 1, 5_000, 'the turn on m1');
    doomed.die();
    rec.gates.delete('m1');
    await until(
      async () => ((await lockOf(user))?.leaseExpiresAt ?? 0) < Date.now(),
      5_000,
      'the dead holder’s lease to run out',
    );

    // Act: Lambda's retry, the gate long past
    const retried = await invocation(rec, { predecessorWaitMs: 300 }).answerMessage(
      sentAfter(user, 'm1', 'never-sent', 1_000),
      deadline(),
    );

    // Assess: answered from the queue, and no copy left there for a second answer
    expect(retried).toBe('empty');
    expect(rec.answered).toEqual(['m1']);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });

  it('answers every one of many concurrent messages once, those that waited in the order they were sent', async () => {
    // Prepare: ten messages of one user whose invocations start in a shuffled order while m-first is answered
    const rec = recorder();
    const user = 'user-many';
    const first = gate();
    rec.gates.set('first', first.opened);
    const holder = invocation(rec).answerMessage(msg(user, 'first', 0), deadline());
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');
    const order = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4];

    // Act
    const results = await Promise.all(
      order.map((i) => invocation(rec).answerMessage(msg(user, `m${i}`, 10 + i), deadline())),
    );
    first.open();
    await holder;

    // Assess
    expect(results.every((result) => result === 'queued')).toBe(true);
    expect(rec.answered).toEqual(['first', ...Array.from({ length: 10 }, (_, i) => `m${i}`)]);
    expect(rec.maxActive()).toBe(1);
    expect(await queued(user)).toEqual([]);
  });

  it('does not strand a message queued just as the holder lets go: its own invocation answers it', async () => {
    // Prepare: the waiter finds the lock held, but the holder has released it by the time it is queued
    const rec = recorder();
    const user = 'user-release-race';
    const first = gate();
    rec.gates.set('m0', first.opened);
    const holder = invocation(rec).answerMessage(msg(user, 'm0', 0), deadline());
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');
    const waiter = invocation(rec);
    const slowQueue = createPendingMessages(waiter.storage);
    let holderDone: Promise<OrderedTurnResult> | undefined;
    const late = createOrderedTurn({
      pending: {
        enqueue: async (message) => {
          const queuedAs = await slowQueue.enqueue(message);
          first.open();
          await holderDone;
          return queuedAs;
        },
      },
      newLock: () => createSessionLock({ storage: waiter.storage, owner: 'late-waiter' }),
      runTurn: rec.runTurn,
      mustWaitForPredecessor: createPredecessorGate({ storage: waiter.storage }),
      countAttempt: (messageId) => countDirectAttempt(waiter.storage, messageId),
      answerWithError: rec.answerWithError,
      logger: quiet,
      drain: createPendingDrain({
        taskState: createTaskStateStore(waiter.storage),
        pending: slowQueue,
        newLock: () => createSessionLock({ storage: waiter.storage, owner: 'late-drain' }),
        runTurn: rec.runTurn,
        mustWaitForPredecessor: createPredecessorGate({ storage: waiter.storage }),
        answerWithError: async () => {},
        continueLater: async () => {},
        logger: quiet,
      }),
    });
    holderDone = holder;

    // Act
    const result = await late(msg(user, 'm1', 1), deadline());

    // Assess: the holder let go with nobody marked as waiting; the waiter took the lock and answered itself
    expect(await holder).toBe('answered');
    expect(result).toBe('empty');
    expect(rec.answered).toEqual(['m0', 'm1']);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });

  it('recovers from a holder that dies mid-turn: the retry of its invocation answers it and the queue, oldest first', async () => {
    // Prepare: the holder's process dies mid-turn (its lease is no longer renewed) with two messages queued
    const rec = recorder();
    const user = 'user-holder-dies';
    const never = gate();
    rec.gates.set('m0', never.opened);
    const doomed = invocation(rec, { leaseMs: 600 });
    const dying = doomed.answerMessage(msg(user, 'm0', 0), deadline()).catch(() => 'died');
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');
    expect(await invocation(rec).answerMessage(msg(user, 'm2', 2), deadline())).toBe('queued');
    expect(await invocation(rec).answerMessage(msg(user, 'm1', 1), deadline())).toBe('queued');
    doomed.die();
    rec.gates.delete('m0');

    // Act: the lease runs out; Lambda retries the holder's invocation, on a live runtime
    await until(
      async () => ((await lockOf(user))?.leaseExpiresAt ?? 0) < Date.now(),
      5_000,
      'the dead holder’s lease to run out',
    );
    const retried = await invocation(rec).answerMessage(msg(user, 'm0', 0), deadline());

    // Assess
    expect(retried).toBe('empty');
    expect(rec.answered).toEqual(['m0', 'm1', 'm2']);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
    // The dead invocation never comes back (its turn stays parked on the gate, as a killed process would).
    void dying;
  });

  it('answers a message of an idle user with an error when every invocation of it died mid-turn', async () => {
    // Prepare: the first invocation and Lambda's retry of it both die mid-turn (the user was idle each time)
    const rec = recorder();
    const user = 'user-dies-twice';
    const never = gate();
    rec.gates.set('m0', never.opened);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const doomed = invocation(rec, { leaseMs: 400 });
      void doomed.answerMessage(msg(user, 'm0', 0), deadline()).catch(() => 'died');
      await until(
        async () => (await attemptsOf(`${user}.m0`)) === attempt && rec.active() === attempt,
        5_000,
        `attempt ${attempt} mid-turn`,
      );
      doomed.die();
      await until(
        async () => ((await lockOf(user))?.leaseExpiresAt ?? 0) < Date.now(),
        5_000,
        `attempt ${attempt}'s lease to run out`,
      );
    }

    // Act: Lambda's last retry
    const last = await invocation(rec).answerMessage(msg(user, 'm0', 0), deadline());

    // Assess: an explicit error instead of a third try at the turn that killed two runtimes
    expect(last).toBe('answered');
    expect(rec.erroredWith).toEqual(['m0']);
    expect(rec.answered).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });

  it('lets the next message take over from a dead holder: the queue it left is answered before the new message', async () => {
    // Prepare: a holder died with two messages queued; its own message's retries never come back
    const rec = recorder();
    const user = 'user-next-takes-over';
    const never = gate();
    rec.gates.set('m0', never.opened);
    const doomed = invocation(rec, { leaseMs: 600 });
    void doomed.answerMessage(msg(user, 'm0', 0), deadline()).catch(() => undefined);
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');
    await invocation(rec).answerMessage(msg(user, 'm1', 1), deadline());
    await invocation(rec).answerMessage(msg(user, 'm2', 2), deadline());
    doomed.die();
    await until(
      async () => ((await lockOf(user))?.leaseExpiresAt ?? 0) < Date.now(),
      5_000,
      'the dead holder’s lease to run out',
    );

    // Act
    const result = await invocation(rec).answerMessage(msg(user, 'm3', 3), deadline());

    // Assess
    expect(result).toBe('empty');
    expect(rec.answered).toEqual(['m1', 'm2', 'm3']);
    expect(await queued(user)).toEqual([]);
  });

  it('answers a message delivered twice once, whether the copies meet in the queue or one comes later', async () => {
    // Prepare
    const rec = recorder();
    const user = 'user-redelivered';
    const first = gate();
    rec.gates.set('m0', first.opened);
    const holder = invocation(rec).answerMessage(msg(user, 'm0', 0), deadline());
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');

    // Act: EventBridge delivers m1 twice while the user is busy, and once more after it was answered
    const copies = await Promise.all([
      invocation(rec).answerMessage(msg(user, 'm1', 1), deadline()),
      invocation(rec).answerMessage(msg(user, 'm1', 1), deadline()),
    ]);
    first.open();
    await holder;
    const late = await invocation(rec).answerMessage(msg(user, 'm1', 1), deadline());

    // Assess
    expect(copies).toEqual(['queued', 'queued']);
    expect(late).toBe('answered');
    expect(rec.answered).toEqual(['m0', 'm1']);
    expect(rec.republished).toEqual(['m1']);
    expect(await queued(user)).toEqual([]);
  });

  it('answers a queue that was handed on before a newer message that finds the lock free', async () => {
    // Prepare: a drain ran short of time and handed its queue on; its continuation has not come yet
    const rec = recorder();
    const user = 'user-handed-on';
    await pending().enqueue(msg(user, 'q0', 0));
    await pending().enqueue(msg(user, 'q1', 1));
    const taken = await createSessionLock({ storage: aws.storage, owner: 'out-of-time' }).tryAcquire(user);
    await taken?.lease.handOn();

    // Act
    const result = await invocation(rec).answerMessage(msg(user, 'm9', 9), deadline());

    // Assess
    expect(result).toBe('empty');
    expect(rec.answered).toEqual(['q0', 'q1', 'm9']);
    expect(await lockOf(user)).toBeUndefined();
  });
  it('tries a lock or queue call that failed again, so one failure neither loses nor repeats a message', async () => {
    // Prepare: the holder's storage fails its next two calls (after the SDK's own retries) once its turn ends
    const rec = recorder();
    const user = 'user-flaky';
    const first = gate();
    rec.gates.set('m0', first.opened);
    const flaky = ownStorage();
    const holder = invocation(rec, { own: flaky }).answerMessage(msg(user, 'm0', 0), deadline());
    await until(async () => (await lockOf(user)) !== undefined, 5_000, 'the holder’s lock');
    expect(await invocation(rec).answerMessage(msg(user, 'm1', 1), deadline())).toBe('queued');

    // Act
    flaky.failNext(2);
    first.open();
    const result = await holder;

    // Assess
    expect(result).toBe('empty');
    expect(rec.answered).toEqual(['m0', 'm1']);
    expect(rec.republished).toEqual([]);
    expect(await queued(user)).toEqual([]);
    expect(await lockOf(user)).toBeUndefined();
  });
});
