// SPDX-License-Identifier: Apache-2.0
// v3: drops the unused appservice transaction table. Never edit once shipped; add 004-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * `as_txns` (from v1) recorded appservice transaction ids so a retried transaction was skipped as a
 * whole. The durable inbox (v2) recognises retries event by event, so nothing reads or writes the
 * table any more. Dropping the table drops its index (`as_txns_processed`) with it.
 */
export default {
  version: 3,
  description: "drop as_txns: appservice transactions are recognised by the inbox instead",
  sql: `
DROP TABLE IF EXISTS as_txns;
`,
} satisfies Migration;
