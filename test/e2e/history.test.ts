// SPDX-License-Identifier: Apache-2.0
/**
 * History on a first link, through real Synapse, the bridge process and the reference server: the
 * conversations of the account before it was linked (seeded on the server: DMs and a group), the newest ones get
 * their portals with their last messages in order and at their original times, posted before the
 * user is invited (so none notifies); older conversations get nothing; later live messages and a
 * catch-up after a restart arrive once each.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ControlClient } from "./harness/control.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { roomHistory, textMessages } from "./harness/room-history.js";
import { waitFor } from "./harness/util.js";

const ALICE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const DAVE = "8:dave.lister";
const ECHO = "8:echo123";

/** Server time of a stored message as Skype carries it (`Original-Arrival-Time`: whole seconds). */
const seconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** The user's notifications (`GET /notifications`): what pushed or would push to them. */
async function notifications(human: HumanClient): Promise<{ room_id: string; event: RoomEvent }[]> {
  const res = (await human.doRequest("GET", "/_matrix/client/v3/notifications", { limit: 100 })) as {
    notifications?: { room_id: string; event: RoomEvent }[];
  };
  return res.notifications ?? [];
}

void describe("history on a first link", { timeout: 300_000 }, () => {
  let env: E2EEnv;
  let human: HumanClient;
  let thread: string;
  /** Arrival time of each seeded message, by text. */
  const arrival = new Map<string, number>();

  before(async () => {
    env = await E2EEnv.create({ config: { history: { conversations: 3, messages: 3 } } });
    human = await env.human("alice");
    const control = new ControlClient(env.skype.controlUrl);
    const send = async (from: string, to: string, text: string): Promise<void> => {
      await control.send({ from, to, text });
    };
    // Oldest conversation first: dave's falls outside the 2 most recent.
    await send(DAVE, ALICE, "d1");
    // A group: its last three messages are its texts (the thread's creation is older).
    thread = (await control.createThread({ as: BOB, members: [ALICE], topic: "Builders" })).id;
    for (const text of ["g1", "g2", "g3"]) await send(BOB, thread, text);
    await send(BOB, ALICE, "b1");
    await send(BOB, ALICE, "b2");
    await send(BOB, ALICE, "b3");
    // Alice's own message from another Skype device, before the bridge existed.
    await send(ALICE, BOB, "a1 from my phone");
    await send(BOB, ALICE, "b4");
    await send(ECHO, ALICE, "e1");
    await send(ECHO, ALICE, "e2");
    const stored = await control.messages({ user: "alice@hotmail.co.uk" });
    for (const m of stored) arrival.set(m.content, m.arrival);
    for (const text of ["d1", "g1", "g2", "g3", "b1", "b2", "b3", "a1 from my phone", "b4", "e1", "e2"])
      assert.ok(arrival.has(text), `"${text}" is stored on the server`);
  });

  after(async () => {
    await env?.close();
  });

  let bobRoom: string;
  let echoRoom: string;

  test("linking creates the most recent DMs' portals with their last messages", async () => {
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    bobRoom = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && e.sender.includes("bob"),
      "bob's DM invite",
    );
    echoRoom = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && e.sender.includes("echo123"),
      "the echo contact's DM invite",
    );
    await human.joinRoom(bobRoom);
    await human.joinRoom(echoRoom);

    const bobEvents = await roomHistory(human, bobRoom);
    const bobTexts = textMessages(bobEvents);
    assert.deepEqual(
      bobTexts.map((e) => e.content.body),
      ["b3", "a1 from my phone", "b4"],
    );
    for (const e of bobTexts)
      assert.equal(
        e.origin_server_ts,
        seconds(arrival.get(String(e.content.body))!),
        `time of ${String(e.content.body)}`,
      );
    // Bob's lines come from his puppet, Alice's own from her "(you, on Skype)" puppet.
    const [b3, a1, b4] = bobTexts;
    assert.equal(b3!.sender, b4!.sender);
    assert.notEqual(a1!.sender, b3!.sender);
    assert.notEqual(a1!.sender, human.mxid);

    // Every message was in the room before the user was invited: none could notify.
    const invite = bobEvents.findIndex(
      (e) => e.type === "m.room.member" && e.state_key === human.mxid && e.content.membership === "invite",
    );
    const lastMessage = bobEvents.indexOf(b4!);
    assert.ok(invite > lastMessage, "the invite follows the history");

    const echoTexts = textMessages(await roomHistory(human, echoRoom));
    assert.deepEqual(
      echoTexts.map((e) => e.content.body),
      ["e1", "e2"],
    );
    for (const e of echoTexts)
      assert.equal(
        e.origin_server_ts,
        seconds(arrival.get(String(e.content.body))!),
        `time of ${String(e.content.body)}`,
      );
  });

  test("a group gets its room with its last messages, and the user is invited after them", async () => {
    const groupRoom = await human.waitForInvite(
      (r, e) => r !== bobRoom && r !== echoRoom && e.content.is_direct !== true && e.sender === env.botUserId,
      "the group's invite",
    );
    await human.joinRoom(groupRoom);
    const events = await roomHistory(human, groupRoom);
    const texts = textMessages(events);
    assert.deepEqual(
      texts.map((e) => e.content.body),
      ["g1", "g2", "g3"],
    );
    for (const e of texts)
      assert.equal(
        e.origin_server_ts,
        seconds(arrival.get(String(e.content.body))!),
        `time of ${String(e.content.body)}`,
      );
    const invite = events.findIndex(
      (e) => e.type === "m.room.member" && e.state_key === human.mxid && e.content.membership === "invite",
    );
    assert.ok(invite > events.indexOf(texts.at(-1)!), "the invite follows the history");
    assert.ok(thread.startsWith("19:"));
  });

  test("a live message arrives once, notifies, and history did not", async () => {
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE, text: "live after the link" });
    await waitFor(
      async () =>
        textMessages(await roomHistory(human, bobRoom)).some((e) => e.content.body === "live after the link"),
      { what: "the live message", timeoutMs: 30_000 },
    );
    const texts = textMessages(await roomHistory(human, bobRoom)).map((e) => e.content.body);
    assert.deepEqual(texts, ["b3", "a1 from my phone", "b4", "live after the link"]);
    // The live message notifies (the positive signal), the history before it did not.
    const notified = await waitFor(
      async () => {
        const list = await notifications(human);
        return list.some((n) => n.event.content?.body === "live after the link") ? list : undefined;
      },
      { what: "the live message's notification" },
    );
    const bodies = notified.map((n) => n.event.content?.body);
    for (const old of ["b3", "b4", "e1", "e2", "a1 from my phone"])
      assert.ok(!bodies.includes(old), `history "${old}" notified`);
  });

  test("an older conversation got no history: its first live message opens a room with only that", async () => {
    env.skype.msnp.sendMessage({ from: DAVE, to: ALICE, text: "hi again from dave" });
    const daveRoom = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && e.sender.includes("dave"),
      "dave's DM invite",
    );
    await human.joinRoom(daveRoom);
    await waitFor(async () => textMessages(await roomHistory(human, daveRoom)).length > 0, {
      what: "dave's message",
    });
    assert.deepEqual(
      textMessages(await roomHistory(human, daveRoom)).map((e) => e.content.body),
      ["hi again from dave"],
    );
    // The user's rooms: management, bob, echo, the group, dave.
    const joined = await human.getJoinedRooms();
    assert.equal(joined.length, 5);
  });

  test("after a restart, catch-up adds what was missed and repeats no history", async () => {
    await env.stopBridge("SIGTERM");
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE, text: "while the bridge was away" });
    env.skype.msnp.sendMessage({ from: ECHO, to: ALICE, text: "e3" });
    await env.startBridge();
    await waitFor(
      async () =>
        textMessages(await roomHistory(human, echoRoom)).some((e) => e.content.body === "e3") &&
        textMessages(await roomHistory(human, bobRoom)).some(
          (e) => e.content.body === "while the bridge was away",
        ),
      { what: "the missed messages", timeoutMs: 60_000 },
    );
    assert.deepEqual(
      textMessages(await roomHistory(human, bobRoom)).map((e) => e.content.body),
      ["b3", "a1 from my phone", "b4", "live after the link", "while the bridge was away"],
    );
    assert.deepEqual(
      textMessages(await roomHistory(human, echoRoom)).map((e) => e.content.body),
      ["e1", "e2", "e3"],
    );
  });
});
