// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openDatabase, type Db, APPLICATION_ID } from "../../../src/store/db.js";
import {
  NewerSchemaError,
  openStore,
  StoreError,
  StoreErrorCode,
  type SqliteStore,
} from "../../../src/store/index.js";
import { latestVersion, migrate, schemaVersion, type Migration } from "../../../src/store/migrate.js";
import { MIGRATIONS } from "../../../src/store/migrations/index.js";
import { ALICE, KEY_A, tempDir } from "./helpers.js";

const TABLES = [
  "cursors",
  "identities",
  "inbox",
  "messages",
  "meta",
  "outbox",
  "pending_requests",
  "persons",
  "portals",
  "puppets",
  "user_sync_state",
  "users",
];

/**
 * Sample data written with the schema of version k (plain SQL, as that version's code would have),
 * and what must be readable through the current Store after upgrading. Adding migration N means
 * adding SAMPLES[N]; the test below fails until it exists.
 */
const SAMPLES: Record<number, { insert(db: Db): void; check(store: SqliteStore): void }> = {
  1: {
    insert(db) {
      insertV1Rows(db);
      db.exec(`
        INSERT INTO as_txns (txn_id, processed_ts) VALUES ('txn-1', 5);
      `);
    },
    check(store) {
      checkV1Rows(store);
    },
  },
  2: {
    insert(db) {
      SAMPLES[1]!.insert(db);
      insertV2Rows(db);
    },
    check(store) {
      SAMPLES[1]!.check(store);
      checkV2Rows(store);
    },
  },
  // v3 only dropped as_txns (checked against TABLES below); the other data is written as before.
  3: {
    insert(db) {
      insertV1Rows(db);
      insertV2Rows(db);
    },
    check(store) {
      checkV1Rows(store);
      checkV2Rows(store);
    },
  }, // v4 added two nullable columns (users.matrix_token_enc, persons.avatar_etag): the data stays.
  4: {
    insert(db) {
      SAMPLES[3]!.insert(db);
      db.exec(
        `UPDATE persons SET avatar_url = 'mxc://x/bob', avatar_etag = '"e1"' WHERE id = '8:live:bob_1';`,
      );
    },
    check(store) {
      SAMPLES[3]!.check(store);
      const bob = store.persons.get("8:live:bob_1");
      assert.equal(bob?.avatarUrl, "mxc://x/bob");
      assert.equal(bob?.avatarEtag, '"e1"');
    },
  },
  5: {
    insert(db) {
      SAMPLES[4]!.insert(db);
      db.exec(`UPDATE persons SET avatar_checked_ts = 1234 WHERE id = '8:live:bob_1';`);
    },
    check(store) {
      SAMPLES[4]!.check(store);
      assert.equal(store.persons.get("8:live:bob_1")?.avatarCheckedTs, 1234);
    },
  },
  // v6 only added an index (users_management_room): the data stays, and is found through it.
  6: {
    insert(db) {
      SAMPLES[5]!.insert(db);
    },
    check(store) {
      SAMPLES[5]!.check(store);
      assert.equal(store.users.getByManagementRoom("!mgmt:x")?.mxid, ALICE);
    },
  },
  // v7 moved users.contact_sync_state into user_sync_state (insertV1Rows writes it where the
  // version keeps it); the earlier samples check that the move kept it.
  7: {
    insert(db) {
      SAMPLES[6]!.insert(db);
    },
    check(store) {
      SAMPLES[6]!.check(store);
    },
  },
};

/** Rows in the tables v1 created and later versions kept. */
function insertV1Rows(db: Db): void {
  // Up to v6 the contact-sync state was a column of users; v7 gave it a table.
  const inUsers = db
    .prepare("SELECT 1 FROM pragma_table_info('users') WHERE name = 'contact_sync_state'")
    .get();
  db.exec(
    inUsers
      ? `INSERT INTO users (mxid, management_room_id, live_mri, skype_mri, epid, login_state, contact_sync_state, created_ts, updated_ts)
           VALUES ('${ALICE}', '!mgmt:x', '1:alice@hotmail.co.uk', '8:live:alice_1', 'e-1', 'connected', '{"syncKey":"7"}', 1, 2);`
      : `INSERT INTO users (mxid, management_room_id, live_mri, skype_mri, epid, login_state, created_ts, updated_ts)
           VALUES ('${ALICE}', '!mgmt:x', '1:alice@hotmail.co.uk', '8:live:alice_1', 'e-1', 'connected', 1, 2);
         INSERT INTO user_sync_state (mxid, state, updated_ts) VALUES ('${ALICE}', '{"syncKey":"7"}', 2);`,
  );
  db.exec(`
    INSERT INTO meta (key, value) VALUES ('bridge.note', 'kept');
    INSERT INTO persons (id, display_name, created_ts, updated_ts) VALUES ('8:live:bob_1', 'Bob', 1, 1);
    INSERT INTO identities (identity, person_id, created_ts) VALUES ('8:live:bob_1', '8:live:bob_1', 1),
      ('1:bob@hotmail.com', '8:live:bob_1', 1);
    INSERT INTO puppets (person_id, mxid, created_ts, updated_ts) VALUES ('8:live:bob_1', '@skype_bob:x', 1, 1);
    INSERT INTO portals (room_id, receiver, conversation, kind, created_ts, updated_ts)
      VALUES ('!dm:x', '${ALICE}', '8:live:bob_1', 'dm', 1, 1);
    INSERT INTO messages (receiver, conversation, skype_message_id, client_message_id, room_id, event_id, direction, sender, sent_ts, created_ts)
      VALUES ('${ALICE}', '8:live:bob_1', '1431882693260', '9007199254740993123', '!dm:x', '$ev1', 'to_matrix', '8:live:bob_1', 3, 3);
    INSERT INTO cursors (receiver, conversation, last_message_id, updated_ts) VALUES ('${ALICE}', '8:live:bob_1', '1431882693260', 3);
    INSERT INTO outbox (receiver, conversation, client_message_id, event_id, room_id, payload, created_ts)
      VALUES ('${ALICE}', '8:live:bob_1', '42', '$ev2', '!dm:x', '{"text":"hi"}', 4);
    INSERT INTO pending_requests (receiver, mri, display_name, message, created_ts, updated_ts)
      VALUES ('${ALICE}', '8:carol', 'Carol', 'add me', 6, 6);
  `);
}

