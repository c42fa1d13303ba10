// SPDX-License-Identifier: Apache-2.0
// v7: each user's contact-sync state in a table of its own. Never edit once shipped; add 008-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * - user_sync_state: the contact-sync bookkeeping (sync keys and the stored contact list, ~10 KB of
 *   JSON for 50 contacts) moves out of `users`. In `users` it made every row ~12 KB across three
 *   pages, so the frequent small reads of a user (their state, their management room, their
 *   identities: several per reconnect) each pulled the whole contact list through SQLite's page
 *   cache; at 10,000 accounts the table was 120 MB against a 2 MB cache and those reads were the
 *   bulk of the reconnect storm's SQLite time (BENCHMARKS.md, cause 11). Only the session reads the
 *   state, once when it starts, and writes it when it changed.
 * - The rows are removed with their user (ON DELETE CASCADE), like every other per-user table.
 */
export default {
  version: 7,
  description: "user_sync_state (the contact-sync state moves out of users, whose rows become small)",
  sql: `
CREATE TABLE user_sync_state (
  mxid       TEXT PRIMARY KEY NOT NULL REFERENCES users (mxid) ON DELETE CASCADE,
  state      TEXT NOT NULL,          -- JSON, as the session wrote it
  updated_ts INTEGER NOT NULL
) STRICT;
INSERT INTO user_sync_state (mxid, state, updated_ts)
  SELECT mxid, contact_sync_state, updated_ts FROM users WHERE contact_sync_state IS NOT NULL;
ALTER TABLE users DROP COLUMN contact_sync_state;
`,
} satisfies Migration;
