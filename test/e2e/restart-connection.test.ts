// SPDX-License-Identifier: Apache-2.0
/**
 * The Skype connection dropped by the server during bursts, and access tokens expiring during a
 * conversation: nothing lost, nothing repeated, order kept, the conversation goes on.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE = "alice@hotmail.co.uk";
const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";
/** Access tokens live this long (seconds), so they expire during the test. */
const TOKEN_LIFETIME = 12;

function storedFromAlice(env: E2EEnv): string[] {
  return env.skype.msnp
    .storedMessages({ user: ALICE, conversation: BOB })
    .filter((m) => m.from === ALICE_SKYPE && !m.editedId)
    .sort((a, b) => a.id - b.id)
    .map((m) => m.content);
}

function aliceEndpoints(env: E2EEnv) {
  return env.skype.msnp.endpoints().filter((e) => e.ready && e.identities.includes(ALICE_SKYPE));
}

describe("connection drops and token expiry", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;
  let bobPuppet: string;
  let linkedAt: number;

  const fromBob = (): string[] =>
    human
      .messagesIn(dm, { fromOthers: true })
      .filter((e) => e.sender === bobPuppet)
      .map((e) => String(e.content.body));

  before(async () => {
    env = await E2EEnv.create({ refserver: { tokenLifetime: TOKEN_LIFETIME } });
    human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    linkedAt = Date.now();
    await env.linkSkype(human, mgmt);
    ({ room: dm, puppet: bobPuppet } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE_SKYPE,
      text: "hello",
      senderPattern: /bob/,
    }));
  });
  after(async () => {
    await env?.close();
  });

  test("a Matrix burst while the server drops the connection arrives once, in order", async () => {
    const burst = Array.from({ length: 12 }, (_, i) => `burst ${i + 1}`);
    const connection = aliceEndpoints(env)[0]?.connection;
    for (const text of burst.slice(0, 4)) await human.sendText(dm, text);
    await waitFor(() => storedFromAlice(env).length >= 4, { what: "the start of the burst" });
    // The server cuts the connection after two more frames from the bridge: mid-burst.
    env.skype.msnp.dropUser({ user: ALICE, afterFrames: 2 });
    for (const text of burst.slice(4)) await human.sendText(dm, text);
    await waitFor(() => storedFromAlice(env).length >= burst.length, {
      timeoutMs: 60_000,
      what: "the burst",
    });
    await waitFor(() => aliceEndpoints(env).some((e) => e.connection !== connection), {
      what: "a new connection",
    });
    await human.sendText(dm, "after the burst");
    await waitFor(() => storedFromAlice(env).includes("after the burst"), { what: "the marker" });
    assert.deepEqual(storedFromAlice(env), [...burst, "after the burst"]);
  });

  test("a Skype burst while the connection is down arrives once, in order", async () => {
    env.skype.msnp.dropUser({ user: ALICE });
    const burst = Array.from({ length: 10 }, (_, i) => `skype ${i + 1}`);
    for (const text of burst) env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text });
    await waitFor(() => fromBob().length >= burst.length + 1, { timeoutMs: 60_000, what: "the Skype burst" });
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "marker" });
    await waitFor(() => fromBob().includes("marker"), { what: "the marker" });
    assert.deepEqual(fromBob(), ["hello", ...burst, "marker"]);
  });

  test("after the access tokens expired the conversation goes on, across a reconnect", async () => {
    await waitFor(() => Date.now() > linkedAt + (TOKEN_LIFETIME + 2) * 1000, {
      timeoutMs: (TOKEN_LIFETIME + 5) * 1000,
      intervalMs: 250,
      what: "the first access tokens to expire",
    });
    await human.sendText(dm, "still here?");
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "yes" });
    await waitFor(() => storedFromAlice(env).includes("still here?") && fromBob().includes("yes"), {
      what: "both directions after expiry",
    });
    // A fresh sign-in on the MSNP side needs fresh tokens.
    env.skype.msnp.dropUser({ user: ALICE });
    await human.sendText(dm, "after reconnect");
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE_SKYPE, text: "welcome back" });
    await waitFor(
      () => storedFromAlice(env).includes("after reconnect") && fromBob().includes("welcome back"),
      {
        timeoutMs: 60_000,
        what: "both directions after the reconnect",
      },
    );
    assert.equal(storedFromAlice(env).filter((t) => t === "after reconnect").length, 1);
    assert.equal(fromBob().filter((t) => t === "welcome back").length, 1);
  });
});
