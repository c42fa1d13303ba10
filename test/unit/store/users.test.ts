// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { openStore, StoreErrorCode } from "../../../src/store/index.js";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ALICE, BOB_DM_ROOM, open, seedUserAndPortal, tempDir } from "./helpers.js";

void test("upsert creates a logged-out user, then patches: undefined keeps, null clears", (t) => {
  const store = open(t);
  const created = store.users.upsert(ALICE);
  assert.equal(created.loginState, "logged_out");
  assert.equal(created.hasRefreshToken, false);
  assert.equal(created.contactSyncState, null);

  const linked = store.users.upsert(ALICE, {
    managementRoomId: "!mgmt:x",
    accountEmail: "alice@hotmail.co.uk",
    skypeName: "live:alice_1",
    liveMri: "1:alice@hotmail.co.uk",
    skypeMri: "8:live:alice_1",
    epid: "3f2a",
    loginState: "connected",
    stateDetail: "ok",
    contactSyncState: { folders: { SKYPE: "3", WL: "2" }, cacheKey: "ck" },
  });
  assert.equal(linked.createdTs, created.createdTs);
  assert.ok(linked.updatedTs > created.updatedTs);
  const kept = store.users.upsert(ALICE, { loginState: "transient_disconnect", stateDetail: null });
  assert.deepEqual(
    [kept.managementRoomId, kept.epid, kept.loginState, kept.stateDetail],
    ["!mgmt:x", "3f2a", "transient_disconnect", null],
  );
  assert.deepEqual(kept.contactSyncState, { folders: { SKYPE: "3", WL: "2" }, cacheKey: "ck" });
  assert.equal(store.users.upsert(ALICE, { contactSyncState: null }).contactSyncState, null);

  assert.deepEqual(
    store.users.listByMri("8:live:alice_1").map((u) => u.mxid),
    [ALICE],
  );
  assert.deepEqual(
    store.users.listByMri("1:alice@hotmail.co.uk").map((u) => u.mxid),
    [ALICE],
  );
  assert.deepEqual(store.users.listByMri("8:nobody"), []);
  assert.equal(store.users.getByManagementRoom("!mgmt:x")?.mxid, ALICE);
  assert.equal(store.users.getByManagementRoom("!other:x"), undefined);
  store.users.upsert("@bob:x");
  assert.deepEqual(
    store.users.list().map((u) => u.mxid),
    [ALICE, "@bob:x"],
  );
  assert.throws(() => store.users.upsert(ALICE, { loginState: "" }), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.throws(() => store.users.upsert(ALICE, { contactSyncState: () => 1 }), {
    code: StoreErrorCode.InvalidArgument,
  });
});

void test("deleting a user removes everything keyed by them", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  store.messages.insert({
    receiver: ALICE,
    conversation: "8:live:bob_1",
    skypeMessageId: "1",
    roomId: BOB_DM_ROOM,
    eventId: "$e",
    direction: "to_matrix",
    sender: "8:live:bob_1",
    sentTs: 1,
  });
  store.cursors.advance(ALICE, "8:live:bob_1", "1");
  store.outbox.enqueue({
    receiver: ALICE,
    conversation: "8:live:bob_1",
    clientMessageId: "1",
    eventId: "$o",
    roomId: BOB_DM_ROOM,
    payload: {},
  });
  store.pendingRequests.upsert(ALICE, "8:carol");
  store.persons.ensure("8:live:bob_1");

  assert.equal(store.users.delete(ALICE), true);
  assert.equal(store.users.delete(ALICE), false);
  assert.equal(store.portals.getByRoom(BOB_DM_ROOM), undefined);
  assert.equal(store.messages.getByEventId("$e"), undefined);
  assert.equal(store.cursors.get(ALICE, "8:live:bob_1"), undefined);
  assert.deepEqual(store.outbox.list(), []);
  assert.deepEqual(store.pendingRequests.list(ALICE), []);
  assert.ok(store.persons.get("8:live:bob_1"), "persons are global and stay");
});

