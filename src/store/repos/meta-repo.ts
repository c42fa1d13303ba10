// SPDX-License-Identifier: Apache-2.0
/** The `meta` table: free key/value bookkeeping; `store.*` keys belong to the store itself. */
import { type Db, transaction } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type { KeyMeta } from "../crypto.js";
import type { MetaRepo } from "../types.js";
import { checkText } from "./sql.js";

const RESERVED = "store.";

export class SqliteMetaRepo implements MetaRepo, KeyMeta {
  readonly #get;
  readonly #set;
  readonly #delete;

  constructor(private readonly db: Db) {
    this.#get = db.prepare<[string], string>("SELECT value FROM meta WHERE key = ?").pluck();
    this.#set = db.prepare<[string, string]>(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.#delete = db.prepare<[string]>("DELETE FROM meta WHERE key = ?");
  }

  get(key: string): string | undefined {
    return this.#get.get(checkText(key, "meta key"));
  }

  set(key: string, value: string): void {
    if (typeof value !== "string")
      throw new StoreError(StoreErrorCode.InvalidArgument, "meta values are strings");
    this.#set.run(checkOwnKey(key), value);
  }

  delete(key: string): boolean {
    return this.#delete.run(checkOwnKey(key)).changes > 0;
  }

  /** For the store itself (may write reserved keys): all entries in one transaction. */
  setMany(entries: Readonly<Record<string, string>>): void {
    transaction(this.db, () => {
      for (const [key, value] of Object.entries(entries)) this.#set.run(key, value);
    });
  }
}

function checkOwnKey(key: string): string {
  checkText(key, "meta key");
  if (key.startsWith(RESERVED)) {
    throw new StoreError(
      StoreErrorCode.InvalidArgument,
      `meta keys starting with "${RESERVED}" are reserved`,
    );
  }
  return key;
}
