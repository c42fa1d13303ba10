// SPDX-License-Identifier: Apache-2.0
/**
 * Replies and read receipts (PROFILE §7.4, §7.5) against a real Synapse, the bridge process and the
 * reference server: a reply each way points at the right message on the other side, a quote of an
 * unknown message stays readable, a read receipt each way moves the other side's read state, and
 * `m.read.private` never reaches Skype.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseQuotes } from "../../src/skype/msnp/quotes.js";
import { ControlClient } from "./harness/control.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

describe("replies and read receipts", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let control: ControlClient;
  let dm: string;
  let bob: string;

  /** Bob says `text` on Skype; resolves with its Message-ID and the Matrix event it became. */
  async function bobSays(text: string): Promise<{ messageId: string; event: RoomEvent }> {
    const sent = env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text });
    const event = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.content.body === text,
      `"${text}" to arrive`,
    );
    return { messageId: String(sent.messageId), event };
  }

  /** Chat messages alice's client sent to bob, in order. */
  function sentToBob(): { type: string; body: string }[] {
    return env.skype.msnp
      .receivedMessages({ user: "alice@hotmail.co.uk" })
      .filter((r) => r.to === BOB && !r.messageType.toLowerCase().startsWith("control/"))
      .map((r) => ({ type: r.messageType, body: r.body }));
  }

  /** The Message-ID alice's latest horizon in her conversation with bob names (undefined: none yet). */
  async function aliceHorizon(): Promise<string | undefined> {
    const hs = await control.horizons({ conversation: BOB, user: ALICE_SKYPE });
    return hs[0] === undefined ? undefined : String(hs[0].messageId);
  }

  before(async () => {
    env = await E2EEnv.create();
    control = new ControlClient(env.skype.controlUrl);
    human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    ({ room: dm, puppet: bob } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE_SKYPE,
      text: "Hi Alice, it's Bob",
      senderPattern: /bob/,
    }));
  });
  after(async () => {
    await env?.close();
  });

  test("a Skype quote becomes a Matrix reply to the bridged event, without the quoted text", async () => {
    const { messageId, event: original } = await bobSays("the original question");
    await control.quote({ from: BOB, to: ALICE_SKYPE, messageId, text: "and my own answer" });
    const reply = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && e.content.body === "and my own answer",
      "the reply",
    );
    assert.deepEqual(reply.content["m.relates_to"], { "m.in_reply_to": { event_id: original.event_id } });
    assert.ok(!JSON.stringify(reply.content).includes("original question"), JSON.stringify(reply.content));
  });

  test("a Matrix reply becomes a Skype quote whose messageid is the original's", async () => {
    const { messageId, event: original } = await bobSays("what do you think?");
    const before = sentToBob().length;
    // As Element sends it before spec v1.13: with the reply fallback, which must not reach Skype.
    await human.sendMessage(dm, {
      msgtype: "m.text",
      body: `> <${bob}> what do you think?\n\nI think **yes**`,
      format: "org.matrix.custom.html",
      formatted_body:
        `<mx-reply><blockquote><a href="https://matrix.to/#/${dm}/${original.event_id}">In reply to</a> ` +
        `<a href="https://matrix.to/#/${bob}">${bob}</a><br>what do you think?</blockquote></mx-reply>I think <b>yes</b>`,
      "m.relates_to": { "m.in_reply_to": { event_id: original.event_id } },
    });
    const sdg = await waitFor(() => sentToBob()[before], { timeoutMs: 30_000, what: "the reply on Skype" });
    assert.equal(sdg.type, "RichText");
    const quotes = parseQuotes(sdg.body);
    assert.equal(quotes.length, 1);
    assert.equal(quotes[0]!.messageId, messageId);
    assert.equal(quotes[0]!.author, BOB);
    assert.equal(quotes[0]!.richText, "what do you think?");
    assert.ok(sdg.body.endsWith("</quote>I think <b>yes</b>"), sdg.body);
    assert.ok(!sdg.body.includes("In reply to"), sdg.body);
  });

  test("a quote of a message the bridge never saw stays in the body as a blockquote", async () => {
    await control.sendRaw({
      from: BOB,
      to: ALICE_SKYPE,
      messageType: "RichText",
      body:
        `<quote author="${BOB}" authorname="Bob" timestamp="1700000000" conversation="${ALICE_SKYPE}" messageid="999999999">` +
        `<legacyquote>[old] Bob: </legacyquote>words from long ago<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>remember?`,
    });
    const ev = await human.waitForEvent(
      (e) => e.room_id === dm && e.sender === bob && String(e.content.body).endsWith("remember?"),
      "the message with the unknown quote",
    );
    assert.equal(ev.content["m.relates_to"], undefined);
    assert.match(
      String(ev.content.formatted_body),
      /<blockquote>.*words from long ago.*<\/blockquote>remember\?/s,
    );
    assert.ok(!String(ev.content.body).includes("[old]"), "the legacy text is dropped");
  });

  test("the user's read receipt moves the Skype horizon; m.read.private never does", async () => {
    const { messageId: first, event: e1 } = await bobSays("read receipt one");
    await human.sendReadReceipt(dm, e1.event_id);
    await waitFor(async () => (await aliceHorizon()) === first, { timeoutMs: 30_000, what: "the horizon" });

    const { messageId: second, event: e2 } = await bobSays("read receipt two");
    const { event: e3 } = await bobSays("read receipt three");
    // Private first, on the newest; then public on the one before. Had the private one been bridged,
    // the horizon would be at three, and the public receipt (backwards) would leave it there.
    await human.doRequest(
      "POST",
      `/_matrix/client/v3/rooms/${encodeURIComponent(dm)}/receipt/m.read.private/${encodeURIComponent(e3.event_id)}`,
      null,
      {},
    );
    await human.sendReadReceipt(dm, e2.event_id);
    await waitFor(async () => (await aliceHorizon()) === second, {
      timeoutMs: 30_000,
      what: "the public receipt's horizon",
    });
  });

  test("a contact's read horizon becomes their puppet's m.read receipt on the user's message", async () => {
    const before = sentToBob().length;
    const eventId = await human.sendMessage(dm, { msgtype: "m.text", body: "did you read this?" });
    await waitFor(() => sentToBob()[before], { timeoutMs: 30_000, what: "the message on Skype" });
    const stored = await waitFor(
      async () =>
        (await control.messages({ user: "bob@outlook.com", conversation: ALICE_SKYPE })).find(
          (m) => m.content === "did you read this?",
        ),
      { what: "the stored message" },
    );
    await control.read({ user: BOB, conversation: ALICE_SKYPE, messageId: stored.id });
    await human.waitForEphemeral((e) => {
      if (e.room_id !== dm || e.type !== "m.receipt") return false;
      const reads = (e.content[eventId] as { "m.read"?: Record<string, unknown> } | undefined)?.["m.read"];
      return reads?.[bob] !== undefined;
    }, "bob's receipt on the message");
  });
});
