// SPDX-License-Identifier: Apache-2.0
/**
 * The inbox hands events on in arrival order per room (whatever each one's routing takes), keeps an
 * event pending while a transient failure is retried with backoff (without holding other rooms),
 * and gives a poison event up after a bounded number of attempts, reporting it.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { MatrixEventJson } from "../../../../src/bridge/matrix/appservice.js";
import { Inbox, type InboxOptions } from "../../../../src/bridge/matrix/inbox.js";
import { openStore, StoreError, StoreErrorCode, type SqliteStore } from "../../../../src/store/index.js";
import { ALICE, BOT, deferred, KEY, testConfig, type Deferred } from "../portal/from-matrix/fakes.js";

function ev(id: string, room = "!a:example.org"): MatrixEventJson {
  return { event_id: id, room_id: room, sender: ALICE, type: "m.room.message", content: { body: id } };
}

function setup(t: TestContext, opts: InboxOptions = {}): { store: SqliteStore; inbox: Inbox } {
  const store = openStore({ path: ":memory:", key: KEY });
  t.after(() => store.close());
  return { store, inbox: new Inbox({ store, config: testConfig(), botUserId: BOT }, opts) };
}

const busy = (): StoreError => new StoreError(StoreErrorCode.Busy, "the database is locked", true);
const pendingIds = (store: SqliteStore): string[] => store.inbox.pending().map((r) => r.eventId);

void test("events of a room are routed in arrival order; the next one does not wait for the handling", async (t) => {
  const { store, inbox } = setup(t);
  const events = [ev("$msg"), ev("$redaction"), ev("$other", "!b:example.org")];
  inbox.accept("t1", events);
  const routed: string[] = [];
  const slowRouting = deferred();
  const slowHandling = deferred();
  const done = events.map((e) =>
    inbox.handle(e, async (x) => {
      // The message takes longer to route (e.g. a management-room lookup) than its redaction.
      if (x.event_id === "$msg") await slowRouting.promise;
      routed.push(x.event_id!);
      return x.event_id === "$msg" ? { handled: slowHandling.promise } : undefined;
    }),
  );
  await done[2]; // another room is not held by the slow routing
  assert.deepEqual(routed, ["$other"]);
  slowRouting.resolve();
  await done[1]; // the redaction went on while the message was still being handled
  assert.deepEqual(routed, ["$other", "$msg", "$redaction"]);
  assert.deepEqual(pendingIds(store), ["$msg"], "done only once handled");
  slowHandling.resolve();
  await done[0];
  assert.deepEqual(pendingIds(store), []);
});

void test("a transient failure keeps the event pending and is retried with backoff; other rooms go on", async (t) => {
  const waits: number[] = [];
  const wake: Deferred[] = [];
  const { store, inbox } = setup(t, {
    retry: {
      attempts: 5,
      backoff: { initialMs: 100, maxMs: 1000 },
      sleep: (ms) => {
        waits.push(ms);
        const d = deferred();
        wake.push(d);
        return d.promise;
      },
    },
  });
  inbox.accept("t1", [ev("$a"), ev("$b", "!b:example.org")]);
  let failures = 2;
  const handled: string[] = [];
  const route = (x: MatrixEventJson): Promise<undefined> => {
    if (x.event_id === "$a" && failures-- > 0) return Promise.reject(busy());
    handled.push(x.event_id!);
    return Promise.resolve(undefined);
  };
  const a = inbox.handle(ev("$a"), route);
  await inbox.handle(ev("$b", "!b:example.org"), route);
  assert.deepEqual(handled, ["$b"]);
  assert.deepEqual(waits, [100], "waiting before the second attempt");
  assert.deepEqual(pendingIds(store), ["$a"], "still pending while it waits (a restart replays it)");
  wake[0]!.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(waits, [100, 200]);
  wake[1]!.resolve();
  await a;
  assert.deepEqual(handled, ["$b", "$a"]);
  assert.deepEqual(pendingIds(store), []);
});

void test("a poison event is given up (done, and reported) after the attempts; a bug at once", async (t) => {
  const failed: [string, unknown][] = [];
  const { store, inbox } = setup(t, {
    retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 1 }, sleep: () => Promise.resolve() },
    onFailed: (event, error) => {
      failed.push([event.event_id!, error]);
      return Promise.resolve();
    },
  });
  inbox.accept("t1", [ev("$busy"), ev("$bug")]);
  let attempts = 0;
  await inbox.handle(ev("$busy"), () => {
    attempts++;
    return Promise.reject(busy());
  });
  assert.equal(attempts, 3);
  await inbox.handle(ev("$bug"), () => {
    attempts++;
    return Promise.reject(new TypeError("bug"));
  });
  assert.equal(attempts, 4, "an error that is not transient is not retried");
  assert.deepEqual(
    failed.map(([id, e]) => [id, (e as Error).name]),
    [
      ["$busy", "StoreError"],
      ["$bug", "TypeError"],
    ],
  );
  assert.deepEqual(pendingIds(store), []);
});
