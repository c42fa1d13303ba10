// SPDX-License-Identifier: Apache-2.0
/** Inbox events and outbox payloads are ciphertext on disk; freed pages are zeroed. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../../src/store/index.js";
import { ALICE, BOB_DM_ROOM, KEY_A, seedUserAndPortal, tempDir } from "./helpers.js";

const PASSWORD = "correct-horse-battery-staple";

void test("an inbox event (a typed password, say) is stored encrypted and read back whole", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  const event = { type: "m.room.message", content: { msgtype: "m.text", body: PASSWORD } };
  const [row] = store.inbox.accept("t1", [{ eventId: "$pw", roomId: "!r", event }]);
  assert.deepEqual(row?.event, event);
  assert.deepEqual(store.inbox.pending()[0]?.event, event);
  store.close();
  const raw = new Database(path, { readonly: true });
  const stored = raw.prepare("SELECT event FROM inbox WHERE event_id = '$pw'").pluck().get() as string;
  assert.equal(raw.pragma("secure_delete", { simple: true }), 0, "a fresh connection has the default");
  raw.close();
  assert.match(stored, /^v1:/);
  assert.ok(!stored.includes(PASSWORD));
  for (const file of [path, `${path}-wal`]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    assert.ok(!bytes.includes(PASSWORD), `${file} holds the password in clear`);
  }
});

void test("the store zeroes freed pages, and inbox rows written in clear by an older version still read", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  store.close();
  const raw = new Database(path);
  raw
    .prepare("INSERT INTO inbox (event_id, txn_id, room_id, event, received_ts) VALUES (?, ?, ?, ?, ?)")
    .run("$old", "t0", "!r", JSON.stringify({ type: "m.room.message", content: { body: "hi" } }), 1);
  raw.close();
  const again = openStore({ path, key: KEY_A });
  t.after(() => again.close());
  assert.deepEqual(again.inbox.get("$old")?.event, { type: "m.room.message", content: { body: "hi" } });
  const db = (again as unknown as { db: Database.Database }).db;
  assert.equal(db.pragma("secure_delete", { simple: true }), 1);
});

void test("an outbox payload (a message, a file's key) is stored encrypted; clear rows of an older version read", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  seedUserAndPortal(store);
  const payload = { kind: "media", file: { key: { k: "SECRET_FILE_KEY_abc123" } }, body: PASSWORD };
  const entry = {
    receiver: ALICE,
    conversation: "8:live:bob_1",
    clientMessageId: "1001",
    eventId: "$out",
    roomId: BOB_DM_ROOM,
    payload,
  };
  assert.deepEqual(store.outbox.enqueue(entry).row.payload, payload);
  assert.deepEqual(store.outbox.getByEventId("$out")?.payload, payload);
  store.close();
  const raw = new Database(path);
  const stored = raw.prepare("SELECT payload FROM outbox WHERE event_id = '$out'").pluck().get() as string;
  assert.match(stored, /^v1:/);
  assert.ok(!stored.includes(PASSWORD) && !stored.includes("SECRET_FILE_KEY"));
  raw
    .prepare(
      "INSERT INTO outbox (receiver, conversation, client_message_id, event_id, room_id, payload, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .run(ALICE, "8:live:bob_1", "1000", "$old", BOB_DM_ROOM, JSON.stringify({ kind: "text", body: "hi" }), 1);
  raw.close();
  const again = openStore({ path, key: KEY_A });
  t.after(() => again.close());
  assert.deepEqual(again.outbox.getByEventId("$old")?.payload, { kind: "text", body: "hi" });
  assert.deepEqual(
    again.outbox.list(ALICE).map((r) => r.eventId),
    ["$out", "$old"],
  );
});
