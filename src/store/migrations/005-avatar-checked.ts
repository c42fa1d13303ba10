// SPDX-License-Identifier: Apache-2.0
// v5: when each person's avatar was last asked for. Never edit once shipped; add 006-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * - persons.avatar_checked_ts: when the bridge last asked Skype for the person's avatar (ms). A
 *   routine contacts re-read (every connect) skips persons asked recently, so a restart of many
 *   accounts does not ask for every contact's avatar again; an address-book change still does.
 */
export default {
  version: 5,
  description: "persons.avatar_checked_ts (avatars are not asked for again at every connect)",
  sql: `
ALTER TABLE persons ADD COLUMN avatar_checked_ts INTEGER;
`,
} satisfies Migration;
