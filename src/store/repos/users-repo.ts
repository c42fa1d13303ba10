// SPDX-License-Identifier: Apache-2.0
/** The `users` table: linked Matrix users and their encrypted refresh tokens. */
import type { SecretBox } from "../crypto.js";
import { type Db, guard, transaction } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type { UserPatch, UserRepo, UserRow } from "../types.js";
import { type Clock, checkText, found, fromJson, patchParams, patchSql, toJson } from "./sql.js";

interface RawUser {
  mxid: string;
  management_room_id: string | null;
  account_email: string | null;
  skype_name: string | null;
  live_mri: string | null;
  skype_mri: string | null;
  epid: string | null;
  login_state: string;
  state_detail: string | null;
  refresh_token_enc: string | null;
  created_ts: number;
  updated_ts: number;
}

const PATCH_FIELDS = {
  managementRoomId: "management_room_id",
  accountEmail: "account_email",
  skypeName: "skype_name",
  liveMri: "live_mri",
  skypeMri: "skype_mri",
  epid: "epid",
  loginState: "login_state",
  stateDetail: "state_detail",
} as const;

/** GCM additional data binding a refresh token to its user: a blob moved to another row fails. */
const tokenContext = (mxid: string): string => `users.refresh_token|${mxid}`;
/** The same for the Matrix access token a user gave for double puppeting. */
const matrixTokenContext = (mxid: string): string => `users.matrix_token|${mxid}`;

