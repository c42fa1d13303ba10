// SPDX-License-Identifier: Apache-2.0
/** The `portals` table: Matrix rooms ↔ (receiver, Skype conversation). */
import type { Db } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type { InsertResult, NewPortal, PortalPatch, PortalRepo, PortalRow } from "../types.js";
import { type Clock, checkText, flag, found, patchParams, patchSql } from "./sql.js";

export interface RawPortal {
  room_id: string;
  receiver: string;
  conversation: string;
  kind: "dm" | "group";
  name: string | null;
  topic: string | null;
  avatar_url: string | null;
  encrypted: number;
  created_ts: number;
  updated_ts: number;
}

const PATCH_FIELDS = {
  name: "name",
  topic: "topic",
  avatarUrl: "avatar_url",
  encrypted: "encrypted",
} as const;

export class SqlitePortalRepo implements PortalRepo {
  readonly #byRoom;
  readonly #byKey;
  readonly #insert;
  readonly #patch;
  readonly #byReceiver;
  readonly #delete;

  constructor(
    db: Db,
    private readonly now: Clock,
  ) {
    this.#byRoom = db.prepare<[string], RawPortal>("SELECT * FROM portals WHERE room_id = ?");
    this.#byKey = db.prepare<[string, string], RawPortal>(
      "SELECT * FROM portals WHERE receiver = ? AND conversation = ?",
    );
    this.#insert = db.prepare<Record<string, unknown>, RawPortal>(
      `INSERT INTO portals (room_id, receiver, conversation, kind, name, topic, avatar_url, encrypted, created_ts, updated_ts)
       VALUES (@roomId, @receiver, @conversation, @kind, @name, @topic, @avatarUrl, @encrypted, @now, @now)
       ON CONFLICT DO NOTHING RETURNING *`,
    );
    this.#patch = db.prepare<Record<string, unknown>, RawPortal>(
      patchSql("portals", "room_id = @key", PATCH_FIELDS),
    );
    this.#byReceiver = db.prepare<[string], RawPortal>(
      "SELECT * FROM portals WHERE receiver = ? ORDER BY created_ts, room_id",
    );
    this.#delete = db.prepare<[string]>("DELETE FROM portals WHERE room_id = ?");
  }

  getByRoom(roomId: string): PortalRow | undefined {
    const raw = this.#byRoom.get(roomId);
    return raw && toPortal(raw);
  }

  get(receiver: string, conversation: string): PortalRow | undefined {
    const raw = this.#byKey.get(receiver, conversation);
    return raw && toPortal(raw);
  }

  create(portal: NewPortal): InsertResult<PortalRow> {
    if (portal.kind !== "dm" && portal.kind !== "group") {
      throw new StoreError(StoreErrorCode.InvalidArgument, 'a portal kind is "dm" or "group"');
    }
    const raw = this.#insert.get({
      roomId: checkText(portal.roomId, "roomId"),
      receiver: checkText(portal.receiver, "receiver"),
      conversation: checkText(portal.conversation, "conversation"),
      kind: portal.kind,
      name: portal.name ?? null,
      topic: portal.topic ?? null,
      avatarUrl: portal.avatarUrl ?? null,
      encrypted: portal.encrypted ? 1 : 0,
      now: this.now(),
    });
    if (raw) return { inserted: true, row: toPortal(raw) };
    const existing = this.get(portal.receiver, portal.conversation);
    if (existing) return { inserted: false, row: existing };
    throw new StoreError(StoreErrorCode.Constraint, "the room is already the portal of another conversation");
  }

  update(roomId: string, patch: PortalPatch): PortalRow {
    const params = patchParams({ ...patch, encrypted: flag(patch.encrypted) }, PATCH_FIELDS);
    return toPortal(found(this.#patch.get({ ...params, key: roomId, now: this.now() }), "the portal"));
  }

  listByReceiver(receiver: string): PortalRow[] {
    return this.#byReceiver.all(receiver).map(toPortal);
  }

  delete(roomId: string): boolean {
    return this.#delete.run(roomId).changes > 0;
  }
}

export function toPortal(r: RawPortal): PortalRow {
  return {
    roomId: r.room_id,
    receiver: r.receiver,
    conversation: r.conversation,
    kind: r.kind,
    name: r.name,
    topic: r.topic,
    avatarUrl: r.avatar_url,
    encrypted: r.encrypted === 1,
    createdTs: r.created_ts,
    updatedTs: r.updated_ts,
  };
}
