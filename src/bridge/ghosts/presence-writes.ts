// SPDX-License-Identifier: Apache-2.0
/**
 * The presence writes of every puppet, bounded: a few workers (`concurrency`) take changed persons
 * first, then the persons of the current refresh round. A person is never written twice at once
 * (the later write could land first), and a change queued several times is written once with
 * what is wanted when its turn comes, so a burst of presence (a login with a thousand contacts
 * online) costs one write per person and never more than `concurrency` requests in flight.
 */

/** Writes one person's presence (`refresh`: re-send what it shows). Must not reject. */
export type WritePresence = (personId: string, refresh: boolean) => Promise<void>;

export class PresenceWrites {
  /** Persons whose wanted presence changed, in order of the first change. */
  private readonly changed = new Set<string>();
  /** Persons written right now. */
  private readonly busy = new Set<string>();
  /** What is left of the running refresh round. */
  private round: string[] = [];
  private roundWrites = 0;
  private roundEnded?: () => void;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly write: WritePresence,
  ) {}

  /** Queues a write of `personId` (one, however often it is queued before its turn). */
  change(personId: string): void {
    this.changed.add(personId);
    this.pump();
  }

  /**
   * Re-sends the presence of `personIds`, behind any change. Resolves true when the round is done,
   * or false at once when the previous round is still running (rounds never overlap).
   */
  refresh(personIds: readonly string[]): Promise<boolean> {
    if (this.roundEnded) return Promise.resolve(false);
    this.round = [...personIds];
    const ended = new Promise<boolean>((resolve) => (this.roundEnded = () => resolve(true)));
    this.pump();
    return ended;
  }

  /** Resolves once nothing is queued or under way. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is queued (the writes under way finish). */
  clear(): void {
    this.changed.clear();
    this.round = [];
    this.settle();
  }

  private isIdle(): boolean {
    return this.changed.size === 0 && this.busy.size === 0 && this.round.length === 0;
  }

  private pump(): void {
    while (this.busy.size < this.concurrency) {
      const job = this.next();
      if (!job) break;
      this.busy.add(job.personId);
      if (job.refresh) this.roundWrites++;
      void this.write(job.personId, job.refresh)
        .catch(() => undefined)
        .finally(() => {
          this.busy.delete(job.personId);
          if (job.refresh) this.roundWrites--;
          this.pump();
        });
    }
    this.settle();
  }

  private next(): { personId: string; refresh: boolean } | undefined {
    for (const personId of this.changed) {
      if (this.busy.has(personId)) continue;
      this.changed.delete(personId);
      return { personId, refresh: false };
    }
    // A person with a change queued or a write under way gets its current state anyway.
    for (let id = this.round.pop(); id !== undefined; id = this.round.pop())
      if (!this.busy.has(id) && !this.changed.has(id)) return { personId: id, refresh: true };
    return undefined;
  }

  private settle(): void {
    if (this.roundEnded && this.round.length === 0 && this.roundWrites === 0) {
      const ended = this.roundEnded;
      this.roundEnded = undefined;
      ended();
    }
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
