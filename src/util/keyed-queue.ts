// SPDX-License-Identifier: Apache-2.0
/**
 * Runs tasks one at a time per key (e.g. per portal), in the order they were pushed; different
 * keys run concurrently. A failing task is reported to `onError` and does not stop its queue.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly onError: (key: string, error: unknown) => void) {}

  /** Queues `task` behind earlier tasks of `key`; resolves when it has run (never rejects). */
  push(key: string, task: () => Promise<void>): Promise<void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task).catch((e: unknown) => this.onError(key, e));
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    return next;
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
