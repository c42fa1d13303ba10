// SPDX-License-Identifier: Apache-2.0
/**
 * The durable appservice inbox. Synapse gets its 200 only after every room event of a transaction
 * is stored (one SQLite transaction), so a crash loses nothing; events are recognised by
 * `event_id`, so a re-sent transaction is handled per event, never twice. At start-up, events not
 * done are replayed in arrival order, and events arriving meanwhile wait behind them. Done rows are
 * pruned after a retention period.
 *
 * Order: the events of a room are routed one at a time, in arrival order (a lane per room), so a
 * message and its redaction reach the portal's queue in the order they were sent even when routing
 * the message takes longer (management-room and contact-request checks). A lane waits only for the
 * routing, not for the portal to handle the event: a slow portal holds only its own queue.
 *
 * Outcome: an event is marked done once it was handled, or given up. A transient failure (the
 * database busy) is retried in its lane with backoff, the event staying pending meanwhile (a
 * restart replays it); a failure that stays, or any other one, gives the event up — a poison event
 * is never retried for ever — and `onFailed` tells its sender.
 */
import type { Config } from "../../config/schema.js";
import type { InboxRow, Store } from "../../store/types.js";
import { KeyedQueue } from "../../util/keyed-queue.js";
import { errorText, Logger } from "../../util/logger.js";
import { isBridgeUser } from "../ghosts/ids.js";
import type { MatrixEventJson } from "./appservice.js";
import { logRetries, retryTransient, TRANSIENT_RETRY, type TransientRetryPolicy } from "./transient.js";

const log = new Logger("bridge.inbox");

/** Options of {@link Inbox}. */
export interface InboxOptions {
  /** How long done events are remembered to recognise re-sends (default 2 days). */
  retentionMs?: number;
  /** Minimum time between two automatic prunes (default 1 h). */
  pruneIntervalMs?: number;
  now?: () => number;
  /** Retries of transient failures (default {@link TRANSIENT_RETRY}). */
  retry?: TransientRetryPolicy;
  /** Tells the sender of an event given up (should not throw; a throw is logged). */
  onFailed?: (event: MatrixEventJson, error: unknown) => Promise<void>;
}

/**
 * What routing an event did: all of it (nothing returned), or queued it on a portal, which
 * settles `handled` once it handled it.
 */
export interface Dispatched {
  readonly handled: Promise<void>;
}

/** Routes one event (the same path live events take); the inbox marks it done afterwards. */
export type InboxDispatch = (event: MatrixEventJson) => Promise<Dispatched | void>;

function handledOf(result: unknown): Promise<void> | undefined {
  return result !== null && typeof result === "object" && "handled" in result
    ? (result as Dispatched).handled
    : undefined;
}

/** The lane of an event: its room (events without one share a lane). */
function laneOf(event: MatrixEventJson): string {
  return typeof event.room_id === "string" ? event.room_id : "";
}

