// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { PortalRegistry } from "../../../../../src/bridge/portal/registry.js";
import { ALICE, BOB_LIVE, BOB_PUPPET, BOB_SKYPE, BOT, DOMAIN, testBed } from "./fixtures.js";

test("a DM portal is created by the contact's puppet as a direct chat, with bridge info", async () => {
  const { portals, hs, store } = testBed();
  store.persons.link([BOB_LIVE, BOB_SKYPE]);
  store.persons.update(store.persons.getByIdentity(BOB_SKYPE)!.id, { displayName: "Bob Builder" });
  const roomId = await portals.ensureDm(ALICE, BOB_SKYPE);

  const [create] = hs.createCalls();
  assert.ok(create);
  const puppet = store.puppets.get(store.persons.getByIdentity(BOB_SKYPE)!.id)!.mxid;
  assert.equal(create.user, puppet, "created by the contact's puppet, not the bot");
  const body = create.body as Record<string, unknown>;
  assert.equal(body.is_direct, true);
  assert.equal(body.preset, "private_chat");
  assert.deepEqual(body.invite, [ALICE, BOT]);
  assert.equal(body.name, "Bob Builder (Skype)");
  assert.equal(hs.profiles.get(puppet), "Bob Builder (Skype)", "profile set before the room exists");

  const info = hs.stateOf(roomId, "m.bridge", `${DOMAIN}/skype`)!;
  const half = hs.stateOf(roomId, "uk.half-shot.bridge", `${DOMAIN}/skype`)!;
  assert.deepEqual(info.content, half.content);
  assert.equal(info.content.bridgebot, BOT);
  assert.deepEqual(info.content.protocol, { id: "skype", displayname: "Skype" });
  assert.deepEqual(
    (info.content.channel as Record<string, unknown>).id,
    store.persons.getByIdentity(BOB_SKYPE)!.id,
  );
  assert.deepEqual(hs.stateOf(roomId, "io.element.functional_members")!.content, { service_members: [BOT] });
  const pl = hs.stateOf(roomId, "m.room.power_levels")!.content;
  assert.deepEqual(pl.users, { [BOT]: 100, [puppet]: 100 });
  assert.equal((pl.events as Record<string, number>)["m.room.name"], 50);
  assert.equal(hs.membership(roomId, ALICE), "invite");
  assert.equal(hs.stateOf(roomId, "m.room.member", ALICE)!.content.is_direct, true);
  assert.equal(hs.membership(roomId, BOT), "join", "the bot joins so it can post notices");
});

test("two messages at once create one room; a restart finds it again", async () => {
  const bed = testBed();
  const [a, b] = await Promise.all([
    bed.portals.ensureDm(ALICE, BOB_SKYPE),
    bed.portals.ensureDm(ALICE, BOB_SKYPE),
  ]);
  assert.equal(a, b);
  assert.equal(bed.hs.createCalls().length, 1);
  // A new process (a new bridge core) on the same store and homeserver.
  const again = testBed({ store: bed.store, hs: bed.hs, attach: false });
  assert.equal(await again.portals.ensureDm(ALICE, BOB_SKYPE), a);
  assert.equal(bed.hs.createCalls().length, 1);
});

test("both identities of a person share one DM portal; replies go where they last wrote from", async () => {
  const { portals, store } = testBed();
  store.persons.link([BOB_LIVE, BOB_SKYPE]);
  const room = await portals.ensureDm(ALICE, BOB_LIVE);
  assert.equal(await portals.ensureDm(ALICE, BOB_SKYPE), room);
  assert.equal(portals.roomFor(ALICE, BOB_SKYPE), room);
  assert.equal(portals.roomFor(ALICE, BOB_LIVE), room);
  assert.deepEqual(portals.conversationFor(room), { receiver: ALICE, conversation: BOB_SKYPE, kind: "dm" });
  store.persons.touchIdentity(BOB_LIVE, Date.now());
  assert.deepEqual(portals.conversationFor(room), { receiver: ALICE, conversation: BOB_LIVE, kind: "dm" });
  assert.equal(portals.conversationFor("!unknown:localhost"), undefined);
  assert.equal(portals.roomFor(ALICE, "8:nobody"), undefined);
});

