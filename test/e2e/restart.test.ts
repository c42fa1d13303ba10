// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge is killed (SIGKILL) mid-conversation while both sides keep writing, then restarted:
 * everything arrives, nothing twice, in order (the complaints every Skype bridge collected).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

/** Bodies of the chat messages alice's Skype account has in its conversation with bob, from alice, oldest first. */
function storedFromAlice(env: E2EEnv): string[] {
  return env.skype.msnp
    .storedMessages({ user: "alice@hotmail.co.uk", conversation: BOB })
    .filter((m) => m.from === ALICE_SKYPE && !m.editedId)
    .sort((a, b) => a.id - b.id)
    .map((m) => m.content);
}

describe("restart after SIGKILL mid-conversation", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;
  let bobPuppet: string;

  /** Bodies of bob's messages in the DM as the human sees them, oldest first. */
  const fromBob = (): string[] =>
    human
      .messagesIn(dm, { fromOthers: true })
      .filter((e) => e.sender === bobPuppet)
      .map((e) => String(e.content.body));

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    ({ room: dm, puppet: bobPuppet } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE_SKYPE,
      text: "S1",
      senderPattern: /bob/,
    }));
    await human.sendText(dm, "M1");
    await waitFor(() => storedFromAlice(env).includes("M1"), { what: "M1 on Skype" });
  });
  after(async () => {
    await env?.close();
  });

  test("messages sent on both sides while the bridge is down arrive once, in order", async () => {
    await env.stopBridge("SIGKILL");
    await waitFor(() => !env.skypeOnline(ALICE_SKYPE), { what: "the killed bridge's endpoint to go away" });
    for (const text of ["S2", "S3", "S4"]) env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text });
    for (const text of ["M2", "M3", "M4"]) await human.sendText(dm, text);
    await env.startBridge();
    await waitFor(() => storedFromAlice(env).length >= 4 && fromBob().length >= 4, {
      timeoutMs: 90_000,
      what: "both directions to catch up",
    });
    assert.deepEqual(storedFromAlice(env), ["M1", "M2", "M3", "M4"]);
    assert.deepEqual(fromBob(), ["S1", "S2", "S3", "S4"]);
    // Caught-up messages keep their Skype arrival time (timestamp massaging), to the second.
    for (const text of ["S2", "S3", "S4"]) {
      const stored = env.skype.msnp.storedMessages({}).find((m) => m.content === text)!;
      const event = human.messagesIn(dm).find((e) => e.content.body === text)!;
      assert.equal(Math.floor(event.origin_server_ts / 1000), Math.floor(stored.arrival / 1000), text);
    }
  });

  test("a send interrupted by SIGKILL is delivered exactly once after the restart", async () => {
    // Sent, then killed at once: whether it got out before the kill or not, it must arrive once.
    await human.sendText(dm, "M5");
    await env.stopBridge("SIGKILL");
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "S5" });
    await human.sendText(dm, "M6");
    await env.startBridge();
    await waitFor(() => storedFromAlice(env).includes("M6") && fromBob().includes("S5"), {
      timeoutMs: 90_000,
      what: "M6 on Skype and S5 in Matrix",
    });
    // A later message proves nothing else is still on its way.
    await human.sendText(dm, "M7");
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "S6" });
    await waitFor(() => storedFromAlice(env).includes("M7") && fromBob().includes("S6"), {
      what: "M7 and S6",
    });
    assert.deepEqual(storedFromAlice(env), ["M1", "M2", "M3", "M4", "M5", "M6", "M7"]);
    assert.deepEqual(fromBob(), ["S1", "S2", "S3", "S4", "S5", "S6"]);
  });
});