void test("contact requests are reported new once, then updated", (t) => {
  const store = open(t);
  store.users.upsert(ALICE);
  const first = store.pendingRequests.upsert(ALICE, "8:carol", {
    displayName: "Carol",
    message: "hi, add me",
  });
  assert.equal(first.inserted, true);
  assert.equal(first.row.status, "pending");
  const again = store.pendingRequests.upsert(ALICE, "8:carol", { displayName: "Carol C" });
  assert.equal(again.inserted, false);
  assert.deepEqual([again.row.displayName, again.row.message], ["Carol C", "hi, add me"]);

  store.pendingRequests.upsert(ALICE, "dave.lister", { message: "bare Skype name" });
  store.pendingRequests.update(ALICE, "8:carol", { status: "accepted", roomId: "!mgmt:x" });
  assert.deepEqual(
    store.pendingRequests.list(ALICE, "pending").map((r) => r.mri),
    ["dave.lister"],
  );
  assert.deepEqual(
    store.pendingRequests.list(ALICE).map((r) => r.status),
    ["accepted", "pending"],
  );
  assert.equal(store.pendingRequests.get(ALICE, "8:carol")?.roomId, "!mgmt:x");
  assert.throws(() => store.pendingRequests.update(ALICE, "8:carol", { status: "maybe" as never }), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.throws(() => store.pendingRequests.update(ALICE, "8:zed", {}), { code: StoreErrorCode.NotFound });
  assert.throws(() => store.pendingRequests.upsert("@nobody:x", "8:carol"), {
    code: StoreErrorCode.Constraint,
  });
  assert.equal(store.pendingRequests.delete(ALICE, "8:carol"), true);
  assert.equal(store.pendingRequests.get(ALICE, "8:carol"), undefined);
});

void test("meta holds free bookkeeping and protects the store's own keys", (t) => {
  const store = open(t);
  assert.equal(store.meta.get("bridge.last_start"), undefined);
  store.meta.set("bridge.last_start", "1");
  store.meta.set("bridge.last_start", "2");
  assert.equal(store.meta.get("bridge.last_start"), "2");
  assert.equal(store.meta.delete("bridge.last_start"), true);
  assert.equal(store.meta.delete("bridge.last_start"), false);
  assert.ok(store.meta.get("store.key_check")?.startsWith("v1:"));
  assert.throws(() => store.meta.delete("store.key_check"), { code: StoreErrorCode.InvalidArgument });
});

void test("the contact-sync state is read and parsed when asked for, not with every row (a corrupt one fails only then)", async (t) => {
  const path = join(tempDir(t), "users.db");
  const store = open(t, { path });
  store.users.upsert(ALICE, { contactSyncState: { folders: { SKYPE: "3" } } });
  const { default: Database } = await import("better-sqlite3");
  const raw = new Database(path);
  raw.prepare("UPDATE user_sync_state SET state = '{not json' WHERE mxid = ?").run(ALICE);
  raw.close();
  const row = store.users.get(ALICE);
  assert.equal(row?.loginState, "logged_out", "the rest of the row reads");
  assert.equal(store.users.upsert(ALICE, { loginState: "connected" }).loginState, "connected");
  assert.throws(() => row.contactSyncState, { code: StoreErrorCode.Corrupt });
  const fixed = store.users.upsert(ALICE, { contactSyncState: { folders: {} } });
  assert.deepEqual(fixed.contactSyncState, { folders: {} });
  assert.deepEqual({ ...fixed }.contactSyncState, { folders: {} }, "a copy carries the value");
});

void test("update patches an existing user only: false and nothing created for an unknown one", (t) => {
  const store = open(t);
  assert.equal(store.users.update(ALICE, { loginState: "connected" }), false);
  assert.equal(store.users.get(ALICE), undefined, "update never creates a user");
  store.users.upsert(ALICE, { epid: "3f2a", contactSyncState: { cacheKey: "ck" } });
  assert.equal(store.users.update(ALICE, { loginState: "transient_disconnect", stateDetail: "x" }), true);
  const row = store.users.get(ALICE)!;
  assert.deepEqual([row.loginState, row.stateDetail, row.epid], ["transient_disconnect", "x", "3f2a"]);
  assert.deepEqual(row.contactSyncState, { cacheKey: "ck" }, "fields not in the patch are kept");
  assert.equal(store.users.update(ALICE, { contactSyncState: null }), true);
  assert.equal(store.users.get(ALICE)!.contactSyncState, null);
  assert.equal(store.users.update(ALICE, { contactSyncState: { cacheKey: "ck2" } }), true, "set again alone");
  assert.deepEqual(store.users.get(ALICE)!.contactSyncState, { cacheKey: "ck2" });
  assert.equal(
    store.users.update("@bob:x", { contactSyncState: { cacheKey: "x" } }),
    false,
    "no state without a user",
  );
  assert.throws(() => store.users.update(ALICE, { contactSyncState: 1n }), {
    code: StoreErrorCode.InvalidArgument,
  });
});

test("finding a user by management room uses an index, not a scan of every user (asked for every Matrix message)", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = open(t, { path });
  store.users.upsert(ALICE, { managementRoomId: "!mgmt:x" });
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  // The query of SqliteUsersRepo.getByManagementRoom.
  const plan = db
    .prepare(
      "EXPLAIN QUERY PLAN SELECT * FROM users WHERE management_room_id = ? ORDER BY created_ts, mxid LIMIT 1",
    )
    .all("!mgmt:x") as { detail: string }[];
  assert.ok(
    plan.some((row) => /USING INDEX users_management_room/.test(row.detail)),
    JSON.stringify(plan),
  );
  assert.equal(store.users.getByManagementRoom("!mgmt:x")?.mxid, ALICE);
});

void test("the contact-sync state lives apart from the users rows and goes with its user", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = open(t, { path });
  store.users.upsert(ALICE, { contactSyncState: { folders: { WL: "5" } } });
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  const count = (): number =>
    (db.prepare("SELECT count(*) AS n FROM user_sync_state").get() as { n: number }).n;
  assert.equal(count(), 1);
  const columns = db.prepare("SELECT name FROM pragma_table_info('users')").pluck().all();
  assert.ok(!columns.includes("contact_sync_state"), "users rows stay small");
  assert.equal(store.users.delete(ALICE), true);
  assert.equal(count(), 0, "deleted with the user");
});

void test("a contact-sync state that cannot be read fails as a StoreError (it is read after the row)", (t) => {
  const store = openStore({ path: join(tempDir(t), "bridge.db") });
  store.users.upsert(ALICE, { contactSyncState: { folders: {} } });
  const row = store.users.get(ALICE)!;
  store.close();
  assert.throws(() => row.contactSyncState, { code: StoreErrorCode.Closed });
});
