// SPDX-License-Identifier: Apache-2.0
/**
 * The durable appservice inbox. Synapse gets its 200 only after every room event of a transaction
 * is stored (one SQLite transaction), so a crash loses nothing; events are recognised by
 * `event_id`, so a re-sent transaction is handled per event, never twice. Each event is marked done
 * once its handler finished (successfully or not: a poison event must not be retried forever); at
 * start-up, events not done are replayed in arrival order, and events arriving meanwhile wait
 * behind them. Done rows are pruned after a retention period.
 */
import type { Config } from "../../config/schema.js";
import type { Store } from "../../store/types.js";
import { errorText, Logger } from "../../util/logger.js";
import { isBridgeUser } from "../ghosts/ids.js";
import type { MatrixEventJson } from "./appservice.js";

const log = new Logger("bridge.inbox");

/** Options of {@link Inbox}. */
export interface InboxOptions {
  /** How long done events are remembered to recognise re-sends (default 2 days). */
  retentionMs?: number;
  /** Minimum time between two automatic prunes (default 1 h). */
  pruneIntervalMs?: number;
  now?: () => number;
}

/** Handles one event (the same path live events take); the inbox marks it done afterwards. */
export type InboxDispatch = (event: MatrixEventJson) => Promise<unknown>;

/** The durable inbox; one per bridge. */
export class Inbox {
  private replayRunning: boolean;
  private replayDone = false;
  private lastPrune = 0;
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ctx: { readonly store: Store; readonly config: Config; readonly botUserId: string },
    opts: InboxOptions = {},
  ) {
    this.retentionMs = opts.retentionMs ?? 2 * 24 * 3600_000;
    this.pruneIntervalMs = opts.pruneIntervalMs ?? 3600_000;
    this.now = opts.now ?? Date.now;
    // Events left from the last run must go first: hold new ones until replay() took them.
    this.replayRunning = ctx.store.inbox.pendingCount() > 0;
  }

  /** True while events from before the start are being replayed (new events wait behind them). */
  get replaying(): boolean {
    return this.replayRunning;
  }

  /**
   * The appservice `accept` hook: stores the transaction's events in one SQLite transaction and
   * returns those to dispatch now (not seen before). Events from the bot or a puppet (which the
   * bridge never handles) are stored as done, only to recognise re-sends, and still returned (the
   * bridge library updates its membership caches from them). While a replay runs, other new events
   * are held and handed out by the replay instead, keeping arrival order. Events without an
   * `event_id` cannot be recognised and are passed through unstored. Throws StoreError when the
   * store fails (the caller answers Synapse with an error, and Synapse re-sends).
   */
  accept(txnId: string, events: readonly MatrixEventJson[]): MatrixEventJson[] {
    const storable = events.filter((e) => typeof e.event_id === "string" && e.event_id !== "");
    const ours = new Set(
      storable
        .filter((e) => typeof e["sender"] === "string" && isBridgeUser(this.ctx, e["sender"]))
        .map((e) => e.event_id),
    );
    const fresh = this.ctx.store.inbox.accept(
      txnId,
      storable.map((e) => ({
        eventId: e.event_id!,
        roomId: typeof e.room_id === "string" ? e.room_id : null,
        event: e,
        done: ours.has(e.event_id),
      })),
    );
    const freshIds = new Set(fresh.map((r) => r.eventId));
    if (fresh.length < storable.length)
      log.debug("events already received were skipped", { txnId, skipped: storable.length - fresh.length });
    this.maybePrune();
    return events.filter((e) => {
      if (typeof e.event_id !== "string" || e.event_id === "") return true;
      if (!freshIds.has(e.event_id)) return false;
      return ours.has(e.event_id) || !this.replayRunning;
    });
  }

  /** Marks an event handled (call when its handler finished, even with an error). Never throws. */
  markDone(eventId: string | undefined): void {
    if (eventId === undefined) return;
    try {
      this.ctx.store.inbox.markDone(eventId);
    } catch (e) {
      log.error("could not mark an event handled; it will be replayed at the next start", {
        event: eventId,
        error: errorText(e),
      });
    }
  }

  /** Runs `handler` for `event` and marks the event done afterwards, whatever the outcome. */
  async handle(event: MatrixEventJson, handler: InboxDispatch): Promise<void> {
    try {
      await handler(event);
    } catch (e) {
      log.error("an event handler failed", { event: event.event_id, error: errorText(e) });
    } finally {
      this.markDone(event.event_id);
    }
  }

  /**
   * Replays, in arrival order and one at a time, every event not done — those left from before the
   * start and those held while replaying — then lets new events through. Call once at start-up
   * (with the appservice listening or not). Returns how many events were replayed. Never throws.
   */
  async replay(dispatch: InboxDispatch): Promise<number> {
    if (this.replayDone) return 0;
    this.replayDone = true;
    this.replayRunning = true;
    let count = 0;
    let after = 0;
    try {
      for (;;) {
        const rows = this.ctx.store.inbox.pending(after, 100);
        if (rows.length === 0) break;
        for (const row of rows) {
          after = row.seq;
          if (row.event === null || typeof row.event !== "object") {
            this.markDone(row.eventId);
            continue;
          }
          count++;
          await this.handle(row.event as MatrixEventJson, dispatch);
        }
      }
    } catch (e) {
      log.error("replaying stored events failed; the rest is replayed at the next start", {
        error: errorText(e),
      });
    } finally {
      this.replayRunning = false;
    }
    if (count > 0) log.info("replayed events received before the restart", { events: count });
    return count;
  }

  /** Forgets done events older than the retention period. Returns how many. Never throws. */
  prune(): number {
    this.lastPrune = this.now();
    try {
      return this.ctx.store.inbox.prune(this.retentionMs);
    } catch (e) {
      log.warn("could not prune the inbox", { error: errorText(e) });
      return 0;
    }
  }

  private maybePrune(): void {
    if (this.now() - this.lastPrune >= this.pruneIntervalMs) this.prune();
  }
}
