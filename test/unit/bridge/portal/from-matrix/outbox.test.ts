// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { clientMessageIdFor, matrixTxnIdFor } from "../../../../../src/bridge/matrix/txn-ids.js";
import { isSentFromMatrix } from "../../../../../src/bridge/portal/outbox.js";
import { MsnpError, SkypeError, SkypeErrorCode } from "../../../../../src/skype/errors.js";
import { ALICE, BOT, DM_ROOM, FakeSession, roomEvent, text } from "./fakes.js";
import { harness } from "./setup.js";

const BOB = "8:live:bob_1";

function tempPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "m2s-outbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "bridge.db");
}

const notConnected = () => new SkypeError(SkypeErrorCode.NotConnected, "the MSNP client was stopped", false);

void test("sends wait in the outbox until the session caught up, then go out in order", async (t) => {
  const h = harness(t, { connected: false });
  await h.feed(roomEvent("$1", text("one")), roomEvent("$2", text("two")), roomEvent("$3", text("three")));
  assert.equal(h.session.sent.length, 0);
  assert.deepEqual(
    h.store.outbox.list(ALICE).map((r) => [r.eventId, r.clientMessageId, r.conversation]),
    ["$1", "$2", "$3"].map((id) => [id, clientMessageIdFor(id), BOB]),
  );
  h.session.connect();
  await h.settle();
  assert.deepEqual(
    h.session.sent.map((s) => s.args[0]),
    ["one", "two", "three"],
  );
  assert.deepEqual(h.store.outbox.list(), []);
});

void test("after a crash, sends already on Skype (seen in catch-up) complete; the rest are re-sent once, in order", async (t) => {
  const path = tempPath(t);
  {
    const before = harness(t, { path, autoDeliver: false });
    await before.feed(
      roomEvent("$1", text("one")),
      roomEvent("$2", text("two")),
      roomEvent("$3", text("three")),
    );
    assert.equal(before.session.sent.length, 3);
    before.store.close(); // killed: nothing was confirmed
  }
  const h = harness(t, { path, connected: false });
  // Synapse re-sends the last transaction / the inbox replays: still queued, not sent twice.
  await h.feed(roomEvent("$1", text("one")), roomEvent("$3", text("three")));
  assert.equal(h.session.sent.length, 0);
  // Catch-up brings back "one" (it reached Skype before the crash), then finishes.
  h.session.state = { kind: "connected" };
  h.session.emit("message", {
    conversation: BOB,
    sender: "8:live:alice_1",
    fromMe: true,
    messageId: "1431882693260",
    clientMessageId: clientMessageIdFor("$1"),
    source: "catchup",
    messageType: "Text",
    format: "text",
    body: "one",
    emote: false,
  });
  h.session.emit("caughtUp", { messages: 1 });
  await h.settle();
  assert.deepEqual(
    h.session.sent.map((s) => [s.args[0], s.clientMessageId]),
    [
      ["two", clientMessageIdFor("$2")],
      ["three", clientMessageIdFor("$3")],
    ],
  );
  assert.deepEqual(h.store.outbox.list(), []);
  assert.equal(h.store.messages.getByEventId("$1")?.skypeMessageId, "1431882693260");
  assert.equal(h.store.messages.getByEventId("$3")?.clientMessageId, clientMessageIdFor("$3"));
  await h.feed(roomEvent("$2", text("two")));
  assert.equal(h.session.sent.length, 2, "a mapped event is never sent again");
});

void test("a send Skype refuses is reported in the room and closed; a refused m.notice is not", async (t) => {
  const h = harness(t, { autoDeliver: false });
  await h.feed(roomEvent("$m", text("hi")), roomEvent("$n", text("bot output", "m.notice")));
  h.session.sent[0]!.delivery.reject(new MsnpError(217, "message refused with 217: no such user", false));
  h.session.sent[1]!.delivery.reject(new MsnpError(500, "message refused with 500", true));
  await h.settle();
  assert.deepEqual(h.store.outbox.list(), []);
  assert.equal(h.store.messages.getByEventId("$m"), undefined);
  const posts = h.matrix.posted();
  assert.deepEqual(
    posts.map((p) => [p.userId, p.path.endsWith(matrixTxnIdFor("fail", "$m")), p.content]),
    [
      [
        BOT,
        true,
        {
          msgtype: "m.notice",
          body: "⚠️ Your message was not bridged: Skype does not know the recipient (error 217).",
          "m.relates_to": { "m.in_reply_to": { event_id: "$m" } },
          "m.mentions": { user_ids: [ALICE] },
        },
      ],
    ],
  );
  assert.ok(!h.logs.some((l) => l.includes("no such user")), "raw protocol text is not logged as the reason");
});

