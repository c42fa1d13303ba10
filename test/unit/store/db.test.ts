// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { DURABILITY_INTERVAL_MS, openDatabase } from "../../../src/store/db.js";
import { openStore, StoreError, StoreErrorCode } from "../../../src/store/index.js";
import { ALICE, KEY_A, open, tempDir } from "./helpers.js";

void test("a file database runs in WAL mode with foreign keys, busy timeout and normal sync", (t) => {
  const path = join(tempDir(t), "sub", "dir", "bridge.db");
  const store = openStore({ path, key: KEY_A, busyTimeoutMs: 1234 });
  t.after(() => store.close());
  assert.equal(store.journalMode, "wal");
  assert.equal(store.path, path);

  const db = openDatabase({ path, busyTimeoutMs: 1234 });
  t.after(() => db.close());
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
  assert.equal(db.pragma("busy_timeout", { simple: true }), 1234);
  // NORMAL: fsynced by the checkpoint timer, not per commit (db.ts, BENCHMARKS.md).
  assert.equal(db.pragma("synchronous", { simple: true }), 1);
  if (process.platform !== "win32") assert.equal(statSync(path).mode & 0o777, 0o600);
});

void test("the page cache is 4 MiB unless told otherwise (better-sqlite3's own default is 16 MiB)", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A, cacheMiB: 32 });
  t.after(() => store.close());
  const fallback = openDatabase({ path });
  t.after(() => fallback.close());
  // Negative: KiB.
  assert.equal(fallback.pragma("cache_size", { simple: true }), -4 * 1024);
  const chosen = openDatabase({ path, cacheMiB: 32 });
  t.after(() => chosen.close());
  assert.equal(chosen.pragma("cache_size", { simple: true }), -32 * 1024);
  for (const cacheMiB of [0, -1, 1.5, 5000, Number.NaN]) {
    assert.throws(() => openDatabase({ path: ":memory:", cacheMiB }), {
      code: StoreErrorCode.InvalidArgument,
      message: /cacheMiB/,
    });
  }
});

void test("a commit reaches the database file (synced) within the durability interval", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "bridge.db");
  const store = openStore({ path, key: KEY_A });
  t.after(() => store.close());
  const interval = (): Promise<void> => new Promise((r) => setTimeout(r, DURABILITY_INTERVAL_MS + 500));
  await interval(); // the schema, written at open, is synced by now
  store.users.upsert(ALICE);
  /** Users in the main file alone, as after a power loss that took the unsynced WAL with it. */
  const usersInMainFile = (name: string): number => {
    const copy = join(dir, name);
    copyFileSync(path, copy);
    const db = new Database(copy);
    try {
      return (db.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  assert.equal(usersInMainFile("before.db"), 0, "only in the WAL right after the commit");
  await interval();
  assert.equal(usersInMainFile("after.db"), 1, "checkpointed by the timer");
});

void test("foreign keys are enforced: no portal for an unknown user, deletes cascade", (t) => {
  const store = open(t);
  assert.throws(
    () => store.portals.create({ roomId: "!r:x", receiver: "@ghost:x", conversation: "8:bob", kind: "dm" }),
    { code: StoreErrorCode.Constraint },
  );
  store.users.upsert(ALICE);
  store.portals.create({ roomId: "!r:x", receiver: ALICE, conversation: "8:bob", kind: "dm" });
  assert.equal(store.users.delete(ALICE), true);
  assert.equal(store.portals.getByRoom("!r:x"), undefined);
});

void test("a write blocked past the busy timeout is STORE_BUSY and retryable", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A, busyTimeoutMs: 0 });
  t.after(() => store.close());
  const other = new Database(path);
  t.after(() => other.close());
  other.exec("BEGIN IMMEDIATE");
  assert.throws(
    () => store.users.upsert(ALICE),
    (err: unknown) => err instanceof StoreError && err.code === StoreErrorCode.Busy && err.retryable,
  );
  other.exec("ROLLBACK");
  assert.equal(store.users.upsert(ALICE).mxid, ALICE);
});

void test("transactions commit together or not at all, and must be synchronous", (t) => {
  const store = open(t);
  assert.throws(
    () =>
      store.transaction(() => {
        store.users.upsert(ALICE);
        store.meta.set("k", "v");
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(store.users.get(ALICE), undefined);
  assert.equal(store.meta.get("k"), undefined);

  assert.throws(() => store.transaction(() => Promise.resolve(store.users.upsert(ALICE))), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.equal(store.users.get(ALICE), undefined);

  const n = store.transaction(() => {
    store.users.upsert(ALICE);
    return store.transaction(() => (store.meta.set("k", "v"), 7));
  });
  assert.equal(n, 7);
  assert.equal(store.meta.get("k"), "v");
});

void test("calls after close() fail with STORE_CLOSED; close is idempotent", (t) => {
  const store = open(t);
  store.close();
  store.close();
  assert.throws(() => store.users.get(ALICE), { code: StoreErrorCode.Closed });
});

void test("bad arguments give typed errors", (t) => {
  const store = open(t);
  assert.throws(() => store.users.upsert(""), { code: StoreErrorCode.InvalidArgument });
  assert.throws(() => store.meta.set("store.key_check", "x"), { code: StoreErrorCode.InvalidArgument });
  const untyped = store.messages as unknown as { getBySkypeId(...a: unknown[]): unknown };
  assert.throws(() => untyped.getBySkypeId(ALICE, "8:bob", { not: "bindable" }), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.throws(() => openDatabase({ path: ":memory:", busyTimeoutMs: -1 }), {
    code: StoreErrorCode.InvalidArgument,
  });
  const file = join(tempDir(t), "afile");
  openStore({ path: file }).close();
  assert.throws(() => openStore({ path: join(file, "nested.db") }), { code: StoreErrorCode.Io });
});
