// SPDX-License-Identifier: Apache-2.0
// History on a first link: rooms waiting for their user's invite are kept in the store (so a crash
// between the history and the invite still invites), per user, each once.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  deferInvite,
  invitePending,
  isHistory,
  pendingInvites,
} from "../../../../src/bridge/portal/history.js";
import { openStore } from "../../../../src/store/index.js";

void test("deferred invites are stored per user, once each, and survive a reopen", () => {
  const store = openStore({ path: ":memory:" });
  try {
    assert.deepEqual(pendingInvites(store, "@alice:x"), []);
    deferInvite(store, "@alice:x", "!a:x");
    deferInvite(store, "@alice:x", "!b:x");
    deferInvite(store, "@alice:x", "!a:x");
    deferInvite(store, "@bob:x", "!c:x");
    assert.deepEqual(pendingInvites(store, "@alice:x"), ["!a:x", "!b:x"]);
    assert.ok(invitePending(store, "@alice:x", "!b:x"));
    assert.ok(!invitePending(store, "@alice:x", "!c:x"));
    assert.deepEqual(pendingInvites(store, "@bob:x"), ["!c:x"]);
    // A damaged record is no list (nothing is invited twice, nothing throws).
    store.meta.set("history.pending_invites|@carol:x", "{not json");
    assert.deepEqual(pendingInvites(store, "@carol:x"), []);
  } finally {
    store.close();
  }
});

void test("only events read as a first link's history count as history", () => {
  assert.ok(isHistory({ source: "history" }));
  assert.ok(!isHistory({ source: "catchup" }));
  assert.ok(!isHistory({ source: "live" }));
  assert.ok(!isHistory(undefined));
});
