// SPDX-License-Identifier: Apache-2.0
/**
 * Skype → Matrix against a real Synapse, the bridge process and the reference server: what a
 * contact does on Skype is what the human sees in Element's terms (exact content, count, order).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

/** Opens alice's management room, links her Skype account with the password flow, waits for her endpoint. */
async function linkAlice(env: E2EEnv, human: HumanClient): Promise<string> {
  const mgmt = await env.openManagementRoom(human);
  await env.linkSkype(human, mgmt);
  return mgmt;
}

/** Messages (m.room.message) in `roomId` sent by `sender`, in order. */
function messagesFrom(human: HumanClient, roomId: string, sender: string): RoomEvent[] {
  return human.messagesIn(roomId).filter((e) => e.sender === sender);
}

/** A state event's content as the human sees it. */
async function stateOf(
  human: HumanClient,
  roomId: string,
  type: string,
  stateKey = "",
): Promise<Record<string, unknown>> {
  return (await human.getRoomStateEvent(roomId, type, stateKey)) as Record<string, unknown>;
}

describe("Skype → Matrix", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;
  let bob: string;

  /** Bob sends through the reference server; resolves with the Matrix event once it arrived. */
  async function bobSays(
    text: string,
    kind: "text" | "richtext" | "emote" = "text",
  ): Promise<{ event: RoomEvent; clientMessageId: string }> {
    const before = messagesFrom(human, dm, bob).length;
    const sent = env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text, kind });
    const event = await waitFor(() => messagesFrom(human, dm, bob)[before], { what: `"${text}" to arrive` });
    return { event, clientMessageId: sent.clientMessageId };
  }

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    await linkAlice(env, human);
  });
  after(async () => {
    await env?.close();
  });

  test("a contact's first message: a DM invite from their puppet, then the message with their name", async () => {
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "Hi Alice, it's Bob <3 & co" });
    dm = await human.waitForInvite(
      (_r, e) => e.content.is_direct === true && /bob/.test(e.sender),
      "the DM invite",
    );
    bob = human.invites.find((i) => i.roomId === dm)!.event.sender;
    assert.match(bob, /^@skype_(8=3alive=3abob__1|1=3abob=40outlook\.com):localhost$/);
    await human.joinRoom(dm);
    const first = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.type === "m.room.message",
      "the first message",
    );
    // The body has alice's name in it: the empty m.mentions stays, so no legacy rule pings her.
    assert.deepEqual(first.content, {
      msgtype: "m.text",
      body: "Hi Alice, it's Bob <3 & co",
      "m.mentions": {},
    });
    assert.equal((await stateOf(human, dm, "m.room.member", bob)).displayname, "Bob Builder (Skype)");
    assert.equal((await stateOf(human, dm, "m.room.name")).name, "Bob Builder (Skype)");
    const bridge = await stateOf(human, dm, "m.bridge", "localhost/skype");
    assert.deepEqual(await stateOf(human, dm, "uk.half-shot.bridge", "localhost/skype"), bridge);
    assert.equal(bridge.bridgebot, env.botUserId);
    assert.deepEqual(bridge.protocol, { id: "skype", displayname: "Skype" });
    assert.deepEqual((await stateOf(human, dm, "io.element.functional_members")).service_members, [
      env.botUserId,
    ]);
    assert.equal(messagesFrom(human, dm, bob).length, 1);
  });

  test("rich text arrives as HTML with a plain body; /me as an emote", async () => {
    // No member's name in these bodies: the empty m.mentions is left out (see the next test).
    const { event: rich } = await bobSays("<b>bold</b> and <i>italic</i> &amp; <s>gone</s>", "richtext");
    assert.deepEqual(rich.content, {
      msgtype: "m.text",
      body: "bold and italic & gone",
      format: "org.matrix.custom.html",
      formatted_body: "<strong>bold</strong> and <em>italic</em> &amp; <del>gone</del>",
    });
    const { event: emote } = await bobSays("waves", "emote");
    assert.deepEqual(emote.content, { msgtype: "m.emote", body: "waves" });
  });

  test("an empty m.mentions is left out only where no push rule could match: Synapse notifies, never highlights", async () => {
    const plain = (await bobSays("see you at the yard")).event;
    assert.equal("m.mentions" in plain.content, false);
    const named = (await bobSays("ALICE, look")).event;
    assert.deepEqual(named.content["m.mentions"], {});
    // A new name in the portal: once the bridge has had the membership event (a message sent after
    // it reached Skype, so the bridge's transactions got that far), a body with it keeps the key.
    await human.sendStateEvent(dm, "m.room.member", human.mxid, {
      membership: "join",
      displayname: "Queen of Hearts",
    });
    const sentBefore = env.skype.msnp.receivedMessages({ user: "alice@hotmail.co.uk" }).length;
    await human.sendText(dm, "renamed");
    await waitFor(
      () => env.skype.msnp.receivedMessages({ user: "alice@hotmail.co.uk" }).length > sentBefore,
      {
        what: "Skype to receive the message after the rename",
      },
    );
    const renamed = (await bobSays("all hail the queen of hearts")).event;
    assert.deepEqual(renamed.content["m.mentions"], {});
    // A real mention, to show the check below can see a highlight.
    const mention = (await bobSays(`<at id="${ALICE_SKYPE}">Alice</at> over here`, "richtext")).event;
    assert.deepEqual(mention.content["m.mentions"], { user_ids: [human.mxid] });

    const ids = [plain, named, renamed, mention].map((e) => e.event_id);
    const highlights = await waitFor(
      async () => {
        const res = (await human.doRequest("GET", "/_matrix/client/v3/notifications", { limit: 100 })) as {
          notifications: { event: { event_id: string }; actions: unknown[] }[];
        };
        const byId = new Map(res.notifications.map((n) => [n.event.event_id, n.actions]));
        if (!ids.every((id) => byId.has(id))) return undefined;
        const highlighted = (actions: unknown[]) =>
          actions.some((a) => {
            const t = a as { set_tweak?: string; value?: unknown };
            return t.set_tweak === "highlight" && t.value !== false;
          });
        return ids.map((id) => highlighted(byId.get(id)!));
      },
      { what: "the four messages in alice's notifications" },
    );
    assert.deepEqual(highlights, [false, false, false, true]);
  });

  test("an edit replaces the message (same puppet, m.replace); a delete redacts it", async () => {
    const { event: original, clientMessageId } = await bobSays("teh typo");
    env.skype.msnp.editMessage({
      from: BOB,
      to: ALICE_SKYPE,
      editedId: clientMessageId,
      text: "the typo, fixed",
    });
    const edit = await human.waitForEvent(
      (e) =>
        e.room_id === dm &&
        (e.content["m.relates_to"] as { rel_type?: string } | undefined)?.rel_type === "m.replace",
      "the edit",
    );
    assert.equal(edit.sender, bob);
    assert.deepEqual(edit.content, {
      msgtype: "m.text",
      body: "* the typo, fixed",
      "m.new_content": { msgtype: "m.text", body: "the typo, fixed", "m.mentions": {} },
      "m.relates_to": { rel_type: "m.replace", event_id: original.event_id },
    });
    assert.ok(edit.origin_server_ts > original.origin_server_ts);
    env.skype.msnp.deleteMessage({ from: BOB, to: ALICE_SKYPE, editedId: clientMessageId });
    const redaction = await human.waitForEvent(
      (e) => e.room_id === dm && e.type === "m.room.redaction",
      "the redaction",
    );
    assert.equal(redaction.sender, bob);
    assert.equal(redaction.redacts ?? redaction.content.redacts, original.event_id);
    assert.equal(human.timeline.filter((e) => e.room_id === dm && e.type === "m.room.redaction").length, 1);
  });

  test("typing shows on the puppet and stops when the message lands", async () => {
    const typingIn = () => human.ephemeral.filter((e) => e.room_id === dm && e.type === "m.typing");
    const before = typingIn().length;
    env.skype.msnp.sendTyping({ from: BOB, to: ALICE_SKYPE });
    await human.waitForEphemeral(
      (e) => e.room_id === dm && e.type === "m.typing" && (e.content.user_ids as string[]).includes(bob),
      "bob typing",
    );
    await bobSays("done typing");
    await waitFor(
      () => {
        const last = typingIn().slice(before).at(-1);
        return last !== undefined && !(last.content.user_ids as string[]).includes(bob);
      },
      { what: "bob's typing to stop" },
    );
  });

  test("presence: away → unavailable, online → online", async () => {
    const seen = (state: string): boolean =>
      human.presence.some((p) => p.sender === bob && p.content.presence === state);
    env.skype.msnp.setPresence({ user: "bob@outlook.com", status: "AWY" });
    await waitFor(() => seen("unavailable"), { what: "bob unavailable" });
    env.skype.msnp.setPresence({ user: "bob@outlook.com", status: "NLN" });
    await waitFor(() => seen("online"), { what: "bob online" });
  });

  test("a burst of 50 messages arrives in exact order, each once", async () => {
    const before = messagesFrom(human, dm, bob).length;
    const texts = Array.from({ length: 50 }, (_, i) => `burst ${i + 1}`);
    for (const text of texts) env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text });
    await waitFor(() => messagesFrom(human, dm, bob).length >= before + 50, {
      timeoutMs: 45_000,
      what: "50 messages",
    });
    const got = messagesFrom(human, dm, bob)
      .slice(before)
      .map((e) => e.content.body);
    assert.deepEqual(got, texts);
  });

  test("the user's own message from another Skype endpoint appears as theirs, not the contact's", async () => {
    env.skype.msnp.sendMessage({ from: ALICE_SKYPE, to: BOB, text: "sent from my phone" });
    const mine = await human.waitForEvent(
      (e) => e.room_id === dm && e.type === "m.room.message" && e.content.body === "sent from my phone",
      "the user's own message",
    );
    assert.notEqual(mine.sender, bob);
    assert.notEqual(mine.sender, human.mxid);
    assert.equal(
      (await stateOf(human, dm, "m.room.member", mine.sender)).displayname,
      "Alice Liddell (you, on Skype)",
    );
  });

  test("the echo contact answers in its own DM", async () => {
    env.skype.msnp.sendMessage({ from: ALICE_SKYPE, to: "8:echo123", text: "testing 1 2 3" });
    const room = await human.waitForInvite(
      (r, e) => r !== dm && e.content.is_direct === true && e.sender.includes("echo123"),
      "the echo DM invite",
    );
    await human.joinRoom(room);
    const echo = human.invites.find((i) => i.roomId === room)!.event.sender;
    await waitFor(() => messagesFrom(human, room, echo).length === 1, { what: "the echo" });
    const all = human.messagesIn(room).map((e) => [e.sender === echo ? "echo" : "me", e.content.body]);
    assert.deepEqual(all, [
      ["me", "testing 1 2 3"],
      ["echo", "testing 1 2 3"],
    ]);
  });
});
