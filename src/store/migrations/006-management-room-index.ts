// SPDX-License-Identifier: Apache-2.0
// v6: an index for finding a user by management room. Never edit once shipped; add 007-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * - users_management_room: every Matrix message the bridge gets asks whether its room is someone's
 *   management room (a command?). Without an index that was a scan of the whole users table, whose
 *   rows carry each account's contact-sync state: at 10,000 linked accounts, ~5–10 ms a message and
 *   22 s of the bridge's event loop in a 30 s window with 500 accounts chatting (BENCHMARKS.md, P3).
 */
export default {
  version: 6,
  description: "users_management_room index (finding a management room no longer scans every user)",
  sql: `
CREATE INDEX users_management_room ON users (management_room_id) WHERE management_room_id IS NOT NULL;
`,
} satisfies Migration;
