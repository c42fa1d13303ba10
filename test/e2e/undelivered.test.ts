// SPDX-License-Identifier: Apache-2.0
/**
 * Nothing lost in silence, against a real Synapse: a Skype message Synapse refuses for good (too
 * large for an event) is reported to the user in the portal room — who sent it, when and why, not
 * its content — the conversation goes on, and after a restart the reported message is not
 * fetched and reported again (the catch-up cursor moved past it once it was reported).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient, RoomEvent } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

describe("undelivered Skype messages", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;
  let bobPuppet: string;

  const timeline = (): RoomEvent[] => human.messagesIn(dm, { fromOthers: true });
  const notices = (): RoomEvent[] =>
    timeline().filter(
      (e) => e.sender === env.botUserId && /could not be bridged/.test(String(e.content.body)),
    );
  const bodiesFromBob = (): string[] =>
    timeline()
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
  });
  after(async () => {
    await env?.close();
  });

  test("a message Synapse refuses is reported in the room; later messages still arrive", async () => {
    // Synapse refuses events over 64 KiB (M_TOO_LARGE); Skype does not mind.
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "x".repeat(70_000) });
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "S2" });
    await waitFor(() => bodiesFromBob().includes("S2"), { timeoutMs: 30_000, what: "S2" });
    const [notice] = notices();
    assert.ok(notice, "the user was told");
    const body = String(notice.content.body);
    assert.equal(notice.content.msgtype, "m.notice");
    assert.match(
      body,
      /^⚠️ A message from Bob\b.*, sent \d{4}-\d\d-\d\d \d\d:\d\d UTC, could not be bridged: /,
    );
    assert.match(body, /too large/);
    assert.doesNotMatch(body, /xxxx|M_TOO_LARGE/);
    const order = timeline().map((e) => (e === notice ? "notice" : String(e.content.body)));
    assert.deepEqual(order, ["S1", "notice", "S2"]);
  });

  test("after a restart the reported message is not fetched and reported again", async () => {
    const caughtUp = (): number => env.bridgeLines.filter((l) => l.includes("caught up with Skype")).length;
    const before = caughtUp();
    await env.stopBridge("SIGTERM");
    await env.startBridge();
    await waitFor(() => caughtUp() > before, { timeoutMs: 60_000, what: "the restarted bridge to catch up" });
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "S3" });
    await waitFor(() => bodiesFromBob().includes("S3"), { timeoutMs: 30_000, what: "S3" });
    // Catch-up ran and S3 came through the same portal queue after it: a second report would be here.
    assert.equal(notices().length, 1);
    assert.deepEqual(bodiesFromBob(), ["S1", "S2", "S3"]);
  });
});