/** The durable inbox; one per bridge. */
export class Inbox {
  private readonly lanes = new KeyedQueue();
  /** Events handed to {@link handle} and not settled yet (a replay must not take them again). */
  private readonly inFlight = new Set<string>();
  private readonly retry: TransientRetryPolicy;
  private readonly onFailed: (event: MatrixEventJson, error: unknown) => Promise<void>;
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
    this.retry = opts.retry ?? TRANSIENT_RETRY;
    this.onFailed = opts.onFailed ?? (() => Promise.resolve());
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
   * bridge never handles: the echo of every message it sends) are not stored and always returned
   * (the bridge library updates its membership caches from them, idempotently, so a re-sent one
   * does no harm); storing them cost a sealed row and a commit per bridged message. While a replay
   * runs, other new events are held and handed out by the replay instead, keeping arrival order.
   * Events without an `event_id` cannot be recognised and are passed through unstored. The caller
   * must hand every returned event not from the bridge's own users to {@link handle}, in order.
   * Throws StoreError when the store fails (the caller answers Synapse with an error, and Synapse
   * re-sends).
   */
  accept(txnId: string, events: readonly MatrixEventJson[]): MatrixEventJson[] {
    // Events the inbox keeps: with an id, and not of the bridge's own users (checked once each).
    const storable = events.filter(
      (e) =>
        typeof e.event_id === "string" &&
        e.event_id !== "" &&
        !(typeof e["sender"] === "string" && isBridgeUser(this.ctx, e["sender"])),
    );
    const kept = new Set(storable);
    const fresh =
      storable.length === 0
        ? []
        : this.ctx.store.inbox.accept(
            txnId,
            storable.map((e) => ({
              eventId: e.event_id!,
              roomId: typeof e.room_id === "string" ? e.room_id : null,
              event: e,
            })),
          );
    const freshIds = new Set(fresh.map((r) => r.eventId));
    if (fresh.length < storable.length)
      log.debug("events already received were skipped", { txnId, skipped: storable.length - fresh.length });
    this.maybePrune();
    const out = events.filter((e) => !kept.has(e) || (freshIds.has(e.event_id!) && !this.replayRunning));
    // Handed out now: a replay starting before the caller handles them must not take them too.
    for (const e of out) if (e.event_id && freshIds.has(e.event_id)) this.inFlight.add(e.event_id);
    return out;
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

  /**
   * Routes `event` in its room's lane — it takes its place synchronously, so call this in arrival
   * order — retrying transient failures in place, then waits until it was handled (or given up)
   * and marks it done. Never rejects.
   */
  handle(event: MatrixEventJson, dispatch: InboxDispatch): Promise<void> {
    const id = event.event_id;
    if (id !== undefined) this.inFlight.add(id);
    // Pending meanwhile: a restart replays it.
    const onRetry = logRetries(log, "an event (still pending)", { event: id });
    const routed = this.lanes.run(laneOf(event), () =>
      retryTransient(this.retry, () => dispatch(event), onRetry),
    );
    return this.settle(event, routed).finally(() => {
      if (id !== undefined) this.inFlight.delete(id);
    });
  }

  private async settle(event: MatrixEventJson, routed: Promise<Dispatched | void>): Promise<void> {
    try {
      await handledOf(await routed);
    } catch (e) {
      log.error("an event could not be handled; it is given up", {
        event: event.event_id,
        error: errorText(e),
      });
      await this.onFailed(event, e).catch((err: unknown) =>
        log.error("could not report an event given up", { event: event.event_id, error: errorText(err) }),
      );
    }
    const id = event.event_id;
    if (id === undefined) return;
    // The database may still be busy: try a few times before leaving it to the next start's replay.
    await retryTransient(this.retry, () => Promise.resolve(this.ctx.store.inbox.markDone(id))).catch(
      (e: unknown) =>
        log.error("could not mark an event handled; it will be replayed at the next start", {
          event: id,
          error: errorText(e),
        }),
    );
  }

  /**
   * Replays, in arrival order, every event not done — those left from before the start and those
   * held while replaying — through the same lanes as live events, then lets new events through.
   * Call once at start-up (with the appservice listening or not). Resolves, with how many events
   * were replayed, once they were all handled. Never throws.
   */
  async replay(dispatch: InboxDispatch): Promise<number> {
    if (this.replayDone) return 0;
    this.replayDone = true;
    this.replayRunning = true;
    const handled: Promise<void>[] = [];
    try {
      // No await in this loop: every pending event takes its place in its lane before any new
      // event can (the lanes keep the order from there on).
      let after = 0;
      for (let rows = this.pendingAfter(after); rows.length > 0; rows = this.pendingAfter(after)) {
        for (const row of rows) {
          after = row.seq;
          if (this.inFlight.has(row.eventId)) continue; // a live event still being handled
          if (row.event === null || typeof row.event !== "object") this.markDone(row.eventId);
          else handled.push(this.handle(row.event as MatrixEventJson, dispatch));
        }
      }
    } catch (e) {
      log.error("replaying stored events failed; the rest is replayed at the next start", {
        error: errorText(e),
      });
    } finally {
      this.replayRunning = false;
    }
    await Promise.all(handled);
    if (handled.length > 0)
      log.info("replayed events received before the restart", { events: handled.length });
    return handled.length;
  }

  private pendingAfter(seq: number): InboxRow[] {
    return this.ctx.store.inbox.pending(seq, 100);
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
