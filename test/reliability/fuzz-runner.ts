import { expect } from 'vitest';
import { type PublishCounter, quiet } from './harness.ts';

/** What one ingress's fuzzing saw, for the final table. */
export interface FuzzTally {
  inputs: number;
  crashes: number;
  refused: number;
  accepted: number;
  /** Refused inputs that still put something on the bus. */
  leaked: number;
}

export const newTally = (): FuzzTally => ({ inputs: 0, crashes: 0, refused: 0, accepted: 0, leaked: 0 });

export interface Attempt {
  /** HTTP status, or the status a WebSocket refusal/answer stands for. */
  status: number;
  /** For the failure message: what was sent, shortened. */
  describe?: string;
}

/**
 * Runs one hostile input through a real handler and checks the suite's rule: never a crash or 5xx, a
 * 4xx publishes nothing, and an input that `mustRefuse` (bad signature, no token) gets a 4xx.
 */
export async function tryInput(
  tally: FuzzTally,
  publishes: PublishCounter,
  mustRefuse: boolean,
  send: () => Promise<Attempt>,
): Promise<void> {
  tally.inputs++;
  const before = publishes.total();
  let attempt: Attempt;
  try {
    attempt = await send();
  } catch (error) {
    tally.crashes++;
    throw error;
  }
  if (attempt.status >= 500) tally.crashes++;
  expect(attempt.status, `5xx for ${attempt.describe ?? 'an input'}`).toBeLessThan(500);
  if (attempt.status >= 400) {
    tally.refused++;
    const leaked = publishes.total() - before;
    if (leaked > 0) tally.leaked++;
    expect(leaked, `a refused input (${attempt.status}) published`).toBe(0);
  } else {
    tally.accepted++;
    expect(mustRefuse, `accepted (${attempt.status}) what it must refuse: ${attempt.describe}`).toBe(false);
    // What the accepted input set off (a turn, its replies) is over before the next input is judged.
    await quiet(publishes);
  }
}