export class SqliteUserRepo implements UserRepo {
  readonly #get;
  readonly #list;
  readonly #byMri;
  readonly #byManagementRoom;
  readonly #insert;
  readonly #patch;
  readonly #update;
  readonly #setToken;
  readonly #getToken;
  readonly #setMatrixToken;
  readonly #getMatrixToken;
  readonly #delete;
  readonly #getSyncState;
  readonly #setSyncState;
  readonly #clearSyncState;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox | undefined,
    private readonly now: Clock,
  ) {
    this.#get = db.prepare<[string], RawUser>("SELECT * FROM users WHERE mxid = ?");
    this.#list = db.prepare<[], RawUser>("SELECT * FROM users ORDER BY created_ts, mxid");
    this.#byMri = db.prepare<[string, string], RawUser>(
      "SELECT * FROM users WHERE live_mri = ? OR skype_mri = ? ORDER BY created_ts, mxid",
    );
    this.#byManagementRoom = db.prepare<[string], RawUser>(
      "SELECT * FROM users WHERE management_room_id = ? ORDER BY created_ts, mxid LIMIT 1",
    );
    this.#insert = db.prepare<[string, number, number]>(
      "INSERT INTO users (mxid, created_ts, updated_ts) VALUES (?, ?, ?) ON CONFLICT (mxid) DO NOTHING",
    );
    this.#patch = db.prepare<Record<string, unknown>, RawUser>(
      patchSql("users", "mxid = @key", PATCH_FIELDS),
    );
    this.#update = db.prepare<Record<string, unknown>>(patchSql("users", "mxid = @key", PATCH_FIELDS, false));
    this.#setToken = db.prepare<[string | null, number, string]>(
      "UPDATE users SET refresh_token_enc = ?, updated_ts = ? WHERE mxid = ?",
    );
    this.#getToken = db
      .prepare<[string], string | null>("SELECT refresh_token_enc FROM users WHERE mxid = ?")
      .pluck();
    this.#setMatrixToken = db.prepare<[string | null, number, string]>(
      "UPDATE users SET matrix_token_enc = ?, updated_ts = ? WHERE mxid = ?",
    );
    this.#getMatrixToken = db
      .prepare<[string], string | null>("SELECT matrix_token_enc FROM users WHERE mxid = ?")
      .pluck();
    this.#delete = db.prepare<[string]>("DELETE FROM users WHERE mxid = ?");
    // The contact-sync state has a table of its own (migration 7): the users rows stay small.
    this.#getSyncState = db
      .prepare<[string], string>("SELECT state FROM user_sync_state WHERE mxid = ?")
      .pluck();
    this.#setSyncState = db.prepare<[string, string, number]>(
      `INSERT INTO user_sync_state (mxid, state, updated_ts) VALUES (?, ?, ?)
       ON CONFLICT (mxid) DO UPDATE SET state = excluded.state, updated_ts = excluded.updated_ts`,
    );
    this.#clearSyncState = db.prepare<[string]>("DELETE FROM user_sync_state WHERE mxid = ?");
  }

  get(mxid: string): UserRow | undefined {
    const raw = this.#get.get(mxid);
    return raw && this.#toUser(raw);
  }

  list(): UserRow[] {
    return this.#list.all().map((r) => this.#toUser(r));
  }

  listByMri(mri: string): UserRow[] {
    return this.#byMri.all(mri, mri).map((r) => this.#toUser(r));
  }

  getByManagementRoom(roomId: string): UserRow | undefined {
    const raw = this.#byManagementRoom.get(roomId);
    return raw && this.#toUser(raw);
  }

  upsert(mxid: string, patch: UserPatch = {}): UserRow {
    const { params, sync } = this.#patchParams(mxid, patch);
    return transaction(this.db, () => {
      const now = this.now();
      this.#insert.run(mxid, now, now);
      const row = this.#toUser(found(this.#patch.get({ ...params, now }), "the user"));
      this.#writeSyncState(mxid, sync, now);
      return row;
    });
  }

  update(mxid: string, patch: UserPatch): boolean {
    const { params, sync } = this.#patchParams(mxid, patch);
    const now = this.now();
    if (sync === undefined) return this.#update.run({ ...params, now }).changes > 0;
    return transaction(this.db, () => {
      if (this.#update.run({ ...params, now }).changes === 0) return false;
      this.#writeSyncState(mxid, sync, now);
      return true;
    });
  }

  /** The patch's `users` parameters, and its contact-sync state as JSON (null clears, undefined keeps). */
  #patchParams(
    mxid: string,
    patch: UserPatch,
  ): { params: Record<string, unknown>; sync: string | null | undefined } {
    checkText(mxid, "mxid");
    if (patch.loginState !== undefined) checkText(patch.loginState, "loginState");
    const { contactSyncState, ...rest } = patch;
    const sync =
      contactSyncState === undefined || contactSyncState === null
        ? contactSyncState
        : toJson(contactSyncState, "contactSyncState");
    return { params: { ...patchParams(rest, PATCH_FIELDS), key: mxid }, sync };
  }

  #writeSyncState(mxid: string, sync: string | null | undefined, now: number): void {
    if (sync === null) this.#clearSyncState.run(mxid);
    else if (sync !== undefined) this.#setSyncState.run(mxid, sync, now);
  }

  /**
   * The row as the repository returns it. `contactSyncState` is read (and parsed) when first
   * asked for: it is the bulk of a user's data, and most readers (the session's existence check
   * before each write, state notices, bridge states, `upsert`'s result) never look at it. It is
   * the value stored when it is first asked for, not when the row was read. A corrupt value throws
   * `STORE_CORRUPT` then, a failing read another StoreError.
   */
  #toUser(r: RawUser): UserRow {
    // Read outside the store's guarded methods, so SQLite failures are mapped here.
    const readSyncState = (): string | null =>
      guard("read the contact-sync state", () => this.#getSyncState.get(r.mxid) ?? null);
    return toUser(r, readSyncState);
  }

  setRefreshToken(mxid: string, token: string | null): void {
    let blob: string | null = null;
    if (token !== null) {
      if (typeof token !== "string" || token.length === 0) {
        throw new StoreError(StoreErrorCode.InvalidArgument, "a refresh token must be a non-empty string");
      }
      blob = this.#requireBox().encrypt(token, tokenContext(mxid));
    }
    if (this.#setToken.run(blob, this.now(), mxid).changes === 0) {
      throw new StoreError(StoreErrorCode.NotFound, "cannot store a refresh token for an unknown user");
    }
  }

  getRefreshToken(mxid: string): string | undefined {
    const blob = this.#getToken.get(mxid);
    if (blob === undefined || blob === null) return undefined;
    try {
      return this.#requireBox().decrypt(blob, tokenContext(mxid));
    } catch (err) {
      // The key was verified when the store opened, so a failing tag means the value was altered.
      if (err instanceof StoreError && err.code === StoreErrorCode.BadKey) {
        throw new StoreError(
          StoreErrorCode.Corrupt,
          "the stored refresh token failed its integrity check (altered or damaged); the user must sign in again",
        );
      }
      throw err;
    }
  }

  setMatrixToken(mxid: string, token: string | null): void {
    let blob: string | null = null;
    if (token !== null) {
      if (typeof token !== "string" || token.length === 0) {
        throw new StoreError(StoreErrorCode.InvalidArgument, "an access token must be a non-empty string");
      }
      blob = this.#requireBox().encrypt(token, matrixTokenContext(mxid));
    }
    if (this.#setMatrixToken.run(blob, this.now(), mxid).changes === 0) {
      throw new StoreError(StoreErrorCode.NotFound, "cannot store an access token for an unknown user");
    }
  }

  getMatrixToken(mxid: string): string | undefined {
    const blob = this.#getMatrixToken.get(mxid);
    if (blob === undefined || blob === null) return undefined;
    try {
      return this.#requireBox().decrypt(blob, matrixTokenContext(mxid));
    } catch (err) {
      if (err instanceof StoreError && err.code === StoreErrorCode.BadKey) {
        throw new StoreError(
          StoreErrorCode.Corrupt,
          "the stored Matrix access token failed its integrity check (altered or damaged); give it again",
        );
      }
      throw err;
    }
  }

  delete(mxid: string): boolean {
    return this.#delete.run(mxid).changes > 0;
  }

  #requireBox(): SecretBox {
    if (!this.box) {
      throw new StoreError(
        StoreErrorCode.NoKey,
        "the store was opened without an encryption key; secrets cannot be used",
      );
    }
    return this.box;
  }
}

/** See `SqliteUserRepo.#toUser`. */
function toUser(r: RawUser, readSyncState: () => string | null): UserRow {
  let syncState: unknown;
  let parsed = false;
  return {
    mxid: r.mxid,
    managementRoomId: r.management_room_id,
    accountEmail: r.account_email,
    skypeName: r.skype_name,
    liveMri: r.live_mri,
    skypeMri: r.skype_mri,
    epid: r.epid,
    loginState: r.login_state,
    stateDetail: r.state_detail,
    hasRefreshToken: r.refresh_token_enc !== null,
    get contactSyncState(): unknown {
      if (!parsed) {
        syncState = fromJson(readSyncState(), "contact-sync state");
        parsed = true;
      }
      return syncState;
    },
    createdTs: r.created_ts,
    updatedTs: r.updated_ts,
  };
}
