// SPDX-License-Identifier: Apache-2.0
/** The `pending_requests` table: incoming contact requests shown to a linked user. */
import { type Db, transaction } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type {
  InsertResult,
  PendingRequestInput,
  PendingRequestRepo,
  PendingRequestRow,
  PendingRequestStatus,
} from "../types.js";
import { type Clock, checkText, found, patchParams, patchSql } from "./sql.js";

interface RawPending {
  id: number;
  receiver: string;
  mri: string;
  display_name: string | null;
  message: string | null;
  room_id: string | null;
  status: PendingRequestStatus;
  created_ts: number;
  updated_ts: number;
}

const STATUSES: readonly string[] = ["pending", "accepted", "declined", "blocked", "withdrawn"];
const PATCH_FIELDS = {
  displayName: "display_name",
  message: "message",
  roomId: "room_id",
  status: "status",
} as const;

export class SqlitePendingRequestRepo implements PendingRequestRepo {
  readonly #get;
  readonly #insert;
  readonly #patch;
  readonly #list;
  readonly #listByStatus;
  readonly #delete;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    this.#get = db.prepare<[string, string], RawPending>(
      "SELECT * FROM pending_requests WHERE receiver = ? AND mri = ?",
    );
    this.#insert = db.prepare<Record<string, unknown>, RawPending>(
      `INSERT INTO pending_requests (receiver, mri, display_name, message, room_id, status, created_ts, updated_ts)
       VALUES (@receiver, @mri, @displayName, @message, @roomId, @status, @now, @now)
       ON CONFLICT (receiver, mri) DO NOTHING RETURNING *`,
    );
    this.#patch = db.prepare<Record<string, unknown>, RawPending>(
      patchSql("pending_requests", "receiver = @receiver AND mri = @mri", PATCH_FIELDS),
    );
    this.#list = db.prepare<[string], RawPending>(
      "SELECT * FROM pending_requests WHERE receiver = ? ORDER BY id",
    );
    this.#listByStatus = db.prepare<[string, string], RawPending>(
      "SELECT * FROM pending_requests WHERE receiver = ? AND status = ? ORDER BY id",
    );
    this.#delete = db.prepare<[string, string]>(
      "DELETE FROM pending_requests WHERE receiver = ? AND mri = ?",
    );
  }

  get(receiver: string, mri: string): PendingRequestRow | undefined {
    const raw = this.#get.get(receiver, mri);
    return raw && toPending(raw);
  }

  upsert(receiver: string, mri: string, fields: PendingRequestInput = {}): InsertResult<PendingRequestRow> {
    checkText(receiver, "receiver");
    checkText(mri, "mri");
    checkStatus(fields.status);
    return transaction(this.db, () => {
      const raw = this.#insert.get({
        receiver,
        mri,
        displayName: fields.displayName ?? null,
        message: fields.message ?? null,
        roomId: fields.roomId ?? null,
        status: fields.status ?? "pending",
        now: this.now(),
      });
      if (raw) return { inserted: true, row: toPending(raw) };
      return { inserted: false, row: this.update(receiver, mri, fields) };
    });
  }

  update(receiver: string, mri: string, fields: PendingRequestInput): PendingRequestRow {
    checkStatus(fields.status);
    const params = patchParams({ ...fields }, PATCH_FIELDS);
    return toPending(
      found(this.#patch.get({ ...params, receiver, mri, now: this.now() }), "the contact request"),
    );
  }

  list(receiver: string, status?: PendingRequestStatus): PendingRequestRow[] {
    checkStatus(status);
    const raws = status === undefined ? this.#list.all(receiver) : this.#listByStatus.all(receiver, status);
    return raws.map(toPending);
  }

  delete(receiver: string, mri: string): boolean {
    return this.#delete.run(receiver, mri).changes > 0;
  }
}

function checkStatus(status: string | undefined): void {
  if (status !== undefined && !STATUSES.includes(status)) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `a request status is one of ${STATUSES.join(", ")}`);
  }
}

function toPending(r: RawPending): PendingRequestRow {
  return {
    id: r.id,
    receiver: r.receiver,
    mri: r.mri,
    displayName: r.display_name,
    message: r.message,
    roomId: r.room_id,
    status: r.status,
    createdTs: r.created_ts,
    updatedTs: r.updated_ts,
  };
}
