// SPDX-License-Identifier: Apache-2.0
/**
 * The SQLite implementation of {@link Store}: opens the file, migrates it, unlocks the secrets key
 * and wires one repository per table. Every repository call is guarded so SQLite failures surface as
 * {@link StoreError}s.
 */
import { openKeyring, type SecretBox } from "./crypto.js";
import { type Db, guard, journalMode, mapSqliteError, openDatabase, transaction } from "./db.js";
import { migrate, type MigrateResult } from "./migrate.js";
import { SqliteCursorRepo } from "./repos/cursors-repo.js";
import { SqliteInboxRepo } from "./repos/inbox-repo.js";
import { SqliteMessageRepo } from "./repos/messages-repo.js";
import { SqliteMetaRepo } from "./repos/meta-repo.js";
import { SqliteOutboxRepo } from "./repos/outbox-repo.js";
import { SqlitePendingRequestRepo } from "./repos/pending-repo.js";
import { SqlitePersonRepo } from "./repos/persons-repo.js";
import { SqlitePortalRepo } from "./repos/portals-repo.js";
import { SqlitePuppetRepo } from "./repos/puppets-repo.js";
import type { Clock } from "./repos/sql.js";
import { SqliteUserRepo } from "./repos/users-repo.js";
import type {
  CursorRepo,
  InboxRepo,
  MessageRepo,
  MetaRepo,
  OutboxRepo,
  PendingRequestRepo,
  PersonRepo,
  PortalRepo,
  PuppetRepo,
  Store,
  UserRepo,
} from "./types.js";

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Database file (its directory is created if missing), or `":memory:"` for tests. */
  readonly path: string;
  /**
   * Key for secrets at rest: 64 hex characters, or a passphrase (≥ 8 characters) stretched with
   * scrypt. Without it the store works but refresh tokens cannot be stored or read (`STORE_NO_KEY`).
   */
  readonly key?: string;
  /** Lock wait before `STORE_BUSY`; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** Most memory SQLite's page cache takes, in MiB; default 4 (see `openDatabase`). */
  readonly cacheMiB?: number;
  /** Clock for timestamps (ms since the epoch); default `Date.now`. */
  readonly now?: Clock;
}

/** The bridge's SQLite store. Create it with {@link openStore}. */
export class SqliteStore implements Store {
  readonly meta: MetaRepo;
  readonly users: UserRepo;
  readonly persons: PersonRepo;
  readonly puppets: PuppetRepo;
  readonly portals: PortalRepo;
  readonly messages: MessageRepo;
  readonly cursors: CursorRepo;
  readonly outbox: OutboxRepo;
  readonly pendingRequests: PendingRequestRepo;
  readonly inbox: InboxRepo;

  /** @internal Use {@link openStore}. */
  constructor(
    private readonly db: Db,
    /** What opening did to the schema (for a start-up log line). */
    readonly migration: MigrateResult,
    box: SecretBox | undefined,
    now: Clock,
  ) {
    const messages = new SqliteMessageRepo(db, now);
    this.meta = guarded("meta", new SqliteMetaRepo(db));
    this.users = guarded("users", new SqliteUserRepo(db, box, now));
    this.persons = guarded("persons", new SqlitePersonRepo(db, now));
    this.puppets = guarded("puppets", new SqlitePuppetRepo(db, now));
    this.portals = guarded("portals", new SqlitePortalRepo(db, now));
    this.messages = guarded("messages", messages);
    this.cursors = guarded("cursors", new SqliteCursorRepo(db, now));
    this.outbox = guarded("outbox", new SqliteOutboxRepo(db, messages, now, box));
    this.pendingRequests = guarded("pendingRequests", new SqlitePendingRequestRepo(db, now));
    this.inbox = guarded("inbox", new SqliteInboxRepo(db, now, box));
  }

  /** The database file's path as opened. */
  get path(): string {
    return this.db.name;
  }

  /** `"wal"` for files (`"memory"` for `:memory:`). */
  get journalMode(): string {
    return guard("read the journal mode", () => journalMode(this.db));
  }

  transaction<T>(fn: () => T): T {
    return guard("run a transaction", () => transaction(this.db, fn));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens the store: creates or opens the file (WAL, foreign keys, busy timeout), migrates it to the
 * code's schema, and unlocks the secrets key. Synchronous. Throws {@link StoreError}:
 * `STORE_NEWER_SCHEMA` (a newer bridge wrote it), `STORE_BAD_KEY` (wrong key), `STORE_INVALID_KEY`,
 * `STORE_CORRUPT`, `STORE_FOREIGN_DATABASE`, `STORE_MIGRATION`, `STORE_IO`, `STORE_BUSY`.
 */
export function openStore(options: OpenStoreOptions): SqliteStore {
  const db = openDatabase(options);
  try {
    const migration = migrate(db);
    const meta = new SqliteMetaRepo(db);
    const box =
      options.key === undefined
        ? undefined
        : guard("read the key settings", () => openKeyring(options.key!, meta));
    return new SqliteStore(db, migration, box, options.now ?? Date.now);
  } catch (err) {
    db.close();
    throw mapSqliteError(err, "open the store");
  }
}

/** Wraps every method of a repository so SQLite errors become StoreErrors. */
function guarded<T extends object>(area: string, repo: T): T {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => guard(`run ${area}.${String(prop)}`, () => method.apply(target, args));
    },
  });
}
