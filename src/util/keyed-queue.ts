// SPDX-License-Identifier: Apache-2.0
/** The two concurrency helpers of the project: per-key FIFO queues and single-flight calls. */

/**
 * Runs tasks one at a time per key (e.g. per portal), in the order they were pushed; different
 * keys run concurrently. A failing task never stops its queue.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** @param onError where {@link push} reports a failed task (run() hands errors to its caller). */
  constructor(private readonly onError: (key: string, error: unknown) => void = () => undefined) {}

  /** Queues `task` behind earlier tasks of `key`; resolves with its result, rejects with its error. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Queues `task` behind earlier tasks of `key`; resolves when it has run (never rejects). */
  push(key: string, task: () => Promise<void>): Promise<void> {
    return this.run(key, task).catch((e: unknown) => this.onError(key, e));
  }

  /** Number of keys with queued or running work. */
  get size(): number {
    return this.tails.size;
  }

  /** Resolves once everything queued so far has run. */
  async drain(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
}

/**
 * Shares one running promise per key: a second caller with the same key while the first is still
 * running gets the same result instead of starting the work again (two messages at once → one room).
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const p = fn().finally(() => {
      if (this.running.get(key) === p) this.running.delete(key);
    });
    this.running.set(key, p);
    return p;
  }
}
