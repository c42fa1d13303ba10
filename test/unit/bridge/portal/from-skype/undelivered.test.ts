// SPDX-License-Identifier: Apache-2.0
/**
 * Skype → Matrix: a message that cannot be bridged is never dropped in silence. The user is told
 * in the portal room (or, without one, in their management room), and the catch-up cursor never
 * passes a message that neither arrived nor was reported.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StoreError, StoreErrorCode } from "../../../../../src/store/errors.js";
import { FakeMatrixError, type FakeCall } from "./fake-hs.js";
import { ALICE, BOB_SKYPE, BOT, message, testBed } from "./fixtures.js";

const MGMT = "!management:localhost";

/** A send of a room message whose body is `body` (by anyone). */
const sendOf =
  (body: string) =>
  (c: FakeCall): boolean =>
    c.path.includes("/send/m.room.message/") && (c.body as { body?: unknown } | null)?.body === body;

const bodies = (events: { content: Record<string, unknown> }[]): unknown[] =>
  events.map((e) => e.content.body);

void test("a message Matrix refuses for good is reported in its portal room; then the cursor moves on", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const first = message({ body: "first" });
  alice.emit("message", first);
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;

  hs.fail(sendOf("too big"), () => new FakeMatrixError(413, "M_TOO_LARGE", "event too large: <raw detail>"));
  const poison = message({ body: "too big", arrivalTime: "2024-05-01T10:05:00Z" });
  alice.emit("message", poison);
  await s2m.drain();

  const notice = hs.messages(roomId).at(-1)!;
  assert.equal(notice.sender, BOT);
  assert.equal(notice.content.msgtype, "m.notice");
  const text = String(notice.content.body);
  assert.match(text, /Bob Builder/, "who sent it");
  assert.match(text, /2024-05-01 10:05 UTC/, "when");
  assert.match(text, /too large/, "why, in words");
  assert.doesNotMatch(text, /M_TOO_LARGE|raw detail|too big/, "no protocol text, no content");
  assert.deepEqual((notice.content["m.mentions"] as { user_ids?: unknown }).user_ids, [ALICE]);
  // Reported: a restart must not replay the poison message for ever, so the cursor passes it.
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), poison.messageId);

  const third = message({ body: "third" });
  alice.emit("message", third);
  await s2m.drain();
  assert.deepEqual(bodies(hs.messages(roomId)), ["first", text, "third"]);
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), third.messageId);
});

void test("an undelivered message nobody could be told about holds the cursor until it is reported", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const first = message({ body: "first" });
  alice.emit("message", first);
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;

  let noticesRefused = true;
  hs.fail(sendOf("lost"), () => new FakeMatrixError(400, "M_BAD_JSON", "bad"));
  // Notices are refused, whoever posts them (the bot, or the contact's puppet in its place).
  hs.fail(
    (c) => noticesRefused && (c.body as { msgtype?: unknown } | null)?.msgtype === "m.notice",
    () => new FakeMatrixError(403, "M_FORBIDDEN", "no"),
    1000,
  );
  const lost = message({ body: "lost" });
  const later = message({ body: "later" });
  alice.emit("message", lost);
  alice.emit("message", later);
  await s2m.drain();
  // "later" was bridged (its handling, cursor step included, is over), yet the cursor stays
  // before "lost": a restart fetches "lost" again (and recognises "later" as already bridged).
  assert.deepEqual(bodies(hs.messages(roomId)), ["first", "later"]);
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), first.messageId);

  // The room takes notices again: the next event of the portal first reports the lost message,
  // and only then lets the cursor move, past everything handled meanwhile.
  noticesRefused = false;
  const next = message({ body: "next" });
  alice.emit("message", next);
  await s2m.drain();
  const after = hs.messages(roomId);
  assert.equal(after.length, 4);
  assert.equal(after[2]!.sender, BOT);
  assert.match(String(after[2]!.content.body), /Bob Builder/);
  assert.equal(after[3]!.content.body, "next");
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), next.messageId);
});

void test("a message whose portal room cannot be created is reported in the management room", async () => {
  const { alice, s2m, hs, store, notices } = testBed();
  store.users.upsert(ALICE, { managementRoomId: MGMT });
  hs.fail(
    (c) => c.path.endsWith("/createRoom"),
    () => new FakeMatrixError(400, "M_UNKNOWN", "nope"),
  );
  const m = message({ body: "hello", arrivalTime: "2024-05-01T09:30:00Z" });
  alice.emit("message", m);
  await s2m.drain();
  assert.equal(hs.createCalls().length, 1);
  assert.equal(notices.length, 1);
  assert.equal(notices[0]!.mxid, ALICE);
  assert.match(notices[0]!.text, /Bob Builder/);
  assert.match(notices[0]!.text, /2024-05-01 09:30 UTC/);
  assert.match(notices[0]!.text, /room/);
  assert.doesNotMatch(notices[0]!.text, /M_UNKNOWN|hello/);
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), m.messageId, "reported: the cursor moves on");
});

