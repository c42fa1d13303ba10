// SPDX-License-Identifier: Apache-2.0
/**
 * The `inbox` table: appservice events stored before Synapse is answered, replayed until handled.
 * Events are encrypted at rest with the store's key (AES-256-GCM, bound to the event id): a
 * message typed while a login waits is a password, and must not sit in the database in clear until
 * it is handled. A store opened without a key (tests, tools) keeps them as plain JSON; rows written
 * in clear by an older version are still read.
 */
import type { SecretBox } from "../crypto.js";
import { type Db, transaction } from "../db.js";
import type { InboxRepo, InboxRow, NewInboxEvent } from "../types.js";
import { type Clock, checkInt, checkText, fromJson, toJson } from "./sql.js";

interface RawInbox {
  seq: number;
  event_id: string;
  txn_id: string;
  room_id: string | null;
  event: string;
  received_ts: number;
  done_ts: number | null;
}

const MAX_PAGE = 1000;

export class SqliteInboxRepo implements InboxRepo {
  readonly #insert;
  readonly #get;
  readonly #done;
  readonly #pending;
  readonly #count;
  readonly #prune;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
    private readonly box?: SecretBox,
  ) {
    this.#insert = db.prepare<Record<string, unknown>, RawInbox>(
      `INSERT INTO inbox (event_id, txn_id, room_id, event, received_ts, done_ts)
       VALUES (@eventId, @txnId, @roomId, @event, @now, @doneTs)
       ON CONFLICT (event_id) DO NOTHING RETURNING *`,
    );
    this.#get = db.prepare<[string], RawInbox>("SELECT * FROM inbox WHERE event_id = ?");
    this.#done = db.prepare<[number, string]>(
      "UPDATE inbox SET done_ts = ?, event = 'null' WHERE event_id = ? AND done_ts IS NULL",
    );
    this.#pending = db.prepare<[number, number], RawInbox>(
      "SELECT * FROM inbox WHERE done_ts IS NULL AND seq > ? ORDER BY seq LIMIT ?",
    );
    this.#count = db.prepare<[], number>("SELECT count(*) FROM inbox WHERE done_ts IS NULL").pluck();
    this.#prune = db.prepare<[number]>("DELETE FROM inbox WHERE done_ts IS NOT NULL AND done_ts < ?");
  }

  accept(txnId: string, events: readonly NewInboxEvent[]): InboxRow[] {
    checkText(txnId, "txnId");
    // Validate (and serialise) everything first, so a bad event changes nothing.
    const params = events.map((e) => ({
      eventId: checkText(e.eventId, "eventId"),
      roomId: e.roomId ?? null,
      event: this.seal(toJson(e.event, "an inbox event"), e.eventId),
      done: e.done === true,
    }));
    return transaction(this.db, () => {
      const now = this.now();
      const fresh: InboxRow[] = [];
      for (const p of params) {
        const raw = this.#insert.get({
          eventId: p.eventId,
          txnId,
          roomId: p.roomId,
          event: p.done ? "null" : p.event,
          now,
          doneTs: p.done ? now : null,
        });
        if (raw) fresh.push(this.toInbox(raw, p.event));
      }
      return fresh;
    });
  }

  get(eventId: string): InboxRow | undefined {
    const raw = this.#get.get(eventId);
    return raw && this.toInbox(raw);
  }

  markDone(eventId: string): boolean {
    return this.#done.run(this.now(), checkText(eventId, "eventId")).changes > 0;
  }

  pending(afterSeq = 0, limit = 100): InboxRow[] {
    checkInt(afterSeq, "afterSeq");
    const n = Math.min(checkInt(limit, "limit", 1), MAX_PAGE);
    return this.#pending.all(afterSeq, n).map((r) => this.toInbox(r));
  }

  pendingCount(): number {
    return this.#count.get() ?? 0;
  }

  prune(maxAgeMs: number): number {
    return this.#prune.run(this.now() - checkInt(maxAgeMs, "maxAgeMs")).changes;
  }

  private seal(json: string, eventId: string): string {
    return this.box ? this.box.encrypt(json, `inbox:${eventId}`) : json;
  }

  /** `stored` overrides the row's text (the caller's copy of a row stored as done keeps its event). */
  private toInbox(r: RawInbox, stored?: string): InboxRow {
    const text = stored ?? r.event;
    const json = text.startsWith("v1:") && this.box ? this.box.decrypt(text, `inbox:${r.event_id}`) : text;
    return {
      seq: r.seq,
      eventId: r.event_id,
      txnId: r.txn_id,
      roomId: r.room_id,
      event: fromJson(json, "inbox event"),
      receivedTs: r.received_ts,
      doneTs: r.done_ts,
    };
  }
}
