// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openStore, StoreErrorCode, type NewOutboxEntry } from "../../../src/store/index.js";
import { ALICE, BOB_DM_ROOM, KEY_A, open, seedUserAndPortal, tempDir } from "./helpers.js";

const entry: NewOutboxEntry = {
  receiver: ALICE,
  conversation: "8:live:bob_1",
  clientMessageId: "4242",
  eventId: "$send1",
  roomId: BOB_DM_ROOM,
  payload: { kind: "text", body: "héllo" },
};

void test("enqueue is idempotent per event; a reused Client-Message-ID is refused", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const a = store.outbox.enqueue(entry);
  assert.equal(a.inserted, true);
  assert.deepEqual(a.row.payload, entry.payload);
  assert.equal(a.row.attempts, 0);
  const b = store.outbox.enqueue({ ...entry, payload: { other: true } });
  assert.equal(b.inserted, false);
  assert.deepEqual(b.row, a.row);
  assert.throws(() => store.outbox.enqueue({ ...entry, eventId: "$send2" }), {
    code: StoreErrorCode.Constraint,
  });
  assert.throws(() => store.outbox.enqueue({ ...entry, eventId: "$x", clientMessageId: "1", payload: 1n }), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.throws(
    () => store.outbox.enqueue({ ...entry, eventId: "$x", clientMessageId: "1", payload: undefined }),
    {
      code: StoreErrorCode.InvalidArgument,
    },
  );
  assert.throws(
    () => store.outbox.enqueue({ ...entry, roomId: "!nope:x", eventId: "$y", clientMessageId: "2" }),
    {
      code: StoreErrorCode.Constraint,
    },
  );
});

void test("attempts are counted and completion maps the message in the same transaction", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const { row } = store.outbox.enqueue(entry);
  const tried = store.outbox.recordAttempt(row.id, "not connected");
  assert.deepEqual([tried.attempts, tried.lastError], [1, "not connected"]);
  assert.ok(tried.lastAttemptTs !== null);
  assert.equal(store.outbox.recordAttempt(row.id).lastError, null);
  assert.throws(() => store.outbox.recordAttempt(999), { code: StoreErrorCode.NotFound });

  const message = {
    receiver: ALICE,
    conversation: entry.conversation,
    clientMessageId: entry.clientMessageId,
    roomId: BOB_DM_ROOM,
    eventId: entry.eventId,
    direction: "to_skype" as const,
    sender: ALICE,
    sentTs: 1,
  };
  // A failing map insert (unknown room) rolls the completion back: the send stays queued.
  assert.throws(() => store.outbox.complete(row.id, { ...message, roomId: "!gone:x" }), {
    code: StoreErrorCode.Constraint,
  });
  assert.equal(store.outbox.get(row.id)?.attempts, 2);

  assert.equal(store.outbox.complete(row.id, message), true);
  assert.equal(store.outbox.get(row.id), undefined);
  assert.equal(store.messages.getByEventId(entry.eventId)?.clientMessageId, "4242");
  assert.equal(store.outbox.complete(row.id, message), false);
});

void test("the outbox survives closing and reopening the file", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  seedUserAndPortal(store);
  store.outbox.enqueue(entry);
  store.outbox.enqueue({ ...entry, eventId: "$send2", clientMessageId: "4243" });
  store.outbox.recordAttempt(1, "timeout");
  store.close();

  const again = openStore({ path, key: KEY_A });
  t.after(() => again.close());
  const rows = again.outbox.list(ALICE);
  assert.deepEqual(
    rows.map((r) => [r.eventId, r.attempts, r.lastError]),
    [
      ["$send1", 1, "timeout"],
      ["$send2", 0, null],
    ],
  );
  assert.deepEqual(rows[0]?.payload, entry.payload);
  assert.equal(again.outbox.getByEventId("$send2")?.clientMessageId, "4243");
  assert.deepEqual(again.outbox.list(), rows);
  assert.deepEqual(again.outbox.list("@other:x"), []);
});

void test("every write that returned survives SIGKILL of the writing process", async (t) => {
  const path = join(tempDir(t), "killed.db");
  const root = resolve(__dirname, "../../..");
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "kill-writer.ts"), path], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => child.kill("SIGKILL"));
  const committed: number[] = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((res) =>
    child.on("exit", (_code, signal) => res(signal)),
  );
  await new Promise<void>((res, rej) => {
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const line of lines) committed.push(Number(line));
      if (committed.length >= 300) {
        child.kill("SIGKILL");
        res();
      }
    });
    child.on("exit", () => rej(new Error(`writer exited early: ${stderr}`)));
  });
  assert.equal(await exited, "SIGKILL");

  const store = openStore({ path, key: KEY_A });
  t.after(() => store.close());
  const ids = new Set(store.outbox.list(ALICE).map((r) => r.id));
  for (const id of committed) assert.ok(ids.has(id), `committed outbox entry ${id} was lost`);
  assert.equal(store.users.getRefreshToken(ALICE), "token-before-kill");
  const raw = new Database(path, { readonly: true });
  t.after(() => raw.close());
  assert.equal(raw.pragma("integrity_check", { simple: true }), "ok");
});

void test("getByClientId finds a queued send by receiver, conversation and Client-Message-ID", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const { row } = store.outbox.enqueue(entry);
  assert.deepEqual(store.outbox.getByClientId(ALICE, "8:live:bob_1", "4242"), row);
  assert.equal(store.outbox.getByClientId(ALICE, "8:live:bob_1", "4243"), undefined);
  assert.equal(store.outbox.getByClientId(ALICE, "8:someone", "4242"), undefined);
  assert.equal(store.outbox.getByClientId("@carol:example.org", "8:live:bob_1", "4242"), undefined);
  store.outbox.complete(row.id);
  assert.equal(store.outbox.getByClientId(ALICE, "8:live:bob_1", "4242"), undefined);
});