test("a group portal is created by the bot with the topic, members' puppets joined, the user invited", async () => {
  const { portals, hs } = testBed();
  const thread = {
    id: "19:0123456789abcdef0123456789abcdef@thread.skype",
    topic: "Team chat",
    members: [
      { mri: "8:live:alice_1", role: "admin" },
      { mri: BOB_SKYPE, role: "user" },
      { mri: "8:dave.lister", role: "user" },
    ],
  };
  const roomId = await portals.ensureGroup(ALICE, thread);
  const [create] = hs.createCalls();
  assert.equal(create!.user, BOT);
  const body = create!.body as Record<string, unknown>;
  assert.equal(body.name, "Team chat");
  assert.equal(body.topic, "Team chat");
  assert.equal(body.is_direct, undefined);
  assert.equal(hs.membership(roomId, ALICE), "invite");
  assert.equal(hs.membership(roomId, BOB_PUPPET), "join");
  assert.equal(hs.membership(roomId, `@skype_8=3adave.lister:${DOMAIN}`), "join");
  assert.equal(hs.stateOf(roomId, "m.bridge", `${DOMAIN}/skype`)!.content["com.beeper.room_type"], "group");
  assert.equal(await portals.ensureGroup(ALICE, thread), roomId);
  assert.deepEqual(portals.conversationFor(roomId), {
    receiver: ALICE,
    conversation: thread.id,
    kind: "group",
  });
  assert.equal(portals.roomFor(ALICE, thread.id), roomId);
});

test("a DM started from Matrix by inviting a puppet is adopted; a second one is redirected", async () => {
  const { portals, hs, store, ctx } = testBed();
  // The user creates a room and invites Bob's puppet (done here directly on the fake server).
  hs.registered.add(ALICE);
  const { room_id: roomId } = (await hs.request(ALICE, "POST", "/_matrix/client/v3/createRoom", null, {
    invite: [BOB_PUPPET],
    is_direct: true,
  })) as { room_id: string };
  assert.equal(await portals.adoptDmRoom(ALICE, roomId, BOB_PUPPET), roomId);
  assert.equal(hs.membership(roomId, BOB_PUPPET), "join");
  assert.equal(hs.membership(roomId, BOT), "join");
  assert.equal(portals.roomFor(ALICE, BOB_SKYPE), roomId);
  assert.equal(store.portals.getByRoom(roomId)!.kind, "dm");

  const { room_id: second } = (await hs.request(ALICE, "POST", "/_matrix/client/v3/createRoom", null, {
    invite: [BOB_PUPPET],
  })) as { room_id: string };
  assert.equal(await portals.adoptDmRoom(ALICE, second, BOB_PUPPET), roomId);
  const notice = hs.messages(second)[0]!;
  assert.equal(notice.sender, BOB_PUPPET);
  assert.match(String(notice.content.body), /already have a chat/);
  assert.equal(hs.membership(second, BOB_PUPPET), "leave");
  await assert.rejects(portals.adoptDmRoom(ALICE, roomId, "@someone:localhost"), /not a Skype puppet/);
  assert.ok(ctx);
});

test("room version 12: creators are not listed in the power levels", async () => {
  const bed = testBed();
  bed.hs.defaultRoomVersion = "12";
  const roomId = await bed.portals.ensureDm(ALICE, BOB_SKYPE);
  assert.deepEqual(bed.hs.stateOf(roomId, "m.room.power_levels")!.content.users, { [BOT]: 100 });
});

test("a contact's rename renames the puppet once and the DM portals named after it", async () => {
  const { portals, puppets, hs, store } = testBed();
  await puppets.syncContacts([{ identities: [BOB_LIVE, BOB_SKYPE], displayName: "Bob Builder" }]);
  const roomId = await portals.ensureDm(ALICE, BOB_SKYPE);
  const puppet = puppets.mxidOf(store.persons.getByIdentity(BOB_SKYPE)!.id);
  const profileCalls = (): number => hs.calls.filter((c) => c.path.includes("/displayname")).length;
  const before = profileCalls();
  await puppets.syncContacts([{ identities: [BOB_LIVE, BOB_SKYPE], displayName: "Bob Builder" }]);
  assert.equal(profileCalls(), before, "no profile update without a change");
  await puppets.syncContacts([{ identities: [BOB_LIVE, BOB_SKYPE], displayName: "Robert Builder" }]);
  assert.equal(hs.profiles.get(puppet), "Robert Builder (Skype)");
  assert.equal(hs.stateOf(roomId, "m.room.name")!.content.name, "Robert Builder (Skype)");
  assert.equal(store.portals.getByRoom(roomId)!.name, "Robert Builder (Skype)");
  // A fresh Puppets over the same store does not set the name again.
  const fresh = testBed({ store, hs, attach: false }).puppets;
  const calls = profileCalls();
  await fresh.ensure(BOB_SKYPE);
  assert.equal(profileCalls(), calls);
  assert.ok(PortalRegistry);
});
