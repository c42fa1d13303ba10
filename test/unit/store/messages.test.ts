// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { StoreErrorCode, type NewMessage } from "../../../src/store/index.js";
import { ALICE, BOB_DM_ROOM, open, seedUserAndPortal } from "./helpers.js";

const CONV = "8:live:bob_1";
const base: NewMessage = {
  receiver: ALICE,
  conversation: CONV,
  roomId: BOB_DM_ROOM,
  direction: "to_matrix",
  sender: CONV,
  sentTs: 1_431_882_693_000,
  eventId: "$e1",
  skypeMessageId: "1431882693260",
  clientMessageId: "18446744073709551615",
};

void test("a message is mapped once; duplicates by either Skype id or the event id are detected", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const first = store.messages.insert(base);
  assert.equal(first.inserted, true);
  assert.equal(first.row.clientMessageId, "18446744073709551615", "64-bit ids survive as text");

  for (const dup of [
    { ...base, eventId: "$other" }, // redelivered push: same Message-ID
    { ...base, skypeMessageId: null, eventId: "$other2" }, // same Client-Message-ID
    { ...base, skypeMessageId: "9", clientMessageId: "9", eventId: "$e1" }, // same Matrix event
  ]) {
    const r = store.messages.insert(dup);
    assert.equal(r.inserted, false);
    assert.equal(r.row.id, first.row.id);
  }
  assert.equal(store.messages.getBySkypeId(ALICE, CONV, base.skypeMessageId!)?.eventId, "$e1");
  assert.equal(store.messages.getByClientId(ALICE, CONV, base.clientMessageId!)?.eventId, "$e1");
  assert.equal(store.messages.getByEventId("$e1")?.id, first.row.id);
  assert.equal(store.messages.getBySkypeId(ALICE, "8:someone_else", base.skypeMessageId!), undefined);
});

void test("parts, edits, deletes and late Message-IDs", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const p0 = store.messages.insert(base).row;
  const p1 = store.messages.insert({ ...base, part: 1, eventId: "$e1-part1" }).row;
  assert.deepEqual(
    store.messages.parts(p1).map((m) => m.eventId),
    ["$e1", "$e1-part1"],
  );

  const edit1 = store.messages.insert({
    ...base,
    skypeMessageId: "1431882693999",
    clientMessageId: "77",
    eventId: "$edit1",
    editOf: p0.id,
    sentTs: base.sentTs + 10,
  }).row;
  store.messages.insert({
    ...base,
    skypeMessageId: "1431882694000",
    clientMessageId: "78",
    eventId: "$edit2",
    editOf: p0.id,
    sentTs: base.sentTs + 20,
  });
  assert.equal(edit1.editOf, p0.id);
  assert.equal(store.messages.latestEdit(p0.id)?.eventId, "$edit2");
  assert.equal(store.messages.latestEdit(p1.id), undefined);

  assert.equal(store.messages.markDeleted(p0.id), true);
  assert.deepEqual(
    store.messages.parts(p0).map((m) => m.deleted),
    [true, true],
  );
  assert.equal(store.messages.markDeleted(999_999), false);

  // A message we sent: no Message-ID until catch-up shows it.
  const sent = store.messages.insert({
    ...base,
    direction: "to_skype",
    sender: ALICE,
    skypeMessageId: null,
    clientMessageId: "555",
    eventId: "$mine",
  }).row;
  assert.deepEqual(
    store.messages.parts(sent).map((m) => m.id),
    [sent.id],
  );
  const filled = store.messages.setSkypeMessageId(sent.id, "1431882695000");
  assert.equal(filled.skypeMessageId, "1431882695000");
  assert.equal(store.messages.getBySkypeId(ALICE, CONV, "1431882695000")?.eventId, "$mine");
  assert.throws(() => store.messages.setSkypeMessageId(sent.id, base.skypeMessageId!), {
    code: StoreErrorCode.Constraint,
  });
  assert.throws(() => store.messages.setSkypeMessageId(424242, "1"), { code: StoreErrorCode.NotFound });
});

void test("messages need a known portal and well-formed fields", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  assert.throws(() => store.messages.insert({ ...base, roomId: "!unknown:x" }), {
    code: StoreErrorCode.Constraint,
  });
  assert.throws(() => store.messages.insert({ ...base, editOf: 12345 }), { code: StoreErrorCode.Constraint });
  assert.throws(() => store.messages.insert({ ...base, direction: "sideways" as never }), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.throws(() => store.messages.insert({ ...base, part: -1 }), { code: StoreErrorCode.InvalidArgument });
  assert.throws(() => store.messages.insert({ ...base, eventId: "" }), {
    code: StoreErrorCode.InvalidArgument,
  });
  assert.equal(store.portals.delete(BOB_DM_ROOM), true);
  assert.equal(store.messages.getByEventId("$e1"), undefined);
});

void test("cursors only move forward, comparing 64-bit Message-IDs numerically", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  assert.equal(store.cursors.get(ALICE, CONV), undefined);
  assert.equal(store.cursors.advance(ALICE, CONV, "9007199254740993"), true);
  // A catch-up page arrives newest first: older ids never move the cursor back.
  assert.equal(store.cursors.advance(ALICE, CONV, "9007199254740992"), false);
  assert.equal(store.cursors.advance(ALICE, CONV, "999"), false);
  assert.equal(store.cursors.advance(ALICE, CONV, "9007199254740993"), false);
  assert.equal(store.cursors.advance(ALICE, CONV, "10000000000000000"), true);
  assert.equal(store.cursors.get(ALICE, CONV), "10000000000000000");
  store.cursors.advance(ALICE, "19:abc@thread.skype", "5");
  assert.deepEqual(
    store.cursors.listByReceiver(ALICE).map((c) => [c.conversation, c.lastMessageId]),
    [
      ["19:abc@thread.skype", "5"],
      [CONV, "10000000000000000"],
    ],
  );
  assert.throws(() => store.cursors.advance("@nobody:x", CONV, "1"), { code: StoreErrorCode.Constraint });
});

void test("portals: one per (receiver, conversation); a room cannot serve two", (t) => {
  const store = open(t);
  seedUserAndPortal(store);
  const again = store.portals.create({
    roomId: "!second:x",
    receiver: ALICE,
    conversation: CONV,
    kind: "dm",
  });
  assert.equal(again.inserted, false);
  assert.equal(again.row.roomId, BOB_DM_ROOM);
  assert.throws(
    () =>
      store.portals.create({
        roomId: BOB_DM_ROOM,
        receiver: ALICE,
        conversation: "19:x@thread.skype",
        kind: "group",
      }),
    { code: StoreErrorCode.Constraint },
  );
  assert.throws(
    () => store.portals.create({ roomId: "!g:x", receiver: ALICE, conversation: "c", kind: "room" as never }),
    {
      code: StoreErrorCode.InvalidArgument,
    },
  );
  const g = store.portals.create({
    roomId: "!g:x",
    receiver: ALICE,
    conversation: "19:x@thread.skype",
    kind: "group",
    name: "Team",
  });
  assert.equal(g.inserted, true);
  assert.equal(g.row.encrypted, false);
  const u = store.portals.update("!g:x", { topic: "plans", encrypted: true });
  assert.deepEqual([u.name, u.topic, u.encrypted], ["Team", "plans", true]);
  assert.deepEqual(
    store.portals.listByReceiver(ALICE).map((p) => p.roomId),
    [BOB_DM_ROOM, "!g:x"],
  );
  assert.throws(() => store.portals.update("!none:x", {}), { code: StoreErrorCode.NotFound });
});
