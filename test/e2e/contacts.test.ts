// SPDX-License-Identifier: Apache-2.0
/** Starting chats from the management room: `contacts`, `pm`, `add-contact`. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { puppetMxid } from "../../src/bridge/ghosts/ids.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

describe("starting chats from the management room", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let mgmt: string;

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    mgmt = await env.openManagementRoom(human);
  });
  after(async () => {
    await env?.close();
  });

  test("before linking, the commands say to log in", async () => {
    assert.equal(
      await env.command(human, mgmt, "contacts"),
      "You are not logged in to Skype. Send `login <e-mail>` or `login` first.",
    );
  });

  test("contacts lists every contact with both identities and its Matrix user", async () => {
    await env.linkSkype(human, mgmt);
    const list = await waitFor(
      async () => {
        const reply = await env.command(human, mgmt, "contacts");
        return reply.startsWith("Your Skype contacts (3)") ? reply : undefined;
      },
      { what: "the contact list", timeoutMs: 30_000, intervalMs: 500 },
    );
    const lines = list.split("\n").slice(1);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^• Bob Builder — 1:bob@outlook\.com, 8:live:bob_1 — @skype_/);
    assert.match(lines[1]!, /^• Dave Lister — 8:dave\.lister — @skype_8=3adave\.lister:localhost$/);
    assert.match(lines[2]!, /^• Echo \/ Sound Test Service — 8:echo123 — /);
  });

  test("pm opens the chat with a contact who never wrote; what the user writes reaches them", async () => {
    const reply = await env.command(human, mgmt, "pm dave");
    const roomId = /matrix\.to\/#\/(!\S+) /.exec(reply)?.[1];
    assert.ok(roomId, reply);
    const dave = puppetMxid("skype_{id}", "8:dave.lister", "localhost");
    await human.waitForInvite((r, e) => r === roomId && e.sender === dave, "the invite from dave's puppet");
    await human.joinRoom(roomId);
    await human.sendText(roomId, "Hi Dave!");
    await waitFor(
      () =>
        env.skype.msnp
          .storedMessages({ conversation: "8:dave.lister" })
          .some((m) => m.from === "8:live:alice_1" && m.content === "Hi Dave!"),
      { what: "the message on Skype" },
    );
    // Asking again gives the same room, not a new one.
    assert.match(
      await env.command(human, mgmt, "pm Dave Lister"),
      new RegExp(roomId.replace(/[.$!]/g, "\\$&")),
    );
    assert.match(
      await env.command(human, mgmt, "pm nobody-like-this"),
      /^No contact matches "nobody-like-this"/,
    );
  });

  test("add-contact sends a Skype contact request", async () => {
    assert.equal(
      await env.command(human, mgmt, "add-contact zed@outlook.com Let's talk"),
      "Sent a contact request to zed@outlook.com. Their chat appears here once they accept.",
    );
    const zed = env.skype.world.mustFind("zed@outlook.com");
    assert.equal(zed.pending.get("alice@hotmail.co.uk"), "Let's talk");
    assert.match(
      await env.command(human, mgmt, "add-contact no.such.person"),
      /^Could not send the contact request/,
    );
  });
});
