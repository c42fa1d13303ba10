// SPDX-License-Identifier: Apache-2.0
/**
 * Arrival times of messages by their text, from any receiver (a /sync loop, the minimal
 * appservice, an MSNP client): `wait(text)` resolves with the performance.now() stamp of its
 * arrival, whether it came before or after the call.
 */
export class Arrivals {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();
  /** Texts in arrival order (only those matching the tracked prefix, when one is set). */
  readonly order: string[] = [];

  constructor(private readonly track: (text: string) => boolean = () => true) {}

  /** Records `text` arriving at `at` (the first arrival counts; later ones are duplicates). */
  note(text: string, at: number): void {
    if (!this.track(text)) return;
    this.order.push(text);
    if (this.seen.has(text)) return;
    this.seen.set(text, at);
    const w = this.waiting.get(text);
    if (w) {
      this.waiting.delete(text);
      w(at);
    }
  }

  has(text: string): boolean {
    return this.seen.has(text);
  }

  /** How many distinct texts arrived. */
  get size(): number {
    return this.seen.size;
  }

  /** Resolves with the arrival time of `text`; rejects after `timeoutMs`. */
  wait(text: string, timeoutMs: number): Promise<number> {
    const at = this.seen.get(text);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(text);
        reject(new Error(`"${text}" did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(text, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  /** Resolves once `count` distinct texts arrived; rejects after `timeoutMs`. */
  async waitCount(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.seen.size < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.seen.size} of ${count} messages arrived within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The arrival time of `text`, if it arrived. */
  at(text: string): number | undefined {
    return this.seen.get(text);
  }
}
