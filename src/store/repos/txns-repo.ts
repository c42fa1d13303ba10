// SPDX-License-Identifier: Apache-2.0
/** The `as_txns` table: appservice transaction ids already processed. */
import type { Db } from "../db.js";
import type { TxnRepo } from "../types.js";
import { type Clock, checkInt, checkText } from "./sql.js";

export class SqliteTxnRepo implements TxnRepo {
  readonly #has;
  readonly #mark;
  readonly #prune;

  constructor(
    db: Db,
    private readonly now: Clock,
  ) {
    this.#has = db.prepare<[string], number>("SELECT 1 FROM as_txns WHERE txn_id = ?").pluck();
    this.#mark = db.prepare<[string, number]>(
      "INSERT INTO as_txns (txn_id, processed_ts) VALUES (?, ?) ON CONFLICT (txn_id) DO NOTHING",
    );
    this.#prune = db.prepare<[number]>("DELETE FROM as_txns WHERE processed_ts < ?");
  }

  has(txnId: string): boolean {
    return this.#has.get(txnId) !== undefined;
  }

  mark(txnId: string): boolean {
    return this.#mark.run(checkText(txnId, "txnId"), this.now()).changes > 0;
  }

  prune(maxAgeMs: number): number {
    return this.#prune.run(this.now() - checkInt(maxAgeMs, "maxAgeMs")).changes;
  }
}
