import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../test/fixtures/local-aws.ts';
import { createReplyProgress } from './reply-progress.ts';

describe('reply progress for channels that stream by editing (dynalite)', () => {
  let aws: Awaited<ReturnType<typeof startLocalAws>>;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(() => aws.close());

  it('lets the first claim post, later ones edit the recorded messages, and refuses stale deltas', async () => {
    // Prepare
    const progress = createReplyProgress(aws.storage);

    // Act
    const first = await progress.claim('r-1', 1, false);
    await progress.saveMessageIds('r-1', ['101']);
    const second = await progress.claim('r-1', 3, false);
    const stale = await progress.claim('r-1', 2, false);
    const repeat = await progress.claim('r-1', 3, false);

    // Assess
    expect(first).toEqual({ messageIds: [], seq: 0, completed: false, editedAt: 0, first: true });
    expect(second).toMatchObject({ messageIds: ['101'], seq: 1, completed: false, first: false });
    expect(stale).toBeUndefined();
    expect(repeat).toBeUndefined();
  });

  it('takes no delta after the completed reply, nor the completed reply twice', async () => {
    // Prepare
    const progress = createReplyProgress(aws.storage);
    await progress.claim('r-2', 1, false);
    await progress.saveMessageIds('r-2', ['7', '8']);

    // Act
    const completed = await progress.claim('r-2', 5, true);
    const lateDelta = await progress.claim('r-2', 9, false);
    const redelivered = await progress.claim('r-2', 6, true);

    // Assess
    expect(completed).toMatchObject({ messageIds: ['7', '8'], completed: false });
    expect(lateDelta).toBeUndefined();
    expect(redelivered).toBeUndefined();
    expect(await progress.get('r-2')).toMatchObject({ seq: 5, completed: true, messageIds: ['7', '8'] });
  });

  it("shows the completed reply of a retried turn, whose seq is lower than the first attempt's deltas", async () => {
    // Prepare: the first attempt streamed up to seq 40, then the task was interrupted
    const progress = createReplyProgress(aws.storage);
    await progress.claim('r-5', 40, false);
    await progress.saveMessageIds('r-5', ['9']);

    // Act: the retry streams from 1 again and completes at seq 26
    const retriedDelta = await progress.claim('r-5', 3, false);
    const completed = await progress.claim('r-5', 26, true);

    // Assess: its deltas may not overwrite newer-looking text, but its answer replaces it
    expect(retriedDelta).toBeUndefined();
    expect(completed).toMatchObject({ messageIds: ['9'], seq: 40, completed: false });
  });

  it('of concurrent first claims of one reply, exactly one may post', async () => {
    // Prepare
    const progress = createReplyProgress(aws.storage);

    // Act
    const claims = await Promise.all([1, 2, 3, 4, 5].map((seq) => progress.claim('r-3', seq, false)));

    // Assess: claims are ordered, so several may win, but only one saw an empty record
    const firsts = claims.filter((claim) => claim?.first);
    expect(firsts).toHaveLength(1);
  });

  it('waits for the messages a concurrent first delta is posting', async () => {
    // Prepare
    const progress = createReplyProgress(aws.storage);
    await progress.claim('r-4', 1, false);

    // Act
    const waiting = progress.waitForMessageIds('r-4', 3_000);
    setTimeout(() => void progress.saveMessageIds('r-4', ['55']), 300);

    // Assess
    expect(await waiting).toEqual(['55']);
    expect(await progress.waitForMessageIds('r-none', 300)).toEqual([]);
  });
});
