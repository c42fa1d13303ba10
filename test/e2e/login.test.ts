// SPDX-License-Identifier: Apache-2.0
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { browserSignIn } from "./harness/browser.js";
import { waitFor } from "./harness/util.js";

describe("linking a Skype account from the management room", () => {
  let env: E2EEnv;
  let alice: HumanClient;
  let aliceRoom: string;
  let bob: HumanClient;
  let bobRoom: string;

  const connected = (identity: string): boolean =>
    env.skype.msnp.endpoints().some((e) => e.ready && e.identities.includes(identity));

  before(async () => {
    env = await E2EEnv.create();
    alice = await env.human("alice");
    aliceRoom = await env.openManagementRoom(alice);
    bob = await env.human("bob");
    bobRoom = await env.openManagementRoom(bob);
  });
  after(async () => {
    await env?.close();
  });

  test("whoami before linking says how to log in", async () => {
    assert.match(
      await env.command(alice, aliceRoom, "whoami"),
      /^You are not logged in to Skype\. Send `login/,
    );
  });

  test("a wrong password gets one clear message and the password message is redacted", async () => {
    const ask = await env.command(alice, aliceRoom, "login alice@hotmail.co.uk");
    assert.match(ask, /^Send the password of alice@hotmail\.co\.uk as your next message/);
    const reply = await env.command(alice, aliceRoom, "not-the-password");
    assert.match(reply, /^Login failed: .*incorrect.* Send `login <e-mail>` to try again\.$/);
    const pw = alice.timeline.find((e) => e.room_id === aliceRoom && e.content.body === "not-the-password");
    assert.ok(pw);
    await waitFor(
      () =>
        alice.timeline.some(
          (e) =>
            e.type === "m.room.redaction" && (e.redacts === pw.event_id || e.content.redacts === pw.event_id),
        ),
      { what: "the password message to be redacted" },
    );
  });

  test("password login links the account and the session connects", async () => {
    await env.command(alice, aliceRoom, "login alice@hotmail.co.uk");
    const reply = await env.command(alice, aliceRoom, "wonderland");
    assert.equal(
      reply,
      "Linked to Skype as Alice Liddell (1:alice@hotmail.co.uk, 8:live:alice_1). Your contacts' messages will appear in rooms of their own.",
    );
    await waitFor(() => connected("8:live:alice_1"), { what: "alice's MSNP endpoint", timeoutMs: 30_000 });
    const who = await env.command(alice, aliceRoom, "whoami");
    assert.match(
      who,
      /^Linked Skype account: alice@hotmail\.co\.uk \(1:alice@hotmail\.co\.uk, 8:live:alice_1\)\.\nState: Connected/,
    );
  });

  test("browser login: the pasted final address links the account", async () => {
    const instructions = await env.command(bob, bobRoom, "login");
    const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth20_authorize\.srf\?\S+)/.exec(instructions)?.[1];
    assert.ok(url, instructions);
    const final = await browserSignIn(url, "bob@outlook.com", "canwefixit");
    const reply = await env.command(bob, bobRoom, final);
    assert.match(reply, /^Linked to Skype as Bob Builder \(1:bob@outlook\.com, 8:live:bob_1\)\./);
    await waitFor(() => connected("8:live:bob_1"), { what: "bob's MSNP endpoint", timeoutMs: 30_000 });
  });

  test("after a restart (even a SIGKILL) every linked account comes back without the user doing anything", async () => {
    await env.stopBridge("SIGKILL");
    await env.startBridge();
    await waitFor(() => connected("8:live:alice_1") && connected("8:live:bob_1"), {
      what: "both sessions to come back",
      timeoutMs: 60_000,
    });
  });

  test("no password or token ever reaches the bridge's log", () => {
    const log = env.bridgeLines.join("\n");
    assert.ok(!log.includes("wonderland"));
    assert.ok(!log.includes("canwefixit"));
    assert.ok(!log.includes("not-the-password"));
    assert.ok(!/access_token=[A-Za-z0-9]/.test(log));
  });

  test("logout stops the session and forgets the account", async () => {
    const reply = await env.command(alice, aliceRoom, "logout");
    assert.equal(reply, "Logged out of Skype. The bridge has forgotten your tokens.");
    await waitFor(() => !connected("8:live:alice_1"), { what: "alice's endpoint to go away" });
    assert.match(await env.command(alice, aliceRoom, "whoami"), /^You are not logged in to Skype/);
    assert.equal(await env.command(alice, aliceRoom, "logout"), "You are not logged in to Skype.");
  });
});
