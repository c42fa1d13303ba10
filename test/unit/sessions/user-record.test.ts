// SPDX-License-Identifier: Apache-2.0
/**
 * The session's writes to its user row: the contact-sync bookkeeping is written only when it
 * changed (each contact refresh persisted it twice, every time, with the contact list in it).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import type { PersistedSyncState } from "../../../src/sessions/setup.js";
import { UserRecord } from "../../../src/sessions/user-record.js";
import { openStore } from "../../../src/store/index.js";
import { Logger } from "../../../src/util/logger.js";

const ALICE = "@alice:example.org";

function state(syncKey: string): PersistedSyncState {
  return {
    version: 1,
    activeSync: {
      version: 1,
      deviceId: "Skype-0123456789",
      folderSyncKey: "1",
      folders: {
        "1": {
          sid: "SKYPE",
          syncKey,
          items: { a: { identities: ["8:live:bob_1"], displayName: "Bob" } },
        },
      },
    },
    addressBook: { cacheKeys: {}, preferredHosts: {} },
  };
}

test("saveSyncState writes a changed state only; a new record knows what the row holds", (t) => {
  const store = openStore({ path: ":memory:" });
  t.after(() => store.close());
  store.users.upsert(ALICE);
  const writes: unknown[] = [];
  const update = store.users.update.bind(store.users);
  store.users.update = (mxid, patch) => {
    if (patch?.contactSyncState !== undefined) writes.push(patch.contactSyncState);
    return update(mxid, patch);
  };
  const log = new Logger("test");
  const record = new UserRecord(store, ALICE, log);
  record.saveSyncState(state("5"));
  record.saveSyncState(state("5"));
  assert.equal(writes.length, 1);
  record.saveSyncState(state("6"));
  assert.equal(writes.length, 2);
  assert.deepEqual(store.users.get(ALICE)?.contactSyncState, state("6"));

  // After a restart: what was read back is not written again, a change is.
  const again = new UserRecord(store, ALICE, log);
  assert.deepEqual(again.syncState(), state("6"));
  again.saveSyncState(state("6"));
  assert.equal(writes.length, 2);
  again.saveSyncState(state("7"));
  assert.equal(writes.length, 3);

  // A deleted user is not re-created, and a later save after re-linking still writes.
  store.users.delete(ALICE);
  again.saveSyncState(state("8"));
  assert.equal(store.users.get(ALICE), undefined);
  store.users.upsert(ALICE);
  again.saveSyncState(state("8"));
  assert.deepEqual(store.users.get(ALICE)?.contactSyncState, state("8"));
});

test("a saved contact-sync state that cannot be read means a full sync, not a session that fails to start", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "user-record-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "bridge.db");
  const store = openStore({ path });
  t.after(() => store.close());
  store.users.upsert(ALICE, { contactSyncState: state("5") });
  const raw = new Database(path);
  raw.prepare("UPDATE user_sync_state SET state = '{not json' WHERE mxid = ?").run(ALICE);
  raw.close();
  const record = new UserRecord(store, ALICE, new Logger("test"));
  const fresh = record.syncState();
  assert.equal(fresh.activeSync, undefined, "nothing saved is used");
  // The full sync's result is written again.
  record.saveSyncState(state("6"));
  assert.deepEqual(store.users.get(ALICE)?.contactSyncState, state("6"));
});
