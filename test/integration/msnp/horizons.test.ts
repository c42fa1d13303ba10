// SPDX-License-Identifier: Apache-2.0
// Read state (PROFILE §7.5) and quotes (§7.4) between the client and the reference server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseQuotes, quoteXml } from "../../../src/skype/msnp/quotes.js";
import { next, online, startEnv } from "./helpers.js";

test("horizons: PUT MSGR\\CONSUMPTIONHORIZON reaches the contact and the user's other endpoint, and RECENTCONVERSATIONS after a reconnect", async (t) => {
  const env = await startEnv(t);
  const alice = env.client("alice@hotmail.co.uk");
  const aliceElsewhere = env.client("alice@hotmail.co.uk", {
    epid: "{00000000-0000-0000-0000-0000000000a2}",
  });
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(aliceElsewhere);
  await online(bob);

  const got = next(alice, "message");
  const sent = bob.sendText("8:live:alice_1", "read me");
  await sent.delivered;
  const [m] = await got;

  const toBob = next(bob, "horizon");
  const toOther = next(aliceElsewhere, "horizon");
  await alice.setConsumptionHorizon(m.conversation, m.messageId!, m.clientMessageId);
  const [hb] = await toBob;
  assert.equal(hb.fromMe, false);
  assert.equal(hb.conversation, "8:live:alice_1");
  assert.equal(hb.user, "8:live:alice_1");
  assert.equal(hb.horizon.messageId, m.messageId);
  assert.equal(hb.horizon.clientMessageId, sent.clientMessageId);
  assert.equal(hb.source, "live");
  const [ho] = await toOther;
  assert.equal(ho.fromMe, true);
  assert.equal(ho.conversation, "8:live:bob_1");
  assert.equal(ho.horizon.messageId, m.messageId);

  // What the server kept: the latest horizon of the reader.
  const stored = env.server.horizons({ conversation: "8:live:bob_1", user: "8:live:alice_1" });
  assert.equal(stored.length, 1);
  assert.equal(String(stored[0]!.messageId), m.messageId);

  // The contact reads (control route): the user gets the contact's horizon.
  const toAlice = next(alice, "horizon", (h) => !h.fromMe);
  env.server.read({
    user: "bob@outlook.com",
    conversation: "8:live:alice_1",
    messageId: Number(m.messageId),
  });
  const [ha] = await toAlice;
  assert.equal(ha.conversation, "8:live:bob_1");
  assert.equal(ha.user, "8:live:bob_1");
  assert.equal(ha.horizon.messageId, m.messageId);

  // A new connection learns both horizons from RECENTCONVERSATIONS, after its catch-up.
  const later = env.client("alice@hotmail.co.uk", { epid: "{00000000-0000-0000-0000-0000000000a3}" });
  const recent: { user: string; fromMe: boolean; messageId?: string; source: string }[] = [];
  later.on("horizon", (h) =>
    recent.push({ user: h.user, fromMe: h.fromMe, messageId: h.horizon.messageId, source: h.source }),
  );
  await online(later);
  const forBob = recent.filter((h) => h.source === "recent");
  assert.deepEqual(forBob.map((h) => [h.fromMe, h.messageId]).sort(), [
    [false, m.messageId],
    [true, m.messageId],
  ]);
});

test("quotes: a quote written by the client reaches the contact as sent and reads back", async (t) => {
  const env = await startEnv(t);
  const alice = env.client("alice@hotmail.co.uk", { displayName: "Alice" });
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(bob);
  const got = next(bob, "message");
  await alice.sendText("8:live:bob_1", "the original & more").delivered;
  const [orig] = await got;

  const reply = next(bob, "message");
  const body =
    quoteXml({
      author: "8:live:alice_1",
      authorName: "Alice",
      timestampMs: Date.parse(orig.arrivalTime!),
      conversation: "8:live:bob_1",
      messageId: orig.messageId,
      richText: "the original &amp; more",
    }) + "my <b>answer</b>";
  await alice.sendRichText("8:live:bob_1", body).delivered;
  const [r] = await reply;
  assert.equal(r.body, body);
  const [q] = parseQuotes(r.body);
  assert.equal(q!.messageId, orig.messageId);
  assert.equal(q!.author, "8:live:alice_1");
  assert.equal(q!.richText, "the original &amp; more");
});
