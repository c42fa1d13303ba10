// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { MatrixEventJson } from "../../../../src/bridge/matrix/appservice.js";
import { Inbox } from "../../../../src/bridge/matrix/inbox.js";
import { openStore, StoreErrorCode, type SqliteStore } from "../../../../src/store/index.js";
import { ALICE, BOB_PUPPET, BOT, deferred, KEY, testConfig } from "../portal/from-matrix/fakes.js";

function tempPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "m2s-inbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "bridge.db");
}

function openAt(t: TestContext, path = ":memory:", now?: () => number): SqliteStore {
  const store = openStore({ path, key: KEY, ...(now ? { now } : {}) });
  t.after(() => store.close());
  return store;
}

function ev(id: string, sender = ALICE, room = "!r:example.org"): MatrixEventJson {
  return {
    event_id: id,
    room_id: room,
    sender,
    type: "m.room.message",
    content: { msgtype: "m.text", body: id },
  };
}

const ctxOf = (store: SqliteStore) => ({ store, config: testConfig(), botUserId: BOT });
const ids = (events: readonly MatrixEventJson[]) => events.map((e) => e.event_id);

void test("inbox repo: one transaction per accept, unique per event id, pending in arrival order", (t) => {
  const store = openAt(t);
  const fresh = store.inbox.accept("t1", [
    { eventId: "$a", roomId: "!r", event: { n: 1 } },
    { eventId: "$b", roomId: null, event: { n: 2 } },
  ]);
  assert.deepEqual(
    fresh.map((r) => [r.eventId, r.txnId, r.roomId, r.event, r.doneTs]),
    [
      ["$a", "t1", "!r", { n: 1 }, null],
      ["$b", "t1", null, { n: 2 }, null],
    ],
  );
  // A re-sent transaction (another txn id, overlapping events) only yields what is new.
  const again = store.inbox.accept("t2", [
    { eventId: "$b", event: { n: 2 } },
    { eventId: "$c", event: { n: 3 } },
  ]);
  assert.deepEqual(
    again.map((r) => r.eventId),
    ["$c"],
  );
  assert.equal(store.inbox.pendingCount(), 3);
  assert.equal(store.inbox.markDone("$a"), true);
  assert.equal(store.inbox.markDone("$a"), false);
  assert.equal(store.inbox.markDone("$unknown"), false);
  assert.deepEqual(
    store.inbox.pending().map((r) => r.eventId),
    ["$b", "$c"],
  );
  const first = store.inbox.pending(0, 1);
  assert.deepEqual(
    store.inbox.pending(first[0]!.seq).map((r) => r.eventId),
    ["$c"],
  );
  assert.equal(store.inbox.get("$a")?.event, null, "done rows drop their JSON");
});

void test("inbox repo: a bad event changes nothing; pruning keeps recent and pending rows", (t) => {
  let now = 1_000_000;
  const store = openAt(t, ":memory:", () => now);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.throws(
    () =>
      store.inbox.accept("t1", [
        { eventId: "$ok", event: {} },
        { eventId: "$bad", event: circular },
      ]),
    { code: StoreErrorCode.InvalidArgument },
  );
  assert.equal(store.inbox.get("$ok"), undefined);
  store.inbox.accept("t1", [
    { eventId: "$old", event: {} },
    { eventId: "$pending", event: {} },
    { eventId: "$ours", event: {}, done: true },
  ]);
  store.inbox.markDone("$old");
  now += 10_000;
  store.inbox.accept("t2", [{ eventId: "$new", event: {}, done: true }]);
  assert.equal(store.inbox.prune(5_000), 2);
  assert.deepEqual(
    ["$old", "$ours", "$pending", "$new"].map((id) => store.inbox.get(id) !== undefined),
    [false, false, true, true],
  );
});

void test("Inbox.accept returns new events once; the bot's and puppets' pass through, never stored", (t) => {
  const store = openAt(t);
  const inbox = new Inbox(ctxOf(store));
  assert.equal(inbox.replaying, false);
  const noId = { type: "m.room.message", sender: ALICE } as MatrixEventJson;
  const out = inbox.accept("t1", [ev("$1"), ev("$2", BOT), ev("$3", BOB_PUPPET), noId]);
  assert.deepEqual(ids(out), ["$1", "$2", "$3", undefined]);
  assert.deepEqual(
    store.inbox.pending().map((r) => r.eventId),
    ["$1"],
  );
  // A re-sent transaction: the user's event is recognised; the bridge's own pass again (the
  // library's membership caches take them idempotently), and none of them has a row.
  assert.deepEqual(ids(inbox.accept("t1", [ev("$1"), ev("$2", BOT)])), ["$2"]);
  assert.equal(store.inbox.get("$2"), undefined);
  assert.equal(store.inbox.get("$3"), undefined);
});

