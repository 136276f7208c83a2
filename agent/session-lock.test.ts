import { GetItemCommand } from 'dynamodb-toolbox/entity/actions/get';
import { PutItemCommand } from 'dynamodb-toolbox/entity/actions/put';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../test/fixtures/local-aws.ts';
import { createSessionLock, SessionLockTimeoutError } from './session-lock.ts';

describe('the per-user session lock (DynamoDB lease on dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  it('lets one holder in at a time and the next in after release', async () => {
    const a = createSessionLock({ storage: aws.storage, owner: 'a', pollMs: 20 });
    const b = createSessionLock({ storage: aws.storage, owner: 'b', pollMs: 20 });
    const leaseA = await a.acquire('user-serial', Date.now() + 1_000);
    await expect(b.acquire('user-serial', Date.now() + 200)).rejects.toBeInstanceOf(SessionLockTimeoutError);
    await leaseA.release();
    const leaseB = await b.acquire('user-serial', Date.now() + 1_000);
    await leaseB.release();
  });

  it('serialises concurrent turns of one user', async () => {
    const order: string[] = [];
    const turn = async (name: string) => {
      const lease = await createSessionLock({ storage: aws.storage, owner: name, pollMs: 10 }).acquire(
        'user-concurrent',
        Date.now() + 5_000,
      );
      order.push(`${name}:start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push(`${name}:end`);
      await lease.release();
    };
    await Promise.all([turn('x'), turn('y'), turn('z')]);
    for (let i = 0; i < order.length; i += 2) {
      expect(order[i]?.split(':')[0]).toBe(order[i + 1]?.split(':')[0]);
    }
  });

  it('takes over a lease whose holder died, but not one that is being renewed', async () => {
    // A crashed holder leaves exactly this behind: its item with a lease that is no longer renewed.
    await aws.storage.SessionLockEntity.build(PutItemCommand)
      .item({ userId: 'user-crash', owner: 'dead', leaseExpiresAt: Date.now() + 150, expiresAt: 0 })
      .send();
    const heir = createSessionLock({ storage: aws.storage, owner: 'heir', pollMs: 20 });
    const started = Date.now();
    const lease = await heir.acquire('user-crash', Date.now() + 2_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);

    // A holder that renews (lease 600 ms, renewed every 200 ms) keeps a third party out well past its lease.
    const live = createSessionLock({ storage: aws.storage, owner: 'live', leaseMs: 600, pollMs: 20 });
    const liveLease = await live.acquire('user-live', Date.now() + 1_000);
    const other = createSessionLock({ storage: aws.storage, owner: 'other', pollMs: 20 });
    await expect(other.acquire('user-live', Date.now() + 1_500)).rejects.toBeInstanceOf(
      SessionLockTimeoutError,
    );
    await liveLease.release();
    await lease.release();
  });

  it('tells a stalled holder it lost the lock, and its release leaves the new holder alone', async () => {
    // Prepare: 'first' holds the lock, then stalls past its lease (we expire it by hand)
    const first = createSessionLock({ storage: aws.storage, owner: 'first', leaseMs: 600, pollMs: 10 });
    const stalled = await first.acquire('user-stale', Date.now() + 1_000);
    await aws.storage.SessionLockEntity.build(PutItemCommand)
      .item({ userId: 'user-stale', owner: 'first', leaseExpiresAt: Date.now() - 1, expiresAt: 0 })
      .send();

    // Act: 'second' takes over; first's next renewal (every 200 ms) finds it gone
    const second = createSessionLock({ storage: aws.storage, owner: 'second', pollMs: 10 });
    const current = await second.acquire('user-stale', Date.now() + 1_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stalled.release();

    // Assess
    expect(stalled.lost).toBe(true);
    expect(current.lost).toBe(false);
    const { Item } = await aws.storage.SessionLockEntity.build(GetItemCommand)
      .key({ userId: 'user-stale' })
      .send();
    expect(Item?.owner).toBe('second');
    await current.release();
  });
  describe('the waiting mark, for in-order Lambda turns', () => {
    const lockItem = async (userId: string) =>
      (
        await aws.storage.SessionLockEntity.build(GetItemCommand)
          .key({ userId })
          .options({ consistent: true })
          .send()
      ).Item;

    it('refuses the holder a plain release once a waiter marked the lock, and keeps the mark through renewals', async () => {
      // Prepare: a holder renewing every 100 ms; a second turn finds it busy and marks it
      const holder = createSessionLock({ storage: aws.storage, owner: 'holder', leaseMs: 300 });
      const waiter = createSessionLock({ storage: aws.storage, owner: 'waiter' });
      const taken = await holder.tryAcquire('user-mark');
      expect(taken?.waiting).toBe(false);
      expect(await waiter.tryAcquire('user-mark')).toBeUndefined();

      // Act
      const marked = await waiter.markWaitingAsWaiter('user-mark');
      await new Promise((resolve) => setTimeout(resolve, 250));
      const refused = await taken?.lease.releaseIfNoneWaiting();
      const checked = await taken?.lease.check();
      const cleared = await taken?.lease.markWaiting(false);
      const released = await taken?.lease.releaseIfNoneWaiting();

      // Assess
      expect(marked).toBe(true);
      expect([refused, checked, cleared, released]).toEqual([false, { waiting: true }, true, true]);
      expect(await lockItem('user-mark')).toBeUndefined();
    });

    it('will not mark a lock nobody holds, or whose holder’s lease ran out: the waiter must take it', async () => {
      // Prepare: one user with no lock at all, one whose holder died
      const waiter = createSessionLock({ storage: aws.storage, owner: 'waiter' });
      await aws.storage.SessionLockEntity.build(PutItemCommand)
        .item({ userId: 'user-dead-holder', owner: 'dead', leaseExpiresAt: Date.now() - 1, expiresAt: 0 })
        .send();

      // Act
      const onFree = await waiter.markWaitingAsWaiter('user-no-lock');
      const onDead = await waiter.markWaitingAsWaiter('user-dead-holder');

      // Assess
      expect([onFree, onDead]).toEqual([false, false]);
      expect(await lockItem('user-no-lock')).toBeUndefined();
      expect((await lockItem('user-dead-holder'))?.waiting).toBeUndefined();
    });

    it('hands the lock on with its mark: the next taker gets it at once and learns the queue waits', async () => {
      // Prepare
      const first = createSessionLock({ storage: aws.storage, owner: 'out-of-time' });
      const taken = await first.tryAcquire('user-hand-on');

      // Act
      await taken?.lease.handOn();
      const next = await createSessionLock({ storage: aws.storage, owner: 'next' }).tryAcquire(
        'user-hand-on',
      );

      // Assess
      expect(next?.waiting).toBe(true);
      expect((await lockItem('user-hand-on'))?.owner).toBe('next');
      await next?.lease.release();
      expect(await lockItem('user-hand-on')).toBeUndefined();
    });
  });
});
