// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix → Skype: an event the portal cannot hand to the outbox is never dropped in silence. A
 * database that is busy (another connection holds the write lock) is waited for, in place, with
 * backoff; one busy for too long, or any other failure, ends in the "not bridged" notice.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import Database from "better-sqlite3";
import { StoreError, StoreErrorCode } from "../../../../../src/store/errors.js";
import { DEFAULT_RETRY } from "../../../../../src/bridge/matrix/errors.js";
import { clientMessageIdFor } from "../../../../../src/bridge/matrix/txn-ids.js";
import { ALICE, BOB_PUPPET, BOT, roomEvent, text } from "./fakes.js";
import { harness, type Harness } from "./setup.js";

function tempPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "m2s-busy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "bridge.db");
}

/** Another connection holding the database's write lock until `release()`. */
function writeLock(path: string): { release(): void } {
  const other = new Database(path);
  other.exec("BEGIN IMMEDIATE");
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      other.exec("COMMIT");
      other.close();
    },
  };
}

/** A harness on a file whose in-place retries record their waits (and call `onSleep`). */
function busyHarness(
  t: TestContext,
  onSleep: (waits: number[]) => void = () => undefined,
): { h: Harness; waits: number[]; path: string } {
  const path = tempPath(t);
  const waits: number[] = [];
  const sleep = (ms: number): Promise<void> => {
    waits.push(ms);
    onSleep(waits);
    return Promise.resolve();
  };
  const h = harness(t, { path, busyTimeoutMs: 0, retry: { ...DEFAULT_RETRY, sleep } });
  return { h, waits, path };
}

void test("a database busy during the outbox write is waited for: the messages reach Skype once, in order", async (t) => {
  const held: { lock?: { release(): void } } = {};
  const { h, waits, path } = busyHarness(t, (w) => {
    if (w.length === 2) held.lock?.release(); // busy for two attempts, then free
  });
  held.lock = writeLock(path);
  t.after(() => held.lock?.release());
  await h.feed(roomEvent("$m1", text("one")), roomEvent("$m2", text("two")));
  assert.equal(waits.length, 2, "two waits, then the write went through");
  assert.ok(waits[1]! > waits[0]!, "the waits grow (exponential backoff)");
  assert.deepEqual(
    h.session.sent.map((s) => [s.args, s.clientMessageId]),
    [
      [["one"], clientMessageIdFor("$m1")],
      [["two"], clientMessageIdFor("$m2")],
    ],
  );
  assert.deepEqual(h.matrix.posted(), []);
  assert.deepEqual(h.store.outbox.list(), []);
});

void test("a database busy for too long ends in the notice, after a bounded number of attempts", async (t) => {
  const { h, waits, path } = busyHarness(t);
  const lock = writeLock(path);
  t.after(() => lock.release());
  await h.feed(roomEvent("$m1", text("one")));
  assert.ok(waits.length >= 3, "it was retried");
  assert.ok(waits.length < 20, "but not for ever");
  const posted = h.matrix.posted();
  assert.equal(posted.length, 1);
  assert.match(String(posted[0]!.content.body), /^⚠️ Your message was not bridged: .*database.*busy/);
  assert.deepEqual(posted[0]!.content["m.relates_to"], { "m.in_reply_to": { event_id: "$m1" } });
  assert.equal(h.session.sent.length, 0);
  lock.release();
  // The next message goes through (the portal's queue was not stuck).
  await h.feed(roomEvent("$m2", text("two")));
  assert.deepEqual(
    h.session.sent.map((s) => s.args),
    [["two"]],
  );
});

void test("a poison event is not retried: the notice comes at once", async (t) => {
  const { h, waits } = busyHarness(t);
  const enqueue = h.store.outbox.enqueue.bind(h.store.outbox);
  let calls = 0;
  h.store.outbox.enqueue = (row) => {
    calls++;
    if (row.eventId === "$bad") throw new StoreError(StoreErrorCode.InvalidArgument, "refused");
    return enqueue(row);
  };
  await h.feed(roomEvent("$bad", text("bad")), roomEvent("$good", text("good")));
  assert.equal(calls, 2);
  assert.deepEqual(waits, []);
  const posted = h.matrix.posted();
  assert.equal(posted.length, 1);
  assert.match(String(posted[0]!.content.body), /^⚠️ Your message was not bridged: /);
  assert.doesNotMatch(String(posted[0]!.content.body), /refused|STORE_/);
  assert.deepEqual(
    h.session.sent.map((s) => s.args),
    [["good"]],
  );
});

void test("a notice the room refuses (bot and puppet alike) goes to the sender's management room", async (t) => {
  const { h } = busyHarness(t);
  h.store.outbox.enqueue = () => {
    throw new StoreError(StoreErrorCode.InvalidArgument, "refused");
  };
  h.matrix.failFor.add(BOT);
  h.matrix.failFor.add(BOB_PUPPET);
  await h.feed(roomEvent("$bad", text("bad")));
  assert.deepEqual(h.matrix.posted(), []);
  assert.equal(h.matrix.notified.length, 1);
  assert.equal(h.matrix.notified[0]!.mxid, ALICE);
  assert.match(h.matrix.notified[0]!.text, /^⚠️ Your message was not bridged: .*\(https:\/\/matrix\.to\/#\//);
});
