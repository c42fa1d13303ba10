// SPDX-License-Identifier: Apache-2.0
// v2: the durable appservice inbox. Never edit once shipped; add 003-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * Every room event Synapse pushes is stored here, in the same SQLite transaction for the whole
 * appservice transaction, before Synapse gets its 200. `event_id` is unique, so a transaction Synapse
 * re-sends is recognised event by event. `done_ts` is set once the event's handler finished; rows
 * without it are replayed, in `seq` order, at start-up. Done rows keep only their id (the JSON is
 * cleared) and are pruned after a retention period.
 */
export default {
  version: 2,
  description: "inbox: appservice events stored before they are acknowledged, replayed until handled",
  sql: `
CREATE TABLE inbox (
  seq         INTEGER PRIMARY KEY,            -- arrival order
  event_id    TEXT NOT NULL UNIQUE,
  txn_id      TEXT NOT NULL,                  -- the appservice transaction that brought it first
  room_id     TEXT,
  event       TEXT NOT NULL,                  -- the event JSON as received; 'null' once done
  received_ts INTEGER NOT NULL,
  done_ts     INTEGER
) STRICT;
CREATE INDEX inbox_pending ON inbox (seq) WHERE done_ts IS NULL;
CREATE INDEX inbox_done ON inbox (done_ts) WHERE done_ts IS NOT NULL;
`,
} satisfies Migration;
