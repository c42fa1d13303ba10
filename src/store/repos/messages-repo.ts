// SPDX-License-Identifier: Apache-2.0
/** The `messages` table: Skype message ids ↔ Matrix event ids, with duplicate detection. */
import { type Db, transaction } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type { InsertResult, MessageRepo, MessageRow, NewMessage } from "../types.js";
import { type Clock, checkInt, checkText, found } from "./sql.js";

interface RawMessage {
  id: number;
  receiver: string;
  conversation: string;
  skype_message_id: string | null;
  client_message_id: string | null;
  part: number;
  room_id: string;
  event_id: string;
  direction: "to_matrix" | "to_skype";
  sender: string;
  sent_ts: number;
  edit_of: number | null;
  deleted: number;
  created_ts: number;
}

export class SqliteMessageRepo implements MessageRepo {
  readonly #insert;
  readonly #bySkypeId;
  readonly #byClientId;
  readonly #byEventId;
  readonly #byId;
  readonly #partsBySkypeId;
  readonly #partsByClientId;
  readonly #latestEdit;
  readonly #setSkypeId;
  readonly #newestAtOrBefore;
  readonly #newestUpTo;
  readonly #markDeleted;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    // ON CONFLICT without a target covers every unique index: Message-ID, Client-Message-ID, event id.
    this.#insert = db.prepare<Record<string, unknown>, RawMessage>(
      `INSERT INTO messages (receiver, conversation, skype_message_id, client_message_id, part, room_id, event_id,
         direction, sender, sent_ts, edit_of, created_ts)
       VALUES (@receiver, @conversation, @skypeMessageId, @clientMessageId, @part, @roomId, @eventId,
         @direction, @sender, @sentTs, @editOf, @now)
       ON CONFLICT DO NOTHING RETURNING *`,
    );
    const key = "receiver = ? AND conversation = ?";
    this.#bySkypeId = db.prepare<[string, string, string, number], RawMessage>(
      `SELECT * FROM messages WHERE ${key} AND skype_message_id = ? AND part = ?`,
    );
    this.#byClientId = db.prepare<[string, string, string, number], RawMessage>(
      `SELECT * FROM messages WHERE ${key} AND client_message_id = ? AND part = ?`,
    );
    this.#byEventId = db.prepare<[string], RawMessage>("SELECT * FROM messages WHERE event_id = ?");
    this.#byId = db.prepare<[number], RawMessage>("SELECT * FROM messages WHERE id = ?");
    this.#partsBySkypeId = db.prepare<[string, string, string], RawMessage>(
      `SELECT * FROM messages WHERE ${key} AND skype_message_id = ? ORDER BY part`,
    );
    this.#partsByClientId = db.prepare<[string, string, string], RawMessage>(
      `SELECT * FROM messages WHERE ${key} AND client_message_id = ? ORDER BY part`,
    );
    this.#latestEdit = db.prepare<[number], RawMessage>(
      "SELECT * FROM messages WHERE edit_of = ? ORDER BY sent_ts DESC, id DESC LIMIT 1",
    );
    this.#setSkypeId = db.prepare<[string, number], RawMessage>(
      "UPDATE messages SET skype_message_id = ? WHERE id = ? RETURNING *",
    );
    this.#markDeleted = db.prepare<[number]>("UPDATE messages SET deleted = 1 WHERE id = ?");
    const original = "skype_message_id IS NOT NULL AND edit_of IS NULL AND part = 0";
    this.#newestAtOrBefore = db.prepare<[string, number], RawMessage>(
      `SELECT * FROM messages WHERE room_id = ? AND sent_ts <= ? AND ${original}
       ORDER BY sent_ts DESC, id DESC LIMIT 1`,
    );
    // Decimal Message-IDs as text: a shorter one is smaller, equal lengths compare as text.
    this.#newestUpTo = db.prepare<Record<string, string>, RawMessage>(
      `SELECT * FROM messages WHERE receiver = @receiver AND conversation = @conversation AND ${original}
         AND (length(skype_message_id) < length(@id) OR (length(skype_message_id) = length(@id) AND skype_message_id <= @id))
       ORDER BY length(skype_message_id) DESC, skype_message_id DESC LIMIT 1`,
    );
  }

  insert(message: NewMessage): InsertResult<MessageRow> {
    const params = insertParams(message);
    return transaction(this.db, () => {
      const raw = this.#insert.get({ ...params, now: this.now() });
      if (raw) return { inserted: true, row: toMessage(raw) };
      return { inserted: false, row: found(this.#existing(message, params.part), "the conflicting message") };
    });
  }

  getBySkypeId(
    receiver: string,
    conversation: string,
    skypeMessageId: string,
    part = 0,
  ): MessageRow | undefined {
    const raw = this.#bySkypeId.get(receiver, conversation, skypeMessageId, part);
    return raw && toMessage(raw);
  }

  getByClientId(
    receiver: string,
    conversation: string,
    clientMessageId: string,
    part = 0,
  ): MessageRow | undefined {
    const raw = this.#byClientId.get(receiver, conversation, clientMessageId, part);
    return raw && toMessage(raw);
  }

  getByEventId(eventId: string): MessageRow | undefined {
    const raw = this.#byEventId.get(eventId);
    return raw && toMessage(raw);
  }

  parts(row: MessageRow): MessageRow[] {
    let raws: RawMessage[] = [];
    if (row.skypeMessageId !== null) {
      raws = this.#partsBySkypeId.all(row.receiver, row.conversation, row.skypeMessageId);
    } else if (row.clientMessageId !== null) {
      raws = this.#partsByClientId.all(row.receiver, row.conversation, row.clientMessageId);
    }
    return raws.length > 0 ? raws.map(toMessage) : [row];
  }

  latestEdit(originalId: number): MessageRow | undefined {
    const raw = this.#latestEdit.get(originalId);
    return raw && toMessage(raw);
  }

  newestSkypeMessageAtOrBefore(roomId: string, ts: number): MessageRow | undefined {
    const raw = this.#newestAtOrBefore.get(roomId, Math.floor(ts));
    return raw && toMessage(raw);
  }

  newestSkypeMessageUpTo(
    receiver: string,
    conversation: string,
    skypeMessageId: string,
  ): MessageRow | undefined {
    if (!/^\d{1,30}$/.test(skypeMessageId)) return undefined;
    const id = skypeMessageId.replace(/^0+(?=\d)/, "");
    const raw = this.#newestUpTo.get({ receiver, conversation, id });
    return raw && toMessage(raw);
  }

  setSkypeMessageId(id: number, skypeMessageId: string): MessageRow {
    checkText(skypeMessageId, "skypeMessageId");
    return toMessage(found(this.#setSkypeId.get(skypeMessageId, id), "the message"));
  }

  markDeleted(id: number): boolean {
    return transaction(this.db, () => {
      const raw = this.#byId.get(id);
      if (!raw) return false;
      for (const part of this.parts(toMessage(raw))) this.#markDeleted.run(part.id);
      return true;
    });
  }

  /** The row a refused insert collided with. */
  #existing(m: NewMessage, part: number): MessageRow | undefined {
    if (m.skypeMessageId) {
      const row = this.getBySkypeId(m.receiver, m.conversation, m.skypeMessageId, part);
      if (row) return row;
    }
    if (m.clientMessageId) {
      const row = this.getByClientId(m.receiver, m.conversation, m.clientMessageId, part);
      if (row) return row;
    }
    return this.getByEventId(m.eventId);
  }
}

function insertParams(m: NewMessage): Record<string, string | number | null> & { part: number } {
  if (m.direction !== "to_matrix" && m.direction !== "to_skype") {
    throw new StoreError(StoreErrorCode.InvalidArgument, 'a message direction is "to_matrix" or "to_skype"');
  }
  const optional = (v: string | null | undefined, what: string): string | null =>
    v === undefined || v === null ? null : checkText(v, what);
  return {
    receiver: checkText(m.receiver, "receiver"),
    conversation: checkText(m.conversation, "conversation"),
    skypeMessageId: optional(m.skypeMessageId, "skypeMessageId"),
    clientMessageId: optional(m.clientMessageId, "clientMessageId"),
    part: checkInt(m.part ?? 0, "part"),
    roomId: checkText(m.roomId, "roomId"),
    eventId: checkText(m.eventId, "eventId"),
    direction: m.direction,
    sender: checkText(m.sender, "sender"),
    sentTs: checkInt(m.sentTs, "sentTs"),
    editOf: m.editOf ?? null,
  };
}

function toMessage(r: RawMessage): MessageRow {
  return {
    id: r.id,
    receiver: r.receiver,
    conversation: r.conversation,
    skypeMessageId: r.skype_message_id,
    clientMessageId: r.client_message_id,
    part: r.part,
    roomId: r.room_id,
    eventId: r.event_id,
    direction: r.direction,
    sender: r.sender,
    sentTs: r.sent_ts,
    editOf: r.edit_of,
    deleted: r.deleted === 1,
    createdTs: r.created_ts,
  };
}
