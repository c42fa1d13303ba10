// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix → Skype against a real Synapse, the bridge process and the reference server: what the
 * human sends in a portal is what the reference server receives (exact content, count, order).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { puppetMxid } from "../../src/bridge/ghosts/ids.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const DAVE = "8:dave.lister";

/** A received SDG as the test reads it. */
interface Sdg {
  to: string;
  type: string;
  body: string;
  header(name: string): string | undefined;
}

/** Every SDG alice's client sent, in order (typing included). */
function sentByAlice(env: E2EEnv): Sdg[] {
  return env.skype.msnp.receivedMessages({ user: "alice@hotmail.co.uk" }).map((r) => ({
    to: r.to,
    type: r.messageType,
    body: r.body,
    header: (name: string) => r.messaging.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
  }));
}

/** Chat messages (no Control/*) alice sent to `to`. */
function chatTo(env: E2EEnv, to: string): Sdg[] {
  return sentByAlice(env).filter((m) => m.to === to && !m.type.toLowerCase().startsWith("control/"));
}

describe("Matrix → Skype", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;

  /** Sends `content` and waits until Skype has one more chat message to `to`; returns it and the event id. */
  async function sendAndReceive(room: string, to: string, content: Record<string, unknown>) {
    const count = chatTo(env, to).length;
    const eventId = await human.sendMessage(room, content);
    const got = await waitFor(() => chatTo(env, to).length > count && chatTo(env, to), {
      timeoutMs: 20_000,
      what: `Skype to receive ${JSON.stringify(content.body)}`,
    });
    return { eventId, sdg: got[count]! };
  }

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    ({ room: dm } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE_SKYPE,
      text: "Hi Alice, it's Bob",
      senderPattern: /bob/,
    }));
  });
  after(async () => {
    await env?.close();
  });

  test("plain text reaches Skype once, with a decimal Client-Message-ID", async () => {
    const { sdg } = await sendAndReceive(dm, BOB, { msgtype: "m.text", body: "Hello Bob <3 & you" });
    assert.equal(sdg.type, "Text");
    assert.equal(sdg.body, "Hello Bob <3 & you");
    assert.match(sdg.header("Client-Message-ID") ?? "", /^\d{1,19}$/);
    await sendAndReceive(dm, BOB, { msgtype: "m.text", body: "second" });
    assert.deepEqual(
      chatTo(env, BOB).map((m) => m.body),
      ["Hello Bob <3 & you", "second"],
    );
  });

  test("HTML formatting becomes Skype rich text", async () => {
    const { sdg } = await sendAndReceive(dm, BOB, {
      msgtype: "m.text",
      body: "**bold** and _it_",
      format: "org.matrix.custom.html",
      formatted_body: "<strong>bold</strong> and <em>it</em> &amp; more",
    });
    assert.equal(sdg.type, "RichText");
    assert.equal(sdg.body, "<b>bold</b> and <i>it</i> &amp; more");
  });

  test("an emote becomes /me with the display name and its code-point offset", async () => {
    const { sdg } = await sendAndReceive(dm, BOB, { msgtype: "m.emote", body: "waves" });
    const name = sdg.header("IM-Display-Name") ?? "";
    assert.ok(name.length > 0);
    assert.equal(sdg.body, `${name} waves`);
    assert.equal(sdg.header("Skype-EmoteOffset"), String(Array.from(name).length));
  });

  test("a notice is bridged as text", async () => {
    const { sdg } = await sendAndReceive(dm, BOB, { msgtype: "m.notice", body: "automated note" });
    assert.equal(sdg.type, "Text");
    assert.equal(sdg.body, "automated note");
  });

  test("an edit targets the original's Client-Message-ID; a redaction deletes it", async () => {
    const { eventId, sdg: original } = await sendAndReceive(dm, BOB, { msgtype: "m.text", body: "teh typo" });
    const cmid = original.header("Client-Message-ID");
    const { sdg: edit } = await sendAndReceive(dm, BOB, {
      msgtype: "m.text",
      body: "* the typo",
      "m.new_content": { msgtype: "m.text", body: "the typo" },
      "m.relates_to": { rel_type: "m.replace", event_id: eventId },
    });
    assert.equal(edit.header("Skype-EditedId"), cmid);
    assert.equal(edit.body, "the typo");
    assert.notEqual(edit.header("Client-Message-ID"), cmid);
    const count = chatTo(env, BOB).length;
    await human.redactEvent(dm, eventId);
    const del = await waitFor(() => chatTo(env, BOB)[count], { timeoutMs: 20_000, what: "the delete" });
    assert.equal(del.header("Skype-EditedId"), cmid);
    assert.equal(del.body, "");
    assert.equal(chatTo(env, BOB).length, count + 1);
  });

  test("typing starts and stops on Skype", async () => {
    const typingTo = () => sentByAlice(env).filter((m) => m.to === BOB && m.type.startsWith("Control/"));
    const before = typingTo().length;
    await human.setTyping(dm, true, 20_000);
    await waitFor(() => typingTo()[before]?.type === "Control/Typing", { what: "Control/Typing" });
    await human.setTyping(dm, false);
    await waitFor(() => typingTo()[before + 1]?.type === "Control/ClearTyping", {
      what: "Control/ClearTyping",
    });
    assert.equal(typingTo().length, before + 2);
  });

  test("an image the bridge cannot read (encrypted) is answered with a notice and not sent", async () => {
    const count = chatTo(env, BOB).length;
    const eventId = await human.sendMessage(dm, {
      msgtype: "m.image",
      body: "cat.png",
      file: { url: "mxc://localhost/cat", v: "v2" },
      info: { mimetype: "image/png" },
    });
    const notice: RoomEvent = await human.waitForEvent(
      (e) =>
        e.room_id === dm &&
        e.content.msgtype === "m.notice" &&
        (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
          "m.in_reply_to"
        ]?.event_id === eventId,
      "the not-bridged notice",
    );
    assert.equal(
      notice.content.body,
      "⚠️ Your image was not bridged: the bridge cannot read encrypted files.",
    );
    assert.deepEqual(notice.content["m.mentions"], { user_ids: [human.mxid] });
    await sendAndReceive(dm, BOB, { msgtype: "m.text", body: "after the image" });
    assert.equal(chatTo(env, BOB).length, count + 1, "the image itself never reached Skype");
  });

  test("a reaction is answered with a notice (Skype has none)", async () => {
    const target = dm;
    const last = human.messagesIn(target).at(-1)!;
    const eventId = await human.sendEvent(target, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: last.event_id, key: "👍" },
    });
    const notice: RoomEvent = await human.waitForEvent(
      (e) =>
        e.room_id === target &&
        e.content.msgtype === "m.notice" &&
        (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
          "m.in_reply_to"
        ]?.event_id === eventId,
      "the reaction notice",
    );
    assert.equal(
      notice.content.body,
      "⚠️ Your reaction was not bridged: Skype cannot receive reactions from this bridge yet.",
    );
  });

  test("a DM started from Matrix by inviting a puppet is bridged", async () => {
    const dave = puppetMxid("skype_{id}", DAVE, env.synapse.domain);
    const room = await human.createRoom({ invite: [dave], is_direct: true, preset: "trusted_private_chat" });
    await human.waitForEvent(
      (e) =>
        e.room_id === room &&
        e.type === "m.room.member" &&
        e.state_key === dave &&
        e.content.membership === "join",
      "dave's puppet to join",
    );
    const { sdg } = await sendAndReceive(room, DAVE, { msgtype: "m.text", body: "Hi Dave, Matrix here" });
    assert.equal(sdg.body, "Hi Dave, Matrix here");
    assert.equal(chatTo(env, DAVE).length, 1);
  });

  test("`!skype` commands in a portal are answered there and never reach Skype; sign-in stays private", async () => {
    const count = chatTo(env, BOB).length;
    const ask = async (text: string): Promise<string> => {
      const before = human.timeline.length;
      await human.sendText(dm, text);
      const reply = await human.waitForEvent(
        (e) =>
          human.timeline.indexOf(e) >= before &&
          e.room_id === dm &&
          e.sender === env.botUserId &&
          e.type === "m.room.message",
        `the bot's answer to ${text}`,
      );
      return String(reply.content.body);
    };
    assert.match(await ask("!skype whoami"), /^Linked Skype account: alice@hotmail\.co\.uk/);
    assert.equal(
      await ask("!skype login alice@hotmail.co.uk"),
      '"login" only works in your management room (your direct chat with me), where nobody else reads along.',
    );
    // A plain message afterwards still goes to Skype, and the commands did not.
    await sendAndReceive(dm, BOB, { msgtype: "m.text", body: "after the commands" });
    assert.deepEqual(
      chatTo(env, BOB)
        .slice(count)
        .map((m) => m.body),
      ["after the commands"],
    );
  });
});
