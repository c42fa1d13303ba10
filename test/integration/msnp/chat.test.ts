import { test } from "node:test";
import assert from "node:assert/strict";
import { next, online, startEnv, until } from "./helpers.js";
import type { MessageEvent, PresenceEvent, TypingEvent } from "../../../src/skype/msnp/index.js";

test("chat both ways, /me with a non-ASCII name, edit, delete, typing", async (t) => {
  const env = await startEnv(t);
  const alice = env.client("alice@hotmail.co.uk", { displayName: "Zoë 😀 Ånström" });
  const bob = env.client("bob@outlook.com", { displayName: "Bob Builder" });
  await online(alice);
  await online(bob);

  const got = next(bob, "message");
  const sent = alice.sendText("8:live:bob_1", "Hello Bob ✓");
  await sent.delivered;
  const [m] = await got;
  assert.equal(m.body, "Hello Bob ✓");
  assert.equal(m.format, "text");
  assert.equal(m.conversation, "8:live:alice_1");
  assert.equal(m.sender, "8:live:alice_1");
  assert.equal(m.clientMessageId, sent.clientMessageId);
  assert.equal(m.fromMe, false);
  assert.match(m.messageId ?? "", /^\d+$/);
  assert.match(m.arrivalTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(m.cursor, { conversation: "8:live:alice_1", messageId: m.messageId });

  const back = next(alice, "message");
  await bob.sendRichText("8:live:alice_1", "<b>Hi</b> &amp; welcome").delivered;
  const [r] = await back;
  assert.equal(r.format, "richtext");
  assert.equal(r.body, "<b>Hi</b> &amp; welcome");
  assert.equal(r.conversation, "8:live:bob_1");

  const emote = next(bob, "message");
  await alice.sendEmote("8:live:bob_1", "waves 👋").delivered;
  const [e] = await emote;
  assert.equal(e.emote, true);
  assert.equal(e.body, "waves 👋");
  assert.equal(e.displayName, "Zoë 😀 Ånström");

  const edit = next(bob, "edit");
  await alice.editMessage("8:live:bob_1", sent.clientMessageId, "Hello Bob (edited)").delivered;
  const [ed] = await edit;
  assert.equal(ed.editedId, sent.clientMessageId);
  assert.equal(ed.body, "Hello Bob (edited)");

  const del = next(bob, "delete");
  await alice.deleteMessage("8:live:bob_1", sent.clientMessageId).delivered;
  const [d] = await del;
  assert.equal(d.editedId, sent.clientMessageId);

  const typing: TypingEvent[] = [];
  bob.on("typing", (ev) => typing.push(ev));
  assert.equal(alice.sendTyping("8:live:bob_1", true), true);
  await until(() => typing.length === 1, "typing");
  alice.sendTyping("8:live:bob_1", false);
  await until(() => typing.length === 2, "clear typing");
  assert.deepEqual(
    typing.map((x) => [x.conversation, x.typing]),
    [
      ["8:live:alice_1", true],
      ["8:live:alice_1", false],
    ],
  );

  // Messages from the reference server's contacts: both identities of a person are separate conversations.
  const viaMsa = next(alice, "message", (x) => x.body === "from my e-mail identity");
  env.server.sendMessage({
    from: "1:bob@outlook.com",
    to: "1:alice@hotmail.co.uk",
    text: "from my e-mail identity",
  });
  assert.equal((await viaMsa)[0].conversation, "1:bob@outlook.com");
});

test("presence: status changes and sign-out reach contacts", async (t) => {
  const env = await startEnv(t);
  const alice = env.client("alice@hotmail.co.uk", {
    getContacts: () => Promise.resolve(["8:live:bob_1", "8:echo123"]),
  });
  const bob = env.client("bob@outlook.com", { getContacts: () => Promise.resolve(["8:live:alice_1"]) });
  await online(alice);
  const seen: PresenceEvent[] = [];
  alice.on("presence", (p) => seen.push(p));
  const bobOnline = next(alice, "presence", (p) => p.identity === "8:live:bob_1" && p.status === "NLN");
  await online(bob);
  await bobOnline;
  const busy = next(alice, "presence", (p) => p.identity === "8:live:bob_1" && p.status === "BSY");
  await bob.setPresence("BSY", "building");
  const [b] = await busy;
  assert.equal(b.mood, "building");
  const off = next(alice, "presence", (p) => p.identity === "8:live:bob_1" && p.status === "FLN");
  await bob.stop();
  const [o] = await off;
  assert.equal(o.endpoints, 0);
  assert.ok(seen.every((p) => !p.self || p.identity.endsWith("alice_1")));
});

test("the echo contact 8:echo123 answers", async (t) => {
  const env = await startEnv(t);
  const alice = env.client("alice@hotmail.co.uk");
  await online(alice);
  const echo = next(alice, "message", (m: MessageEvent) => m.conversation === "8:echo123");
  await alice.sendText("8:echo123", "ping 1-2-3").delivered;
  const [m] = await echo;
  assert.equal(m.sender, "8:echo123");
  assert.ok(m.body.includes("ping 1-2-3"), m.body);
});
