// SPDX-License-Identifier: Apache-2.0
/**
 * Sign-in safety through a real Synapse: the management room is a room with only the user and the
 * bot, and a password typed while a login waits is taken as the password even across a restart.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

describe("sign-in safety", () => {
  let env: E2EEnv;
  let carol: HumanClient;
  let dave: HumanClient;

  before(async () => {
    env = await E2EEnv.create();
    carol = await env.human("carol");
    dave = await env.human("dave");
  });
  after(async () => {
    await env?.close();
  });

  const botSaid = (human: HumanClient, roomId: string, re: RegExp) =>
    human.waitForEvent(
      (e) =>
        e.room_id === roomId &&
        e.sender === env.botUserId &&
        typeof e.content.body === "string" &&
        re.test(e.content.body),
      `the bot to say ${re}`,
    );
  const botLeft = (human: HumanClient, roomId: string) =>
    human.waitForEvent(
      (e) =>
        e.room_id === roomId &&
        e.type === "m.room.member" &&
        e.state_key === env.botUserId &&
        e.content.membership === "leave",
      "the bot to leave",
    );

  test("a room with someone else in it never becomes the management room; the bot says why once and leaves", async () => {
    const dm = await env.openManagementRoom(carol);
    const group = await carol.createRoom({ invite: [dave.mxid, env.botUserId], preset: "private_chat" });
    await botSaid(carol, group, /^I only work in a direct chat with just you and me/);
    await botLeft(carol, group);
    assert.ok(
      !carol
        .messagesIn(group, { fromOthers: true })
        .some((e) => /^Hello!|^Send the password/.test(String(e.content.body))),
    );
    // The direct chat is still the management room.
    assert.match(await env.command(carol, dm, "whoami"), /^You are not logged in to Skype/);
  });

  test("when someone else enters a management room it stops being one, and a waiting login is dropped", async () => {
    const dm = await env.openManagementRoom(dave);
    assert.match(
      await env.command(dave, dm, "login dave@example.org"),
      /^Send the password of dave@example\.org/,
    );
    await dave.inviteUser(carol.mxid, dm);
    await botSaid(dave, dm, /^Someone else is in this room now/);
    await botLeft(dave, dm);
    // A new direct chat works, and no login waits there.
    const fresh = await env.openManagementRoom(dave);
    assert.match(await env.command(dave, fresh, "cancel"), /^There is no login in progress\./);
  });

  test("a password sent after the bridge restarted mid-login is used and redacted, never read as a command", async () => {
    const alice = await env.human("alice");
    const room = await env.openManagementRoom(alice);
    assert.match(await env.command(alice, room, "login alice@hotmail.co.uk"), /^Send the password/);
    await env.stopBridge("SIGKILL");
    await env.startBridge();
    const reply = await env.command(alice, room, "wonderland");
    assert.match(reply, /^Linked to Skype as Alice Liddell/);
    const pw = alice.timeline.find((e) => e.room_id === room && e.content.body === "wonderland");
    assert.ok(pw);
    await waitFor(
      () =>
        alice.timeline.some(
          (e) =>
            e.type === "m.room.redaction" && (e.redacts === pw.event_id || e.content.redacts === pw.event_id),
        ),
      { what: "the password message to be redacted" },
    );
    assert.ok(
      !alice
        .messagesIn(room, { fromOthers: true })
        .some((e) => String(e.content.body).includes("wonderland")),
    );
    assert.ok(!env.bridgeLines.join("\n").includes("wonderland"), "the password is not in the log");
  });
});