void test("Inbox.handle marks the event done even when the handler fails", async (t) => {
  const store = openAt(t);
  const inbox = new Inbox(ctxOf(store));
  inbox.accept("t1", [ev("$1"), ev("$2")]);
  await inbox.handle(ev("$1"), () => Promise.resolve());
  await inbox.handle(ev("$2"), () => Promise.reject(new Error("boom")));
  assert.equal(store.inbox.pendingCount(), 0);
});

void test("after a crash, undone events are replayed in order and new ones wait behind them", async (t) => {
  const path = tempPath(t);
  const first = openStore({ path, key: KEY });
  const inbox1 = new Inbox(ctxOf(first));
  inbox1.accept("t1", [ev("$1"), ev("$2"), ev("$3")]);
  inbox1.markDone("$1");
  first.close(); // the process dies with $2 and $3 unhandled

  const store = openAt(t, path);
  const inbox = new Inbox(ctxOf(store));
  assert.equal(inbox.replaying, true, "events left from the last run hold new ones");
  // Synapse re-sends the transaction and a new one arrives before the replay started.
  assert.deepEqual(ids(inbox.accept("t1", [ev("$1"), ev("$2"), ev("$3")])), []);
  assert.deepEqual(ids(inbox.accept("t2", [ev("$4"), ev("$5", BOT)])), ["$5"]);

  const handled: string[] = [];
  const gate = deferred();
  let late: Promise<void> | undefined;
  const dispatch = async (e: MatrixEventJson): Promise<void> => {
    handled.push(e.event_id!);
    if (e.event_id === "$2") {
      // While the replayed events are handled, another transaction comes in: every replayed event
      // already holds its place in its room's lane, so the new one is handed out and waits there.
      const fresh = inbox.accept("t3", [ev("$6")]);
      assert.deepEqual(ids(fresh), ["$6"]);
      late = inbox.handle(fresh[0]!, dispatch);
      await gate.promise;
    }
  };
  const replay = inbox.replay(dispatch);
  gate.resolve();
  assert.equal(await replay, 3);
  await late;
  assert.deepEqual(handled, ["$2", "$3", "$4", "$6"]);
  assert.equal(store.inbox.pendingCount(), 0);
  assert.equal(inbox.replaying, false);
  assert.deepEqual(ids(inbox.accept("t4", [ev("$7")])), ["$7"]);
  assert.equal(await inbox.replay(() => Promise.resolve()), 0, "replay runs once");
});

void test("a replay does not take again an event handed out live that is still being handled", async (t) => {
  const store = openAt(t);
  const inbox = new Inbox(ctxOf(store));
  assert.equal(inbox.replaying, false);
  // The appservice was already listening: a live event is handed out before the replay starts.
  const [live] = inbox.accept("t1", [ev("$live")]);
  const gate = deferred();
  const handled: string[] = [];
  const done = inbox.handle(live!, async (e) => {
    handled.push(e.event_id!);
    await gate.promise;
  });
  assert.equal(await inbox.replay(() => Promise.reject(new Error("replayed twice"))), 0);
  gate.resolve();
  await done;
  assert.deepEqual(handled, ["$live"]);
  assert.equal(store.inbox.pendingCount(), 0);
});

void test("Inbox prunes done events past the retention on its own", (t) => {
  let now = 10_000_000;
  const store = openAt(t, ":memory:", () => now);
  const inbox = new Inbox(ctxOf(store), { retentionMs: 1000, pruneIntervalMs: 500, now: () => now });
  inbox.accept("t1", [ev("$1")]);
  inbox.markDone("$1");
  now += 2000;
  inbox.accept("t2", [ev("$2")]);
  assert.equal(store.inbox.get("$1"), undefined);
  assert.notEqual(store.inbox.get("$2"), undefined);
});
