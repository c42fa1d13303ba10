// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ThreadActivityEvent } from "../../../../../src/sessions/types.js";
import { ALICE, ALICE_SKYPE, BOB_PUPPET, BOB_SKYPE, BOT, DOMAIN, message, testBed } from "./fixtures.js";

const THREAD = "19:00112233445566778899aabbccddeeff@thread.skype";
const DAVE = "8:dave.lister";
const DAVE_PUPPET = `@skype_8=3adave.lister:${DOMAIN}`;
let id = 1_800_000_000_000;

function activity(activityName: string, over: Partial<ThreadActivityEvent> = {}): ThreadActivityEvent {
  const messageId = String(++id);
  return {
    conversation: THREAD,
    sender: BOB_SKYPE,
    fromMe: false,
    source: "live",
    messageId,
    cursor: { conversation: THREAD, messageId },
    activity: activityName,
    targets: [],
    ...over,
  };
}

test("a new thread becomes a group portal; members join and leave; the topic follows", async () => {
  const { alice, s2m, hs, portals, store } = testBed();
  alice.emit("threadUpdate", {
    id: THREAD,
    topic: "Dinner plans",
    members: [
      { mri: ALICE_SKYPE, role: "user" },
      { mri: BOB_SKYPE, role: "admin" },
    ],
  });
  alice.emit(
    "threadActivity",
    activity("AddMember", { targets: [{ mri: BOB_SKYPE }, { mri: ALICE_SKYPE }] }),
  );
  alice.emit("threadActivity", activity("TopicUpdate", { value: "Dinner plans" }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, THREAD)!;
  assert.ok(roomId);
  assert.equal(hs.createCalls().length, 1);
  assert.equal(hs.createCalls()[0]!.user, BOT);
  assert.equal(hs.membership(roomId, BOB_PUPPET), "join");
  assert.equal(hs.membership(roomId, ALICE), "invite");
  assert.equal(hs.timeline(roomId).filter((e) => e.type === "m.room.name").length, 1, "no rename noise");

  alice.emit("threadActivity", activity("AddMember", { targets: [{ mri: DAVE }] }));
  alice.emit(
    "message",
    message({ body: "hi all", sender: DAVE, conversation: THREAD, displayName: "Dave Lister" }),
  );
  alice.emit("threadActivity", activity("DeleteMember", { targets: [{ mri: DAVE }] }));
  alice.emit("threadActivity", activity("TopicUpdate", { value: "Dinner on Friday" }));
  await s2m.drain();
  const members = hs
    .timeline(roomId)
    .filter((e) => e.type === "m.room.member" && e.state_key === DAVE_PUPPET)
    .map((e) => e.content.membership);
  assert.deepEqual(members, ["invite", "join", "leave"]);
  const [msg] = hs.messages(roomId);
  assert.equal(msg!.sender, DAVE_PUPPET);
  assert.equal(hs.stateOf(roomId, "m.room.name")!.content.name, "Dinner on Friday");
  assert.equal(hs.stateOf(roomId, "m.room.topic")!.content.topic, "Dinner on Friday");
  assert.equal(store.portals.getByRoom(roomId)!.name, "Dinner on Friday");
  assert.equal(store.cursors.get(ALICE, THREAD), String(id));

  // The user is removed from the thread: the real user is kicked from the portal.
  hs.registered.add(ALICE);
  await hs.request(ALICE, "POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, null, {});
  assert.equal(hs.membership(roomId, ALICE), "join");
  alice.emit("threadActivity", activity("DeleteMember", { targets: [{ mri: ALICE_SKYPE }] }));
  await s2m.drain();
  assert.equal(hs.membership(roomId, ALICE), "leave");
});

test("a message in a thread the bridge has no info about still gets a portal", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit("message", message({ body: "surprise", sender: BOB_SKYPE, conversation: THREAD }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, THREAD)!;
  assert.equal(hs.messages(roomId)[0]!.sender, BOB_PUPPET);
  assert.equal(hs.membership(roomId, ALICE), "invite");
  // Thread info arriving later names the room and removes nobody it does not know.
  alice.emit("threadUpdate", {
    id: THREAD,
    topic: "Named later",
    members: [{ mri: ALICE_SKYPE }, { mri: BOB_SKYPE }],
  });
  await s2m.drain();
  assert.equal(hs.stateOf(roomId, "m.room.name")!.content.name, "Named later");
  assert.equal(hs.membership(roomId, BOB_PUPPET), "join");
});

test("thread info without the user, and removals without a portal, create nothing", async () => {
  const { alice, s2m, hs } = testBed();
  alice.emit("threadUpdate", { id: THREAD, members: [{ mri: BOB_SKYPE }, { mri: DAVE }] });
  alice.emit("threadActivity", activity("DeleteMember", { targets: [{ mri: DAVE }] }));
  alice.emit("threadActivity", activity("RoleUpdate", { targets: [{ mri: DAVE, role: "admin" }] }));
  await s2m.drain();
  assert.equal(hs.createCalls().length, 0);
});

test("thread info drops puppets of former members", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit("threadUpdate", {
    id: THREAD,
    members: [{ mri: ALICE_SKYPE }, { mri: BOB_SKYPE }, { mri: DAVE }],
  });
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, THREAD)!;
  assert.equal(hs.membership(roomId, DAVE_PUPPET), "join");
  alice.emit("threadUpdate", { id: THREAD, members: [{ mri: ALICE_SKYPE }, { mri: BOB_SKYPE }] });
  await s2m.drain();
  assert.equal(hs.membership(roomId, DAVE_PUPPET), "leave");
  assert.equal(hs.membership(roomId, BOB_PUPPET), "join");
  assert.equal(hs.membership(roomId, BOT), "join");
});
