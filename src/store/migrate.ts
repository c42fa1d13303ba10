// SPDX-License-Identifier: Apache-2.0
/**
 * Schema migrations, tracked by `PRAGMA user_version`. Each step runs in its own transaction together
 * with the version bump, so a crash leaves the database at the previous or the next version, never in
 * between. A database newer than the code is refused untouched.
 */
import { APPLICATION_ID, type Db, mapSqliteError, transaction } from "./db.js";
import { NewerSchemaError, StoreError, StoreErrorCode } from "./errors.js";
import { MIGRATIONS } from "./migrations/index.js";

/** One schema step. Never edit a migration once it has shipped; add the next one. */
export interface Migration {
  /** 1, 2, 3, … without gaps; the database's `user_version` after this step. */
  readonly version: number;
  /** One line for logs: what the step changes. */
  readonly description: string;
  /** The SQL of the step (several statements allowed). */
  readonly sql: string;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Schema version found. */
  readonly from: number;
  /** Schema version now. */
  readonly to: number;
  /** Versions applied, in order. */
  readonly applied: readonly number[];
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** The list to apply (default: the bridge's own). */
  readonly migrations?: readonly Migration[];
  /** Stop at this version instead of the latest (tests build older schemas with it). */
  readonly target?: number;
}

/** The schema version the database is at (`PRAGMA user_version`; 0 for an empty file). */
export function schemaVersion(db: Db): number {
  return Number(db.pragma("user_version", { simple: true }));
}

/** The newest version in a migration list (the code's schema version). */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0;
}

/**
 * Brings the database to the latest (or `target`) schema version. Throws {@link NewerSchemaError}
 * for a database newer than the list, `STORE_FOREIGN_DATABASE` for a SQLite file that belongs to
 * something else, and `STORE_MIGRATION` when a step fails (that step is rolled back). Synchronous.
 */
export function migrate(db: Db, options: MigrateOptions = {}): MigrateResult {
  const migrations = options.migrations ?? MIGRATIONS;
  checkList(migrations);
  const latest = latestVersion(migrations);
  const target = options.target ?? latest;
  if (!Number.isInteger(target) || target < 0 || target > latest) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `no migration leads to schema version ${target}`);
  }
  const from = readVersion(db);
  if (from > latest) throw new NewerSchemaError(from, latest);
  checkOwnership(db, from);
  if (from > target) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `cannot migrate down from ${from} to ${target}`);
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= from || m.version > target) continue;
    applyOne(db, m);
    applied.push(m.version);
  }
  return { from, to: readVersion(db), applied };
}

function readVersion(db: Db): number {
  try {
    return schemaVersion(db);
  } catch (err) {
    throw mapSqliteError(err, "read the schema version");
  }
}

function applyOne(db: Db, m: Migration): void {
  try {
    transaction(db, () => {
      db.exec(m.sql);
      // PRAGMA foreign_keys cannot change inside a transaction, so check what the step left behind.
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length > 0) {
        throw new StoreError(StoreErrorCode.Migration, `${broken.length} rows break foreign keys`);
      }
      db.pragma(`user_version = ${m.version}`);
    });
  } catch (err) {
    const mapped = mapSqliteError(err, `apply migration ${m.version}`);
    if (mapped instanceof StoreError && mapped.code === StoreErrorCode.Busy) throw mapped;
    throw new StoreError(
      StoreErrorCode.Migration,
      `schema migration ${m.version} (${m.description}) failed; the database stays at version ${m.version - 1}`,
      false,
      { cause: mapped },
    );
  }
}

/** Refuses files that are some other program's database, so they are never "migrated". */
function checkOwnership(db: Db, version: number): void {
  let appId: number;
  let tables: number;
  try {
    appId = Number(db.pragma("application_id", { simple: true }));
    tables = Number(
      db.prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get(),
    );
  } catch (err) {
    throw mapSqliteError(err, "read the database header");
  }
  const foreignId = appId !== 0 && appId !== APPLICATION_ID;
  if (foreignId || (version === 0 && tables > 0)) {
    throw new StoreError(
      StoreErrorCode.ForeignDatabase,
      "the database file belongs to another program (it has tables but no bridge schema); point the bridge at its own file",
    );
  }
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError(
        StoreErrorCode.Migration,
        `migration list is malformed: position ${i + 1} holds version ${m.version}`,
      );
    }
  });
}
