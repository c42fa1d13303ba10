// SPDX-License-Identifier: Apache-2.0
/**
 * The concurrency helpers of the project: per-key FIFO queues, single-flight calls and a bound on
 * how many tasks of one kind run at once.
 */

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

/**
 * Runs at most `limit` tasks at once; the others wait in arrival order. For work that every session
 * does once when it starts (thousands at once after a restart) and that must not become thousands of
 * simultaneous requests to one server.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("limit must be a positive integer");
  }

  /** Runs `task` when a slot is free; resolves or rejects with it. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }

  /**
   * Waits for a slot and holds it until the returned function is called (calling it again does
   * nothing). For work whose end is not one promise, e.g. a connection attempt that ends when the
   * client is ready or failed.
   */
  async acquire(): Promise<() => void> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      // The slot passes straight to the next waiter (the count stays), or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }

  /** Tasks running now and tasks waiting for a slot. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
