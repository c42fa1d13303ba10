// SPDX-License-Identifier: Apache-2.0
/** One portal per conversation, found from either side, running both directions through one queue. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALICE,
  ALICE_LIVE,
  ALICE_SKYPE,
  BOB_LIVE,
  BOB_SKYPE,
  FakeSession,
  message,
  testBed,
} from "./from-skype/fixtures.js";

void test("a person's identities and their room lead to the same portal object", async () => {
  const { bridge, portals, s2m, alice } = testBed();
  alice.emit("message", message({ body: "hi" }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  bridge.store.persons.link([BOB_SKYPE, BOB_LIVE]);
  const byRoom = portals.forRoom(roomId)!;
  assert.equal(portals.forConversation(ALICE, BOB_SKYPE), byRoom);
  assert.equal(portals.forConversation(ALICE, BOB_LIVE), byRoom);
  assert.equal(byRoom.kind, "dm");
  assert.equal(byRoom.roomId, roomId);
  assert.equal(portals.forRoom("!elsewhere:localhost"), undefined);
  // The user's own identities have no portal.
  assert.equal(portals.forConversation(ALICE, ALICE_LIVE), undefined);
});

void test("a portal runs Skype and Matrix events one at a time, in arrival order", async () => {
  const { portals, s2m } = testBed();
  const portal = portals.forConversation(ALICE, BOB_SKYPE)!;
  const seen: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  void portal.enqueue(async () => {
    seen.push("skype:start");
    await gate;
    seen.push("skype:end");
  });
  const matrixDone = portal.enqueue(() => {
    seen.push("matrix");
    return Promise.resolve();
  });
  // Another portal is not held up by this one.
  await portals.forConversation(ALICE, "8:someone.else")!.enqueue(() => {
    seen.push("other portal");
    return Promise.resolve();
  });
  assert.deepEqual(seen, ["skype:start", "other portal"]);
  release();
  await matrixDone;
  await s2m.drain();
  assert.deepEqual(seen, ["skype:start", "other portal", "skype:end", "matrix"]);
});

void test("a linked user's own identities are read once per session", () => {
  const { bridge, sessions } = testBed();
  const first = bridge.users.get(ALICE);
  assert.equal(bridge.users.get(ALICE), first, "the same session reuses what it read");
  assert.ok(first.isSelf(ALICE_SKYPE));
  assert.ok(first.isSelf("1:ALICE@hotmail.co.uk"), "e-mail identities ignore case");
  assert.equal(first.isSelf(BOB_SKYPE), false);
  const next = new FakeSession(ALICE, [ALICE_LIVE, ALICE_SKYPE], "Alice");
  sessions.set(ALICE, next.asSession());
  const second = bridge.users.get(ALICE);
  assert.notEqual(second, first, "a new session reads them again");
  assert.equal(second.displayName, "Alice");
  // Without a session the store's record still says who the user is.
  sessions.delete(ALICE);
  assert.ok(bridge.users.get(ALICE).isSelf(ALICE_LIVE));
  assert.equal(bridge.users.get("@nobody:localhost").identities.length, 0);
});
