// SPDX-License-Identifier: Apache-2.0
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

describe("management room against a real Synapse", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let roomId: string;

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    roomId = await env.openManagementRoom(human);
  });
  after(async () => {
    await env?.close();
  });

  test("the bot joins a DM and greets with the command list", () => {
    const greeting = human.timeline.find(
      (e) => e.room_id === roomId && e.sender === env.botUserId && e.type === "m.room.message",
    );
    assert.ok(greeting);
    assert.match(String(greeting.content.body), /Hello! I am the Skype bridge bot/);
    assert.match(String(greeting.content.body), /help — show this list/);
    assert.equal(greeting.content.msgtype, "m.notice");
  });

  test("the bot carries its configured display name", async () => {
    const profile = (await human.getUserProfile(env.botUserId)) as { displayname?: string };
    assert.equal(profile.displayname, "Skype bridge bot");
  });

  test("help lists the commands", async () => {
    const reply = await env.command(human, roomId, "help");
    for (const cmd of ["help", "version", "ping"]) assert.match(reply, new RegExp(`• ${cmd}`));
  });

  test("version and ping answer", async () => {
    assert.match(await env.command(human, roomId, "version"), /^skype-matrix-bridge \d+\.\d+\.\d+/);
    assert.match(await env.command(human, roomId, "ping"), /^Pong\. .* in \d+ ms\.$/);
  });

  test("an unknown command gets a helpful reply", async () => {
    const reply = await env.command(human, roomId, "hepl");
    assert.equal(reply, 'Unknown command "hepl". Did you mean "help"? Send "help" for the list of commands.');
  });

  test("a Matrix user's typing reaches the bridge (ephemeral events are delivered)", async () => {
    await human.setTyping(roomId, true, 10_000);
    await waitFor(
      () =>
        env.bridgeLines.some(
          (l) => l.includes("typing notification received") && l.includes(roomId) && l.includes(human.mxid),
        ),
      { timeoutMs: 20_000, what: "the bridge to log the typing notification" },
    );
  });

  test("SIGTERM shuts the bridge down cleanly", async () => {
    const code = await env.stopBridge("SIGTERM");
    assert.equal(code, 0);
    assert.ok(env.bridgeLines.some((l) => l.includes("received SIGTERM, shutting down")));
    assert.ok(env.bridgeLines.some((l) => /\[main\] stopped/.test(l)));
  });
});
