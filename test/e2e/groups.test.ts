// SPDX-License-Identifier: Apache-2.0
/**
 * Group threads and contact requests, end to end (real Synapse, the bridge process, the reference
 * server): a thread becomes a group portal whose name, topic and members follow Skype; an incoming
 * contact request becomes a room where the user answers `accept`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const DAVE = "8:dave.lister";

async function linkAlice(env: E2EEnv, human: HumanClient): Promise<string> {
  const mgmt = await env.openManagementRoom(human);
  await env.linkSkype(human, mgmt);
  return mgmt;
}

async function stateOf(
  human: HumanClient,
  roomId: string,
  type: string,
  stateKey = "",
): Promise<Record<string, unknown>> {
  return (await human.getRoomStateEvent(roomId, type, stateKey)) as Record<string, unknown>;
}

/** Membership changes of `user` in `roomId`, in timeline order. */
function memberships(human: HumanClient, roomId: string, user: string): unknown[] {
  return human.timeline
    .filter((e) => e.room_id === roomId && e.type === "m.room.member" && e.state_key === user)
    .map((e) => e.content.membership);
}

describe("groups and contact requests", () => {
  let env: E2EEnv;
  let human: HumanClient;

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    await linkAlice(env, human);
  });
  after(async () => {
    await env?.close();
  });

  test("a Skype group: portal with name and topic, members join and leave, topic changes follow", async () => {
    const { id: thread } = env.skype.msnp.createThread({
      as: "bob@outlook.com",
      members: [{ mri: BOB }, { mri: ALICE_SKYPE }],
      topic: "Dinner plans",
    });
    const room = await human.waitForInvite(
      (_r, e) => e.sender === env.botUserId && e.content.is_direct !== true,
      "the group invite",
    );
    await human.joinRoom(room);
    assert.equal((await stateOf(human, room, "m.room.name")).name, "Dinner plans");
    assert.equal((await stateOf(human, room, "m.room.topic")).topic, "Dinner plans");
    const bridge = await stateOf(human, room, "m.bridge", "localhost/skype");
    assert.deepEqual((bridge.channel as Record<string, unknown>).id, thread);
    const bob = await waitFor(
      async () => (await human.getJoinedRoomMembers(room)).find((m) => /^@skype_.*bob/.test(m)),
      { what: "bob's puppet to be in the group" },
    );

    env.skype.msnp.sendMessage({ from: BOB, to: thread, text: "Who brings dessert?" });
    const msg = await human.waitForEvent(
      (e) => e.room_id === room && e.type === "m.room.message",
      "bob's group message",
    );
    assert.equal(msg.sender, bob);
    assert.equal(msg.content.body, "Who brings dessert?");

    env.skype.msnp.addMembers({ as: "bob@outlook.com", thread, members: [{ mri: DAVE }] });
    const dave = await waitFor(
      () =>
        human.timeline.find(
          (e) =>
            e.room_id === room &&
            e.type === "m.room.member" &&
            /dave\.lister/.test(e.state_key ?? "") &&
            e.content.membership === "join",
        )?.state_key,
      { what: "dave's puppet to join" },
    );
    env.skype.msnp.sendMessage({ from: DAVE, to: thread, text: "I will!" });
    await human.waitForEvent(
      (e) => e.room_id === room && e.sender === dave && e.content.body === "I will!",
      "dave's message",
    );
    env.skype.msnp.removeMembers({ as: "bob@outlook.com", thread, members: [DAVE] });
    await waitFor(() => memberships(human, room, dave).at(-1) === "leave", {
      what: "dave's puppet to leave",
    });
    assert.deepEqual(memberships(human, room, dave), ["invite", "join", "leave"]);

    env.skype.msnp.setTopic({ as: "bob@outlook.com", thread, topic: "Dinner on Friday" });
    await human.waitForEvent(
      (e) => e.room_id === room && e.type === "m.room.topic" && e.content.topic === "Dinner on Friday",
      "the new topic",
    );
    assert.equal((await stateOf(human, room, "m.room.name")).name, "Dinner on Friday");
    const names = human.timeline
      .filter((e) => e.room_id === room && e.type === "m.room.name")
      .map((e) => e.content.name);
    assert.deepEqual(names.slice(-1), ["Dinner on Friday"]);
    const groupMessages = human.messagesIn(room).map((e: RoomEvent) => e.content.body);
    assert.deepEqual(groupMessages, ["Who brings dessert?", "I will!"]);

    // And back: what alice writes in the group portal reaches the Skype thread, once.
    await human.sendText(room, "I'll bring wine");
    const inThread = (): string[] =>
      env.skype.msnp
        .storedMessages({ conversation: thread })
        .filter((m) => m.from === ALICE_SKYPE && m.messageType === "Text")
        .map((m) => m.content);
    await waitFor(() => inThread().includes("I'll bring wine"), { what: "alice's message in the thread" });
    assert.deepEqual(inThread(), ["I'll bring wine"]);

    // Renaming the portal in Matrix sets the thread's topic on Skype.
    await human.sendStateEvent(room, "m.room.name", "", { name: "Dinner on Saturday" });
    await waitFor(
      () => env.skype.msnp.threads().find((t) => t.id === thread)?.topic === "Dinner on Saturday",
      { what: "the thread's topic to follow the room name" },
    );

    // Inviting a contact's puppet into the portal adds them to the thread; their puppet joins.
    await human.inviteUser(dave, room);
    await waitFor(
      () =>
        env.skype.msnp
          .threads()
          .find((t) => t.id === thread)
          ?.members.some((m) => m.mri === DAVE),
      { what: "dave to be a member of the thread again" },
    );
    await waitFor(() => memberships(human, room, dave).at(-1) === "join", {
      what: "dave's puppet to rejoin",
    });
  });

  test("a contact request becomes an invite; `accept` from Matrix adds the contact on Skype", async () => {
    const room = await human.waitForInvite((_r, e) => /carol/.test(e.sender), "carol's request invite");
    const carol = human.invites.find((i) => i.roomId === room)!.event.sender;
    await human.joinRoom(room);
    const notice = await human.waitForEvent(
      (e) => e.room_id === room && e.sender === env.botUserId && e.type === "m.room.message",
      "the request notice",
    );
    assert.equal(
      notice.content.body,
      "Carol Ånström (carol@live.com) wants to add you as a Skype contact. Their message: “Hi Alice, it's Carol from work”" +
        "\n\nReply `accept` here to add them to your contacts, or `decline` to refuse.",
    );
    assert.equal((await stateOf(human, room, "m.room.member", carol)).displayname, "Carol Ånström (Skype)");
    const before = human.timeline.length;
    await human.sendText(room, "accept");
    const answer = await human.waitForEvent(
      (e) =>
        human.timeline.indexOf(e) >= before &&
        e.room_id === room &&
        e.sender === env.botUserId &&
        e.type === "m.room.message",
      "the answer",
    );
    assert.equal(
      answer.content.body,
      "Accepted: Carol Ånström is now one of your Skype contacts. Messages in this room now go to them on Skype.",
    );
    const alice = env.skype.world.mustFind("alice@hotmail.co.uk");
    assert.ok(alice.contacts.has("carol@live.com"), "carol is alice's contact on Skype");
    assert.equal(alice.pending.size, 0);
    // Carol's messages now arrive in that room.
    env.skype.msnp.sendMessage({ from: "1:carol@live.com", to: ALICE_SKYPE, text: "Thanks for adding me!" });
    const hello = await human.waitForEvent(
      (e) => e.room_id === room && e.sender === carol && e.type === "m.room.message",
      "carol's message",
    );
    assert.equal(hello.content.body, "Thanks for adding me!");
  });

  test("a request arriving while connected becomes an invite; `decline` refuses it on Skype", async () => {
    const res = await fetch(`${env.skype.controlUrl}/http/contact-request`, {
      method: "POST",
      body: JSON.stringify({ from: "zed@outlook.com", to: "alice@hotmail.co.uk", message: "Remember me?" }),
    });
    assert.deepEqual(await res.json(), { outcome: "requested" });
    const room = await human.waitForInvite((_r, e) => /zed/.test(e.sender), "zed's request invite");
    await human.joinRoom(room);
    const notice = await human.waitForEvent(
      (e) => e.room_id === room && e.sender === env.botUserId && e.type === "m.room.message",
      "the request notice",
    );
    assert.match(
      String(notice.content.body),
      /^Zed Twofactor \(zed@outlook\.com\) wants to add you .*“Remember me\?”/,
    );
    const before = human.timeline.length;
    await human.sendText(room, "decline");
    const answer = await human.waitForEvent(
      (e) =>
        human.timeline.indexOf(e) >= before &&
        e.room_id === room &&
        e.sender === env.botUserId &&
        e.type === "m.room.message",
      "the answer",
    );
    assert.equal(answer.content.body, "Declined the contact request from Zed Twofactor.");
    const alice = env.skype.world.mustFind("alice@hotmail.co.uk");
    assert.ok(!alice.contacts.has("zed@outlook.com"));
    assert.ok(!alice.pending.has("zed@outlook.com"));
  });
});
