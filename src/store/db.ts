// SPDX-License-Identifier: Apache-2.0
/**
 * Opening the SQLite file and the few helpers every repository shares: a transaction wrapper and the
 * mapping of better-sqlite3 errors onto {@link StoreError} codes.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError, StoreErrorCode } from "./errors.js";

export type Db = Database.Database;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** File path, or `":memory:"` for a private in-memory database (tests). */
  readonly path: string;
  /** How long a write waits for a lock before failing with `STORE_BUSY`. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Most memory SQLite's page cache takes, in MiB. Default {@link DEFAULT_CACHE_MIB}. better-sqlite3
   * builds SQLite with a 16 MiB default; pages it no longer holds are read again from the operating
   * system's file cache.
   */
  readonly cacheMiB?: number;
}

/**
 * The page cache's default size (MiB); `database.cache_mib` in the config has the same default.
 * At 1,000 accounts better-sqlite3's 16 MiB was ~12 KB more RSS per idle session, and 4 MiB did not
 * slow the restart, the reconnect storm at 10,000 or the bursts (BENCHMARKS.md, cause 5 and the
 * fifth round).
 */
export const DEFAULT_CACHE_MIB = 4;

/** `PRAGMA application_id` of the bridge's databases ("SKYB"), set by migration 1. */
export const APPLICATION_ID = 0x534b5942;

/**
 * How often commits are made durable against power loss: a passive WAL checkpoint, which syncs the
 * WAL (and then the database file) when there is something new. See {@link openDatabase}.
 */
export const DURABILITY_INTERVAL_MS = 1000;

/**
 * Opens (creating if needed) the database file with the settings the store relies on:
 * `journal_mode=WAL` (readers never block the writer), `synchronous=NORMAL`, `foreign_keys=ON` and
 * `busy_timeout`. A new file is created readable by its owner only, and SQLite gives the `-wal`/`-shm`
 * files the same mode. Synchronous; throws {@link StoreError}.
 *
 * Durability: a commit is in the WAL when it returns, so a crash of the process (SIGKILL, OOM) never
 * loses it; the file is never corrupted. It is fsynced within {@link DURABILITY_INTERVAL_MS} (a
 * checkpoint timer, also at every automatic checkpoint), so a power loss or kernel crash can roll
 * back about the last second of commits, never more and never half of one. `synchronous=FULL` (an
 * fsync per commit) cost 4.3 ms a commit on the benchmark machine and, with a hundred commits per
 * session start, kept the event loop blocked 75 % of the time while 300 sessions started
 * (BENCHMARKS.md, P3); this is the setting mautrix bridges use for SQLite (WAL, NORMAL).
 */