function checkV1Rows(store: SqliteStore): void {
  assert.equal(store.meta.get("bridge.note"), "kept");
  const user = store.users.get(ALICE);
  assert.equal(user?.loginState, "connected");
  assert.equal(user?.epid, "e-1");
  assert.deepEqual(user?.contactSyncState, { syncKey: "7" });
  assert.equal(store.persons.getByIdentity("1:bob@hotmail.com")?.id, "8:live:bob_1");
  assert.equal(store.puppets.get("8:live:bob_1")?.mxid, "@skype_bob:x");
  assert.equal(store.portals.get(ALICE, "8:live:bob_1")?.roomId, "!dm:x");
  const msg = store.messages.getBySkypeId(ALICE, "8:live:bob_1", "1431882693260");
  assert.equal(msg?.eventId, "$ev1");
  assert.equal(msg?.clientMessageId, "9007199254740993123");
  assert.equal(store.cursors.get(ALICE, "8:live:bob_1"), "1431882693260");
  assert.deepEqual(store.outbox.list(ALICE)[0]?.payload, { text: "hi" });
  assert.equal(store.pendingRequests.get(ALICE, "8:carol")?.message, "add me");
}

/** Rows in the table v2 added. */
function insertV2Rows(db: Db): void {
  db.exec(`
    INSERT INTO inbox (event_id, txn_id, room_id, event, received_ts, done_ts)
      VALUES ('$in1', 'txn-2', '!dm:x', '{"event_id":"$in1","type":"m.room.message"}', 7, NULL),
             ('$in2', 'txn-2', '!dm:x', 'null', 7, 8);
  `);
}

function checkV2Rows(store: SqliteStore): void {
  assert.deepEqual(
    store.inbox.pending().map((r) => [r.eventId, r.txnId, r.event]),
    [["$in1", "txn-2", { event_id: "$in1", type: "m.room.message" }]],
  );
  assert.equal(store.inbox.get("$in2")?.doneTs, 8);
}

