// SPDX-License-Identifier: Apache-2.0
/**
 * Presence that tells the truth, against a real Synapse, the bridge process and the reference
 * server: after a connection the server dropped, contacts' puppets show what the server says now
 * (not what it said before the drop); after a logout no contact's puppet stays online.
 *
 * Synapse itself would take a puppet offline about 30 s after the bridge stops re-sending its
 * presence; the bridge re-sends every 25 s. Every wait for "offline" here is shorter than that, so
 * only the bridge saying so can pass it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const ALICE = "alice@hotmail.co.uk";
const ALICE_SKYPE = "8:live:alice_1";
const BOB = "bob@outlook.com";
const DAVE = "dave.lister";
/** Shorter than Synapse's own presence timeout (30 s). */
const BRIDGE_SAYS_SO_MS = 15_000;

describe("presence", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let mgmt: string;
  let bobPuppet: string;
  let davePuppet: string;

  /** The puppet's presence as Synapse answers it to the human. */
  async function presenceOf(puppet: string): Promise<string> {
    const path = `/_matrix/client/v3/presence/${encodeURIComponent(puppet)}/status`;
    const res = (await human.doRequest("GET", path)) as { presence?: string };
    return res.presence ?? "";
  }

  async function shows(puppet: string, state: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => (await presenceOf(puppet)) === state, {
      timeoutMs,
      intervalMs: 200,
      what: `${puppet} to be ${state}`,
    });
  }

  function aliceConnections(): number[] {
    return env.skype.msnp
      .endpoints()
      .filter((e) => e.ready && e.identities.includes(ALICE_SKYPE))
      .map((e) => e.connection);
  }

  before(async () => {
    env = await E2EEnv.create();
    human = await env.human("alice");
    mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    // The human shares a DM with each contact's puppet, so Synapse shows her their presence.
    ({ puppet: bobPuppet } = await env.dmFromContact(human, {
      from: "8:live:bob_1",
      to: ALICE_SKYPE,
      text: "hi from bob",
      senderPattern: /bob/,
    }));
    ({ puppet: davePuppet } = await env.dmFromContact(human, {
      from: "8:dave.lister",
      to: ALICE_SKYPE,
      text: "hi from dave",
      senderPattern: /dave/,
    }));
  });
  after(async () => {
    await env?.close();
  });

  test("after a server-dropped connection presence is rebuilt from what the server says", async () => {
    env.skype.msnp.setPresence({ user: BOB, status: "NLN" });
    env.skype.msnp.setPresence({ user: DAVE, status: "NLN" });
    await shows(bobPuppet, "online");
    await shows(davePuppet, "online");
    const [connection] = aliceConnections();

    // The server cuts alice's connection; while it is down bob signs out and dave goes away. The
    // server tells nobody's old connection: only the new one's documents say so.
    env.skype.msnp.dropUser({ user: ALICE });
    env.skype.msnp.setPresence({ user: BOB, status: "offline" });
    env.skype.msnp.setPresence({ user: DAVE, status: "AWY" });
    await waitFor(() => aliceConnections().some((c) => c !== connection), {
      timeoutMs: 30_000,
      what: "alice's new connection",
    });
    await shows(davePuppet, "unavailable", BRIDGE_SAYS_SO_MS);
    await shows(bobPuppet, "offline", BRIDGE_SAYS_SO_MS);

    // And it goes on following the server.
    env.skype.msnp.setPresence({ user: BOB, status: "NLN" });
    await shows(bobPuppet, "online");
    assert.equal(await presenceOf(davePuppet), "unavailable");
  });

  test("a logout takes every contact's puppet offline", async () => {
    env.skype.msnp.setPresence({ user: DAVE, status: "NLN" });
    await shows(bobPuppet, "online");
    await shows(davePuppet, "online");
    const reply = await env.command(human, mgmt, "logout");
    assert.match(reply, /logged out|unlinked|forgot/i);
    await shows(bobPuppet, "offline", BRIDGE_SAYS_SO_MS);
    await shows(davePuppet, "offline", BRIDGE_SAYS_SO_MS);
  });
});
