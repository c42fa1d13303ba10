// SPDX-License-Identifier: Apache-2.0
/** Small concurrency helpers of the Skype → Matrix side. */

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
 * Runs tasks one after another per key and hands each caller its own task's result (or error).
 * Unlike KeyedQueue it returns values; a failing task does not stop later ones.
 */
export class SerialByKey {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