/** The tables and indexes of a database file, sorted by name. */
function schemaObjects(db: Db, type: "table" | "index"): string[] {
  return db
    .prepare("SELECT name FROM sqlite_schema WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all(type) as string[];
}

void test("fresh install reaches the latest version with every table", (t) => {
  const db = openDatabase({ path: ":memory:" });
  t.after(() => db.close());
  const result = migrate(db);
  assert.deepEqual(result, { from: 0, to: latestVersion(), applied: MIGRATIONS.map((m) => m.version) });
  assert.equal(schemaVersion(db), latestVersion());
  assert.equal(db.pragma("application_id", { simple: true }), APPLICATION_ID);
  assert.deepEqual(schemaObjects(db, "table"), TABLES);
  assert.deepEqual(migrate(db), { from: latestVersion(), to: latestVersion(), applied: [] });
  assert.deepEqual(db.pragma("foreign_key_check"), []);
});

void test("every migration is well formed and has upgrade sample data", () => {
  MIGRATIONS.forEach((m, i) => {
    assert.equal(m.version, i + 1);
    assert.ok(m.description.length > 0 && m.sql.trim().length > 0);
    assert.ok(SAMPLES[m.version], `add SAMPLES[${m.version}] to this test`);
  });
});

void test("upgrade from every earlier version keeps the data", (t) => {
  const dir = tempDir(t);
  for (const { version } of MIGRATIONS) {
    const path = join(dir, `v${version}.db`);
    const db = openDatabase({ path });
    migrate(db, { target: version });
    assert.equal(schemaVersion(db), version);
    SAMPLES[version]!.insert(db);
    db.close();

    const store = openStore({ path, key: KEY_A });
    try {
      assert.equal(store.migration.from, version);
      assert.equal(store.migration.to, latestVersion());
      SAMPLES[version]!.check(store);
    } finally {
      store.close();
    }
    // Whatever version it started at, the file now has exactly the tables of a fresh install.
    const after = openDatabase({ path });
    try {
      assert.deepEqual(schemaObjects(after, "table"), TABLES);
    } finally {
      after.close();
    }
  }
});

void test("v3 drops as_txns and its index; a v2 database with rows in it upgrades cleanly", (t) => {
  const path = join(tempDir(t), "v2.db");
  const db = openDatabase({ path });
  migrate(db, { target: 2 });
  SAMPLES[2]!.insert(db);
  db.exec("INSERT INTO as_txns (txn_id, processed_ts) VALUES ('txn-old', 1), ('txn-new', 9)");
  assert.ok(schemaObjects(db, "table").includes("as_txns"));
  assert.ok(schemaObjects(db, "index").includes("as_txns_processed"));
  db.close();

  const store = openStore({ path, key: KEY_A });
  try {
    assert.deepEqual(store.migration, { from: 2, to: latestVersion(), applied: [3, 4, 5, 6, 7] });
    SAMPLES[2]!.check(store);
  } finally {
    store.close();
  }

  const after = openDatabase({ path });
  t.after(() => after.close());
  assert.equal(schemaVersion(after), latestVersion());
  assert.ok(!schemaObjects(after, "table").includes("as_txns"));
  assert.ok(!schemaObjects(after, "index").includes("as_txns_processed"));
  assert.deepEqual(after.pragma("integrity_check", { simple: true }), "ok");
  assert.deepEqual(after.pragma("foreign_key_check"), []);
  // Opening again is a no-op: nothing left to apply.
  assert.deepEqual(migrate(after), { from: latestVersion(), to: latestVersion(), applied: [] });
});

void test("a database newer than the code is refused untouched, with both versions", (t) => {
  const path = join(tempDir(t), "newer.db");
  const db = openDatabase({ path });
  const future = latestVersion() + 3;
  db.pragma(`user_version = ${future}`);
  db.close();

  assert.throws(
    () => openStore({ path, key: KEY_A }),
    (err: unknown) => {
      assert.ok(err instanceof NewerSchemaError);
      assert.equal(err.code, StoreErrorCode.NewerSchema);
      assert.equal(err.dbVersion, future);
      assert.equal(err.codeVersion, latestVersion());
      assert.match(err.message, new RegExp(`version ${future}.*up to ${latestVersion()}`));
      return true;
    },
  );
  const again = openDatabase({ path });
  t.after(() => again.close());
  assert.equal(schemaVersion(again), future);
  assert.equal(again.prepare("SELECT count(*) FROM sqlite_schema").pluck().get(), 0);
});

void test("another program's database is refused", (t) => {
  const path = join(tempDir(t), "other.db");
  const db = openDatabase({ path });
  db.exec("CREATE TABLE events (id INTEGER)");
  db.close();
  assert.throws(() => openStore({ path }), { code: StoreErrorCode.ForeignDatabase });

  const path2 = join(tempDir(t), "other-app.db");
  const db2 = openDatabase({ path: path2 });
  db2.pragma("application_id = 1234");
  db2.close();
  assert.throws(() => openStore({ path: path2 }), { code: StoreErrorCode.ForeignDatabase });
});

void test("a failing migration is rolled back and leaves the previous version", (t) => {
  const db = openDatabase({ path: ":memory:" });
  t.after(() => db.close());
  const broken: Migration = {
    version: MIGRATIONS.length + 1,
    description: "broken step",
    sql: "CREATE TABLE half_done (a INTEGER); INSERT INTO no_such_table VALUES (1);",
  };
  assert.throws(
    () => migrate(db, { migrations: [...MIGRATIONS, broken] }),
    (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, StoreErrorCode.Migration);
      assert.match(err.message, /broken step.*stays at version/);
      return true;
    },
  );
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'").pluck().get(), 0);
});

void test("a malformed migration list or target is refused", (t) => {
  const db = openDatabase({ path: ":memory:" });
  t.after(() => db.close());
  const gap: Migration[] = [{ version: 2, description: "x", sql: "SELECT 1" }];
  assert.throws(() => migrate(db, { migrations: gap }), { code: StoreErrorCode.Migration });
  assert.throws(() => migrate(db, { target: latestVersion() + 1 }), { code: StoreErrorCode.InvalidArgument });
  migrate(db);
  assert.throws(() => migrate(db, { target: 0 }), { code: StoreErrorCode.InvalidArgument });
});

void test("a file that is not a database is reported as corrupt", (t) => {
  const path = join(tempDir(t), "garbage.db");
  writeFileSync(
    path,
    "this is not a database, just text that is long enough to fill a header page ".repeat(20),
  );
  assert.throws(
    () => openStore({ path }),
    (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, StoreErrorCode.Corrupt);
      return true;
    },
  );
});