void test("without a room or a management room, the cursor does not pass the message", async () => {
  const { alice, s2m, hs, store, notices } = testBed();
  hs.fail(
    (c) => c.path.endsWith("/createRoom"),
    () => new FakeMatrixError(400, "M_UNKNOWN", "nope"),
  );
  const m = message({ body: "hello" });
  alice.emit("message", m);
  await s2m.drain();
  assert.equal(hs.createCalls().length, 1, "the room was tried (and the handling is over)");
  assert.deepEqual(notices, []);
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), undefined);
});

void test("a database that is briefly busy is retried: the message arrives once and is recorded", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const insert = store.messages.insert.bind(store.messages);
  let busy = 2;
  store.messages.insert = (row) => {
    if (busy > 0) {
      busy--;
      throw new StoreError(StoreErrorCode.Busy, "the database is locked", true);
    }
    return insert(row);
  };
  const m = message({ body: "hello" });
  alice.emit("message", m);
  await s2m.drain();
  assert.equal(busy, 0);
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  assert.deepEqual(bodies(hs.messages(roomId)), ["hello"]);
  assert.ok(store.messages.getBySkypeId(ALICE, BOB_SKYPE, m.messageId!));
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), m.messageId);
});

void test("a group change that cannot be shown is reported too, and holds the cursor until then", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const thread = "19:00112233445566778899aabbccddeeff@thread.skype";
  alice.emit("message", message({ body: "hi all", conversation: thread }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, thread)!;
  hs.fail(
    (c) => c.path.includes("/state/m.room.name/"),
    () => new FakeMatrixError(403, "M_FORBIDDEN", "no"),
  );
  const topic = {
    conversation: thread,
    sender: BOB_SKYPE,
    fromMe: false,
    messageId: "1800000000000",
    source: "live" as const,
    arrivalTime: "2024-05-01T11:00:00Z",
    activity: "TopicUpdate",
    targets: [],
    value: "New topic",
    cursor: { conversation: thread, messageId: "1800000000000" },
  };
  alice.emit("threadActivity", topic);
  await s2m.drain();
  const notice = hs.messages(roomId).at(-1)!;
  assert.equal(notice.sender, BOT);
  assert.match(String(notice.content.body), /2024-05-01 11:00 UTC/);
  assert.equal(store.cursors.get(ALICE, thread), "1800000000000");
});

void test("a message of a conversation id the bridge cannot use is reported in the management room", async () => {
  const { alice, s2m, store, notices } = testBed();
  store.users.upsert(ALICE, { managementRoomId: MGMT });
  const m = message({ body: "hi", conversation: "not an id", arrivalTime: "2024-05-01T08:00:00Z" });
  alice.emit("message", m);
  await s2m.drain();
  assert.equal(notices.length, 1);
  assert.match(
    notices[0]!.text,
    /^⚠️ A message from Bob Builder, sent 2024-05-01 08:00 UTC, could not be bridged: /,
  );
  assert.equal(store.cursors.get(ALICE, "not an id"), m.messageId, "reported: the cursor moves on");
});

void test("a message that reached the room but could not be recorded is not reported; the cursor waits", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const first = message({ body: "first" });
  alice.emit("message", first);
  await s2m.drain();
  const insert = store.messages.insert.bind(store.messages);
  store.messages.insert = (row) => {
    if (row.skypeMessageId === unrecorded.messageId) throw new Error("disk gone");
    return insert(row);
  };
  const unrecorded = message({ body: "unrecorded" });
  const later = message({ body: "later" });
  alice.emit("message", unrecorded);
  alice.emit("message", later);
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  assert.deepEqual(bodies(hs.messages(roomId)), ["first", "unrecorded", "later"], "no report: it arrived");
  // A restart re-runs it (the same txn id gives the same event) and records it: until then the
  // cursor stays before it, even though "later" was bridged and recorded.
  assert.ok(store.messages.getBySkypeId(ALICE, BOB_SKYPE, later.messageId!));
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), first.messageId);
});

void test("with two unreported messages, reporting the first moves the cursor only up to the second", async () => {
  const { alice, s2m, hs, store } = testBed();
  const first = message({ body: "first" });
  alice.emit("message", first);
  await s2m.drain();
  let refuse: (body: string) => boolean = () => true;
  hs.fail(sendOf("lost A"), () => new FakeMatrixError(400, "M_BAD_JSON", "bad"));
  hs.fail(sendOf("lost B"), () => new FakeMatrixError(400, "M_BAD_JSON", "bad"));
  hs.fail(
    (c) => {
      const b = c.body as { msgtype?: unknown; body?: unknown } | null;
      return b?.msgtype === "m.notice" && refuse(String(b.body));
    },
    () => new FakeMatrixError(403, "M_FORBIDDEN", "no"),
    1000,
  );
  const a = message({ body: "lost A", arrivalTime: "2024-05-01T10:01:00Z" });
  const b = message({ body: "lost B", arrivalTime: "2024-05-01T10:02:00Z" });
  const c = message({ body: "C" });
  for (const m of [a, b, c]) alice.emit("message", m);
  await s2m.drain();
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), first.messageId);

  refuse = (body) => body.includes("10:02"); // A can be reported now, B not yet
  const d = message({ body: "D" });
  alice.emit("message", d);
  await s2m.drain();
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), a.messageId, "up to A, not past B");

  refuse = () => false;
  const e = message({ body: "E" });
  alice.emit("message", e);
  await s2m.drain();
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), e.messageId);
});