void test("an interrupted send is re-sent by the next session, and given up after too many attempts", async (t) => {
  const h = harness(t, { autoDeliver: false, outbox: { maxAttempts: 2 } });
  await h.feed(roomEvent("$m", text("hi")));
  h.session.sent[0]!.delivery.reject(notConnected());
  h.session.emit("state", { kind: "logged_out", reason: "stopped" });
  await h.settle();
  assert.equal(h.store.outbox.list().length, 1, "still queued");

  const second = new FakeSession();
  second.autoDeliver = false;
  h.sessions.add(second);
  await h.feed(roomEvent("$later", text("later")));
  assert.equal(second.sent.length, 0, "nothing goes out before the new session caught up");
  second.connect();
  await h.settle();
  assert.deepEqual(
    second.sent.map((s) => [s.args[0], s.clientMessageId]),
    [
      ["hi", clientMessageIdFor("$m")],
      ["later", clientMessageIdFor("$later")],
    ],
  );
  second.sent[0]!.delivery.reject(notConnected());
  second.sent[1]!.delivery.resolve();
  await h.settle();
  assert.deepEqual(h.store.outbox.list(), []);
  assert.deepEqual(
    h.matrix.posted().map((p) => p.content.body),
    ["⚠️ Your message was not bridged: Skype did not confirm it after 2 attempts."],
  );
  assert.equal(h.store.messages.getByEventId("$later")?.direction, "to_skype");
});

void test("a stale session's late answer does not disturb the re-send on the new one", async (t) => {
  const h = harness(t, { autoDeliver: false });
  await h.feed(roomEvent("$m", text("hi")));
  const second = new FakeSession();
  second.autoDeliver = false;
  h.sessions.add(second);
  second.connect();
  await h.settle();
  assert.equal(second.sent.length, 1);
  h.session.sent[0]!.delivery.reject(notConnected()); // the old session stops late
  await h.settle();
  assert.equal(h.store.outbox.list().length, 1);
  second.sent[0]!.delivery.resolve();
  await h.settle();
  assert.deepEqual(h.store.outbox.list(), []);
  assert.deepEqual(h.matrix.posted(), []);
});

void test("a user without a linked Skype account is told at once", async (t) => {
  const h = harness(t);
  h.sessions.map.clear();
  h.store.users.setRefreshToken(ALICE, null);
  await h.feed(roomEvent("$m", text("hi")));
  assert.deepEqual(h.store.outbox.list(), []);
  assert.deepEqual(
    h.matrix.posted().map((p) => [p.roomId, p.content.body]),
    [
      [
        DM_ROOM,
        "⚠️ Your message was not bridged: you are not signed in to Skype. Send `login` in your management room.",
      ],
    ],
  );
});

void test("isSentFromMatrix recognises queued and mapped sends (for the Skype → Matrix side)", async (t) => {
  const h = harness(t, { autoDeliver: false });
  await h.feed(roomEvent("$m", text("hi")));
  const cmid = clientMessageIdFor("$m");
  assert.equal(isSentFromMatrix(h.store, ALICE, BOB, cmid), true);
  h.session.sent[0]!.delivery.resolve();
  await h.settle();
  assert.equal(isSentFromMatrix(h.store, ALICE, BOB, cmid), true);
  assert.equal(isSentFromMatrix(h.store, ALICE, BOB, "12345"), false);
  assert.equal(isSentFromMatrix(h.store, ALICE, "8:someone", cmid), false);
});
