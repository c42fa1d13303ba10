// SPDX-License-Identifier: Apache-2.0
/** Shared fixtures for the store tests (not a test file itself). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { openStore, type OpenStoreOptions, type SqliteStore } from "../../../src/store/index.js";

export const KEY_A = "0123456789abcdef".repeat(4);
export const KEY_B = "fedcba9876543210".repeat(4);
export const ALICE = "@alice:example.org";
export const BOB_DM_ROOM = "!bobdm:example.org";

/** A temporary directory removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "store-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock that moves one millisecond per reading, starting at `start`. */
export function steppingClock(start = 1_700_000_000_000): () => number {
  let now = start;
  return () => now++;
}

/** Opens a store closed after the test (in memory unless a path is given). */
export function open(t: TestContext, options: Partial<OpenStoreOptions> = {}): SqliteStore {
  const store = openStore({ path: ":memory:", key: KEY_A, now: steppingClock(), ...options });
  t.after(() => store.close());
  return store;
}

/** A linked user with one DM portal (to person 8:live:bob_1). */
export function seedUserAndPortal(store: SqliteStore): void {
  store.users.upsert(ALICE, { liveMri: "1:alice@hotmail.co.uk", skypeMri: "8:live:alice_1" });
  store.portals.create({ roomId: BOB_DM_ROOM, receiver: ALICE, conversation: "8:live:bob_1", kind: "dm" });
}
