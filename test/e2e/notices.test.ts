// SPDX-License-Identifier: Apache-2.0
/**
 * What the user is told, end to end: a send Skype refuses is answered in the room; a Skype account
 * whose sign-in is revoked is reported once in the management room, as a message that notifies; a
 * short drop of the connection that heals by itself is not reported at all.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { puppetMxid } from "../../src/bridge/ghosts/ids.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE = "8:live:alice_1";

describe("notices to the user", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let mgmt: string;

  const botMessages = (room: string): string[] =>
    human.timeline
      .filter((e) => e.room_id === room && e.sender === env.botUserId && e.type === "m.room.message")
      .map((e) => String(e.content.body));

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
  });
  after(async () => {
    await env?.close();
  });

  test("a message to someone Skype does not know is answered with a notice, not lost silently", async () => {
    const nobody = puppetMxid("skype_{id}", "8:nobody.at.all", env.synapse.domain);
    const room = await human.createRoom({
      invite: [nobody],
      is_direct: true,
      preset: "trusted_private_chat",
    });
    await human.waitForEvent(
      (e) =>
        e.room_id === room &&
        e.type === "m.room.member" &&
        e.state_key === nobody &&
        e.content.membership === "join",
      "the puppet to join",
    );
    const eventId = await human.sendText(room, "hello?");
    const notice = await human.waitForEvent(
      (e) =>
        e.room_id === room &&
        e.type === "m.room.message" &&
        e.content.msgtype === "m.notice" &&
        (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.[
          "m.in_reply_to"
        ]?.event_id === eventId,
      "the failure notice",
    );
    assert.match(String(notice.content.body), /^⚠️ Your message was not bridged: .*217/);
  });

  test("a dropped connection that comes back by itself is not reported", async () => {
    const before = botMessages(mgmt).length;
    env.skype.msnp.dropUser({ user: "alice@hotmail.co.uk" });
    await waitFor(() => !env.skypeOnline(ALICE), { what: "the drop", timeoutMs: 5_000 }).catch(
      () => undefined,
    );
    await waitFor(() => env.skypeOnline(ALICE), { what: "alice to reconnect", timeoutMs: 30_000 });
    // The notice delay is 10 s; wait past it before looking.
    await new Promise((r) => setTimeout(r, 11_000));
    assert.deepEqual(botMessages(mgmt).slice(before), []);
  });

  test("revoked credentials are reported once, as a message that notifies", async () => {
    const before = botMessages(mgmt).length;
    const seen = human.timeline.length;
    const alice = env.skype.world.mustFind("alice@hotmail.co.uk");
    env.skype.world.revokeAll(alice);
    env.skype.msnp.dropUser({ user: "alice@hotmail.co.uk" });
    const report = await human.waitForEvent(
      (e) =>
        e.room_id === mgmt &&
        e.sender === env.botUserId &&
        human.timeline.indexOf(e) >= seen &&
        /sign in again|login/i.test(String(e.content.body)),
      "the bad-credentials report",
      60_000,
    );
    assert.equal(report.content.msgtype, "m.text");
    await new Promise((r) => setTimeout(r, 3_000));
    const reports = botMessages(mgmt)
      .slice(before)
      .filter((b) => /sign in again|login/i.test(b));
    assert.equal(reports.length, 1, reports.join("\n"));
    assert.match(await env.command(human, mgmt, "whoami"), /State: .*(sign in again|login)/i);
  });
});