export function openDatabase(options: OpenDatabaseOptions): Db {
  const { path } = options;
  const busy = options.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busy) || busy < 0) {
    throw new StoreError(StoreErrorCode.InvalidArgument, "busyTimeoutMs must be a non-negative integer");
  }
  const cacheMiB = options.cacheMiB ?? DEFAULT_CACHE_MIB;
  if (!Number.isInteger(cacheMiB) || cacheMiB < 1 || cacheMiB > 4096) {
    throw new StoreError(StoreErrorCode.InvalidArgument, "cacheMiB must be an integer from 1 to 4096");
  }
  if (path !== ":memory:" && path !== "") {
    try {
      mkdirSync(dirname(path), { recursive: true });
      closeSync(openSync(path, "a", 0o600));
    } catch (err) {
      throw new StoreError(StoreErrorCode.Io, `cannot create the database file (${ioReason(err)})`, false, {
        cause: err,
      });
    }
  }
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    throw mapSqliteError(err, "open the database");
  }
  try {
    db.pragma(`busy_timeout = ${busy}`);
    // A negative cache_size is in KiB.
    db.pragma(`cache_size = ${-cacheMiB * 1024}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Freed pages are zeroed, so a row that held a secret (a login's inbox event, a replaced token)
    // leaves no copy in the file once it is cleared.
    db.pragma("secure_delete = ON");
    // Reject SQL that reads the schema's own triggers/views from untrusted files.
    db.pragma("trusted_schema = OFF");
    if (db.pragma("foreign_keys", { simple: true }) !== 1) {
      throw new StoreError(StoreErrorCode.Failed, "SQLite refused to enable foreign keys");
    }
  } catch (err) {
    db.close();
    throw mapSqliteError(err, "open the database");
  }
  if (journalMode(db) === "wal") syncPeriodically(db);
  return db;
}

/** Checkpoints every {@link DURABILITY_INTERVAL_MS} until the database is closed; never keeps the process alive. */
function syncPeriodically(db: Db): void {
  const timer = setInterval(() => {
    if (!db.open) {
      clearInterval(timer);
      return;
    }
    try {
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // Busy or closing: the next tick (or SQLite's own automatic checkpoint) syncs it.
    }
  }, DURABILITY_INTERVAL_MS);
  timer.unref();
}

/** The journal mode in effect (`"wal"` for files, `"memory"` for `:memory:`). */
export function journalMode(db: Db): string {
  return String(db.pragma("journal_mode", { simple: true }));
}

/**
 * Runs `fn` in one transaction (`BEGIN IMMEDIATE`, so a read-then-write never meets a lock upgrade
 * failure); nested calls become savepoints. `fn` must be synchronous: everything it writes commits
 * together or, if it throws, not at all.
 */
export function transaction<T>(db: Db, fn: () => T): T {
  return db
    .transaction(() => {
      const result = fn();
      if (typeof (result as { then?: unknown } | null)?.then === "function") {
        throw new StoreError(
          StoreErrorCode.InvalidArgument,
          "a store transaction must be synchronous (its function returned a promise)",
        );
      }
      return result;
    })
    .immediate();
}

/** Calls `fn` and turns any SQLite failure into a {@link StoreError}; other errors pass unchanged. */
export function guard<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapSqliteError(err, action);
  }
}

/**
 * Maps a better-sqlite3 error to a {@link StoreError}. SQLite's messages name tables and columns,
 * never bound values, so they may be kept as the cause. Non-SQLite errors are returned unchanged.
 */
export function mapSqliteError(err: unknown, action: string): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) {
    return new StoreError(StoreErrorCode.Closed, `cannot ${action}: the store is closed`, false, {
      cause: err,
    });
  }
  // better-sqlite3 refuses values it cannot bind before SQLite sees them (JS callers, wrong types).
  if ((err instanceof TypeError || err instanceof RangeError) && BIND_ERROR.test(err.message)) {
    return new StoreError(
      StoreErrorCode.InvalidArgument,
      `cannot ${action}: an argument has the wrong type`,
      false,
      {
        cause: err,
      },
    );
  }
  if (!(err instanceof Database.SqliteError)) return err;
  const code = err.code;
  const make = (c: StoreErrorCode, what: string, retryable = false): StoreError =>
    new StoreError(c, `cannot ${action}: ${what} (${code})`, retryable, { cause: err });
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return make(StoreErrorCode.Busy, "the database is locked", true);
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return make(StoreErrorCode.Corrupt, "the file is not a SQLite database or is damaged");
  }
  if (code.startsWith("SQLITE_CONSTRAINT"))
    return make(StoreErrorCode.Constraint, constraintText(err.message));
  if (/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM|AUTH)/.test(code)) {
    return make(StoreErrorCode.Io, "the database file cannot be read or written");
  }
  return make(StoreErrorCode.Failed, "SQLite failed");
}

const BIND_ERROR = /can only bind|too (few|many) parameter|missing named parameter/i;

function constraintText(message: string): string {
  // "FOREIGN KEY constraint failed" / "UNIQUE constraint failed: portals.receiver, portals.conversation"
  const m = /^(\w[\w ]*constraint failed(?::\s*[\w., ]+)?)$/i.exec(message.trim());
  return m?.[1] ?? "a constraint failed";
}

function ioReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "I/O error";
}
