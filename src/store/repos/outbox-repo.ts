// SPDX-License-Identifier: Apache-2.0
/**
 * The `outbox` table: Matrix → Skype sends not yet confirmed, resent after a restart. Payloads are
 * encrypted at rest with the store's key (AES-256-GCM, bound to the event id), as the inbox's events
 * are: they hold what the user wrote and, for a file from an encrypted room, the file's key. A store
 * opened without a key (tests, tools) keeps them as plain JSON; rows written in clear by an older
 * version are still read.
 */
import type { SecretBox } from "../crypto.js";
import { type Db, transaction } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type {
  InsertResult,
  MessageRepo,
  NewMessage,
  NewOutboxEntry,
  OutboxRepo,
  OutboxRow,
} from "../types.js";
import { type Clock, checkText, found, fromJson, toJson } from "./sql.js";

interface RawOutbox {
  id: number;
  receiver: string;
  conversation: string;
  client_message_id: string;
  event_id: string;
  room_id: string;
  payload: string;
  attempts: number;
  last_error: string | null;
  last_attempt_ts: number | null;
  created_ts: number;
}

export class SqliteOutboxRepo implements OutboxRepo {
  readonly #insert;
  readonly #get;
  readonly #byEventId;
  readonly #byClientId;
  readonly #all;
  readonly #byReceiver;
  readonly #attempt;
  readonly #delete;

  constructor(
    private readonly db: Db,
    private readonly messages: MessageRepo,
    private readonly now: Clock,
    private readonly box?: SecretBox,
  ) {
    this.#insert = db.prepare<Record<string, unknown>, RawOutbox>(
      `INSERT INTO outbox (receiver, conversation, client_message_id, event_id, room_id, payload, created_ts)
       VALUES (@receiver, @conversation, @clientMessageId, @eventId, @roomId, @payload, @now)
       ON CONFLICT DO NOTHING RETURNING *`,
    );
    this.#get = db.prepare<[number], RawOutbox>("SELECT * FROM outbox WHERE id = ?");
    this.#byEventId = db.prepare<[string], RawOutbox>("SELECT * FROM outbox WHERE event_id = ?");
    this.#byClientId = db.prepare<[string, string, string], RawOutbox>(
      "SELECT * FROM outbox WHERE receiver = ? AND conversation = ? AND client_message_id = ?",
    );
    this.#all = db.prepare<[], RawOutbox>("SELECT * FROM outbox ORDER BY id");
    this.#byReceiver = db.prepare<[string], RawOutbox>("SELECT * FROM outbox WHERE receiver = ? ORDER BY id");
    this.#attempt = db.prepare<[string | null, number, number], RawOutbox>(
      "UPDATE outbox SET attempts = attempts + 1, last_error = ?, last_attempt_ts = ? WHERE id = ? RETURNING *",
    );
    this.#delete = db.prepare<[number]>("DELETE FROM outbox WHERE id = ?");
  }

  enqueue(entry: NewOutboxEntry): InsertResult<OutboxRow> {
    const params = {
      receiver: checkText(entry.receiver, "receiver"),
      conversation: checkText(entry.conversation, "conversation"),
      clientMessageId: checkText(entry.clientMessageId, "clientMessageId"),
      eventId: checkText(entry.eventId, "eventId"),
      roomId: checkText(entry.roomId, "roomId"),
      payload: this.seal(toJson(entry.payload, "the outbox payload"), entry.eventId),
    };
    return transaction(this.db, () => {
      const raw = this.#insert.get({ ...params, now: this.now() });
      if (raw) return { inserted: true, row: this.toOutbox(raw) };
      const existing = this.#byEventId.get(entry.eventId);
      if (existing) return { inserted: false, row: this.toOutbox(existing) };
      throw new StoreError(
        StoreErrorCode.Constraint,
        "the Client-Message-ID is already queued for another event in this conversation",
      );
    });
  }

  get(id: number): OutboxRow | undefined {
    const raw = this.#get.get(id);
    return raw && this.toOutbox(raw);
  }

  getByEventId(eventId: string): OutboxRow | undefined {
    const raw = this.#byEventId.get(eventId);
    return raw && this.toOutbox(raw);
  }

  getByClientId(receiver: string, conversation: string, clientMessageId: string): OutboxRow | undefined {
    const raw = this.#byClientId.get(receiver, conversation, clientMessageId);
    return raw && this.toOutbox(raw);
  }

  list(receiver?: string): OutboxRow[] {
    const raws = receiver === undefined ? this.#all.all() : this.#byReceiver.all(receiver);
    return raws.map((r) => this.toOutbox(r));
  }

  recordAttempt(id: number, error?: string | null): OutboxRow {
    return this.toOutbox(found(this.#attempt.get(error ?? null, this.now(), id), "the outbox entry"));
  }

  complete(id: number, message?: NewMessage): boolean {
    return transaction(this.db, () => {
      if (this.#delete.run(id).changes === 0) return false;
      if (message) this.messages.insert(message);
      return true;
    });
  }

  private seal(json: string, eventId: string): string {
    return this.box ? this.box.encrypt(json, `outbox:${eventId}`) : json;
  }

  private toOutbox(r: RawOutbox): OutboxRow {
    const json =
      r.payload.startsWith("v1:") && this.box
        ? this.box.decrypt(r.payload, `outbox:${r.event_id}`)
        : r.payload;
    return {
      id: r.id,
      receiver: r.receiver,
      conversation: r.conversation,
      clientMessageId: r.client_message_id,
      eventId: r.event_id,
      roomId: r.room_id,
      payload: fromJson(json, "outbox payload"),
      attempts: r.attempts,
      lastError: r.last_error,
      lastAttemptTs: r.last_attempt_ts,
      createdTs: r.created_ts,
    };
  }
}
