// SPDX-License-Identifier: Apache-2.0
/**
 * One session's view of its `users` row: state, rotated refresh tokens, contact-sync bookkeeping and
 * cursors. Writes happen only while the row exists (a deleted user is never re-created by a late
 * write) and store failures are logged, never thrown: a session must not die of a busy database.
 * The refresh token is the exception: its failures are thrown to be retried and reported.
 */
import { createHash } from "node:crypto";
import { redactText } from "../util/redact.js";
import { StoreError, StoreErrorCode } from "../store/errors.js";
import type { Store, UserRow } from "../store/types.js";
import { errorText, type Logger } from "../util/logger.js";
import { readSyncState, type PersistedSyncState } from "./setup.js";
import type { SessionState } from "./types.js";

/** A short, secret-free detail of a state for `users.stateDetail`. */
export function stateDetail(s: SessionState): string | null {
  if (s.kind === "logged_out") return s.reason;
  if ((s.kind === "transient_disconnect" || s.kind === "bad_credentials") && s.error) {
    return `${s.error.code}: ${redactText(s.error.message)}`.slice(0, 300);
  }
  return null;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64");
}

export class UserRecord {
  /** A digest of the contact-sync state last read or written: an unchanged one is not written again. */
  private savedSyncDigest?: string;

  constructor(
    private readonly store: Store,
    readonly mxid: string,
    private readonly log: Logger,
  ) {}

  /** The row, or undefined when missing or unreadable. */
  row(): UserRow | undefined {
    try {
      return this.store.users.get(this.mxid);
    } catch (e) {
      this.log.error("reading the user from the store failed", { error: errorText(e) });
      return undefined;
    }
  }

  /**
   * The contact-sync bookkeeping an earlier run saved. When it cannot be read (a corrupt value, a
   * failing store) the session starts with none: a full sync, which writes it again.
   */
  syncState(): PersistedSyncState {
    let stored: unknown;
    try {
      stored = this.row()?.contactSyncState;
    } catch (e) {
      this.log.error("reading the saved contact-sync state failed; starting a full sync", {
        error: errorText(e),
      });
      stored = undefined;
    }
    if (stored !== undefined && stored !== null) this.savedSyncDigest = digest(JSON.stringify(stored));
    return readSyncState(stored);
  }

  saveState(s: SessionState): void {
    this.write("the session state", () =>
      this.store.users.update(this.mxid, { loginState: s.kind, stateDetail: stateDetail(s) }),
    );
  }

  /**
   * Persists a rotated refresh token (encrypted by the store); nothing when the user is gone.
   * Unlike the other writes it throws, so that the caller can retry (token-store.ts).
   * @throws StoreError
   */
  storeRefreshToken(rt: string): void {
    try {
      this.store.users.setRefreshToken(this.mxid, rt);
    } catch (e) {
      // The user was unlinked meanwhile (no row): nothing to keep.
      if (e instanceof StoreError && e.code === StoreErrorCode.NotFound) return;
      throw e;
    }
  }

  /** Stores the contact-sync bookkeeping, unless it is what was last read or written. */
  saveSyncState(state: PersistedSyncState): void {
    const text = JSON.stringify(state);
    const sum = digest(text);
    if (sum === this.savedSyncDigest) return;
    this.write("the contact-sync state", () => {
      if (this.store.users.update(this.mxid, { contactSyncState: state })) this.savedSyncDigest = sum;
    });
  }

  /** Last handled Message-ID per conversation (the bridge advances them). @throws StoreError */
  cursors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of this.store.cursors.listByReceiver(this.mxid)) out[c.conversation] = c.lastMessageId;
    return out;
  }

  /** Runs an update (which writes nothing when the row is gone); store failures are logged. */
  private write(what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (e) {
      this.log.error(`saving ${what} failed`, { error: errorText(e) });
    }
  }
}
