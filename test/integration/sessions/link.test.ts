// Linking an account, what a session reports, refresh-token rotation and a restart, against the
// reference server in-process and a real SQLite store.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ContactRequest, Session } from "../../../src/sessions/types.js";
import type { Contact } from "../../../src/skype/model.js";
import type { MessageEvent } from "../../../src/skype/msnp/types.js";
import {
  endpointsOf,
  kinds,
  nextEvent,
  recordStates,
  startSessionEnv,
  stateOf,
  subscribed,
  until,
} from "./helpers.js";

const ALICE = "@alice:example.org";

test("link after a password sign-in: connected, contacts with both identities, requests, messages, no secrets", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  const contacts: Contact[][] = [];
  const requests: ContactRequest[][] = [];
  const seen: string[] = [];
  manager.onSession((s) => {
    seen.push(`${s.mxid}:${s.state.kind}`);
    s.on("contacts", (c) => contacts.push(c));
    s.on("contactRequests", (r) => requests.push(r));
  });
  const login = await env.login("alice@hotmail.co.uk", "wonderland");
  const session = await manager.link(ALICE, login);
  assert.deepEqual(seen, [`${ALICE}:connecting`], "listeners ran before the session started");
  assert.equal(manager.get(ALICE), session);
  assert.deepEqual(session.identities, ["1:alice@hotmail.co.uk", "8:live:alice_1"]);
  assert.equal(session.displayName, "Alice Liddell");
  await stateOf(session, "connected");
  await until(() => contacts.length > 0 && requests.length > 0, "contacts and requests");

  const bob = contacts[0]!.find((c) => c.identities.includes("8:live:bob_1"));
  assert.ok(bob, "bob is a contact");
  assert.deepEqual(bob.identities, ["1:bob@outlook.com", "8:live:bob_1"]);
  assert.equal(bob.displayName, "Bob Builder");
  assert.deepEqual(session.contacts(), contacts[0]);
  assert.equal(requests[0]!.length, 1);
  const carol = requests[0]![0]!;
  assert.ok(["1:carol@live.com", "8:live:carol_7"].includes(carol.mri), carol.mri);
  assert.equal(carol.message, "Hi Alice, it's Carol from work");

  const row = env.store.users.get(ALICE)!;
  assert.equal(row.loginState, "connected");
  assert.equal(row.accountEmail, "alice@hotmail.co.uk");
  assert.equal(row.skypeName, "live:alice_1");
  assert.equal(row.liveMri, "1:alice@hotmail.co.uk");
  assert.equal(row.skypeMri, "8:live:alice_1");
  assert.match(row.epid ?? "", /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    endpointsOf(env, "alice@hotmail.co.uk").map((e) => e.epid),
    [row.epid],
    "the server sees the stored epid",
  );
  const saved = row.contactSyncState as { activeSync?: { folderSyncKey?: string } };
  assert.ok(saved.activeSync?.folderSyncKey && saved.activeSync.folderSyncKey !== "0", "sync state saved");

  // A message from bob arrives as a `message` event.
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice subscribed");
  const got = nextEvent(session, "message", (m) => m.body === "hello from bob");
  env.ref.msnp.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "hello from bob" });
  const [m] = await got;
  assert.equal(m.sender, "8:live:bob_1");
  assert.equal(m.fromMe, false);
  assert.equal(m.conversation, "8:live:bob_1");

  // Sending goes through the MSNP client.
  const sent = session.sendText("8:live:bob_1", "hi bob");
  await sent.delivered;
  const received = env.ref.msnp.receivedMessages({ user: "alice@hotmail.co.uk" });
  assert.ok(received.some((r) => JSON.stringify(r).includes("hi bob")));
  // A malformed conversation never throws: the delivery rejects.
  const bad = session.sendText("not an mri", "x");
  await assert.rejects(bad.delivered, { code: "SKYPE_INVALID_ARGUMENT" });
  assert.match(bad.clientMessageId, /^\d+$/);

  // The refresh token was rotated; the stored one is the newest; it is encrypted at rest.
  const aliceRts = () =>
    env.issued.filter((i) => i.person === "alice@hotmail.co.uk").map((i) => i.refreshToken);
  await until(() => env.store.users.getRefreshToken(ALICE) === aliceRts().at(-1), "the newest token stored");
  assert.notEqual(env.store.users.getRefreshToken(ALICE), login.refreshToken);
  assert.ok(aliceRts().length >= 3, "several refreshes happened");
  const bytes = env.dbBytes().toString("latin1");
  for (const rt of aliceRts()) assert.ok(!bytes.includes(rt), "no refresh token in the DB file in clear");
  const secrets = [...aliceRts(), ...env.issued.map((i) => i.accessToken), "wonderland"];
  for (const line of env.logLines)
    for (const s of secrets) assert.ok(!line.includes(s), `secret in log: ${line}`);

  assert.deepEqual(kinds(states, ALICE), ["connected"], "one state event per change");
});

test("a restart (new manager on the same database) comes back connected and catches up", async (t) => {
  const env = await startSessionEnv(t);
  const first = env.manager();
  const login = await env.login("alice@hotmail.co.uk", "wonderland");
  // Play the bridge: advance the cursor once a message is handled.
  const track = (s: Session): void => {
    s.on("message", (m: MessageEvent) => {
      if (m.cursor) env.store.cursors.advance(s.mxid, m.cursor.conversation, m.cursor.messageId);
    });
  };
  first.onSession(track);
  const s1 = await first.link(ALICE, login);
  await stateOf(s1, "connected");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice subscribed");
  const before = nextEvent(s1, "message", (m) => m.body === "before");
  env.ref.msnp.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "before" });
  await before;
  const epid = env.store.users.get(ALICE)!.epid;
  await first.stopAll();
  await until(() => endpointsOf(env, "alice@hotmail.co.uk").length === 0, "alice offline");
  assert.equal(env.store.users.get(ALICE)!.loginState, "connected", "a shutdown is not a logout");

  env.ref.msnp.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "while down" });
  const store = env.reopenStore();
  const second = env.manager({ store });
  const states = recordStates(second);
  const messages: MessageEvent[] = [];
  second.onSession((s) => {
    track(s);
    s.on("message", (m) => messages.push(m));
  });
  await second.startAll();
  const s2 = second.get(ALICE);
  assert.ok(s2, "the session is back without any user action");
  await stateOf(s2, "connected");
  await until(() => messages.length > 0, "the message sent while down");
  assert.deepEqual(
    messages.map((m) => [m.body, m.source]),
    [["while down", "catchup"]],
  );
  assert.equal(store.users.get(ALICE)!.epid, epid, "the epid is stable");
  assert.deepEqual(kinds(states, ALICE), ["connected"]);
  assert.equal(s2.displayName, "Alice Liddell", "the display name survives a restart");
});

test("re-linking replaces the running session cleanly", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  const s1 = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(s1, "connected");
  const s2 = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  assert.notEqual(s1, s2);
  await stateOf(s2, "connected");
  assert.equal(manager.get(ALICE), s2);
  assert.deepEqual(manager.all(), [s2]);
  await until(() => endpointsOf(env, "alice@hotmail.co.uk").length === 1, "one connection left");
  assert.deepEqual(
    s1.state,
    { kind: "logged_out", reason: "stopped" },
    "the old session ended, not as a logout (no notice)",
  );
  assert.deepEqual(kinds(states, ALICE), ["connected"], "only the new session's states are recorded");
});

test("contact requests: accepting one updates requests and contacts", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await alice.resyncContacts();
  const carol = alice.contacts().find((c) => c.identities.includes("8:live:carol_7"));
  assert.equal(carol, undefined, "carol is not a contact yet");
  const emptied = nextEvent(alice, "contactRequests", (r) => r.length === 0);
  const added = nextEvent(alice, "contacts", (c) => c.some((x) => x.identities.includes("8:live:carol_7")));
  await alice.acceptContactRequest("1:carol@live.com");
  await Promise.all([emptied, added]);
  // The changed list is published on the live connection (PUT MSGR\CONTACTS).
  await until(
    () => endpointsOf(env, "alice@hotmail.co.uk").some((e) => e.contacts.includes("8:live:carol_7")),
    "the new contact list published",
  );
  await assert.rejects(alice.declineContactRequest("1:carol@live.com"), { name: "SoapFaultError" });
  await alice.sendContactRequest("live:mallory", "hello");
  assert.ok(env.ref.world.mustFind("live:mallory").pending.has("alice@hotmail.co.uk"));
});

test("sends, emotes, edits, deletes, typing and thread operations go through the session", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice online");
  const bob = "8:live:bob_1";
  const text = alice.sendText(bob, "plain", "1001");
  const rich = alice.sendRichText(bob, "<b>bold</b>", "1002");
  const emote = alice.sendEmote(bob, "waves", "1003");
  const edit = alice.editMessage(bob, "1003", { format: "text", body: "waves again", emote: true }, "1004");
  const del = alice.deleteMessage(bob, "1001", "1005");
  await Promise.all([text, rich, emote, edit, del].map((m) => m.delivered));
  assert.equal(text.clientMessageId, "1001");
  assert.ok(alice.sendTyping(bob, true));
  await until(
    () => env.ref.msnp.receivedMessages({ user: "alice@hotmail.co.uk" }).length >= 6,
    "everything received",
  );
  const got = env.ref.msnp.receivedMessages({ user: "alice@hotmail.co.uk" });
  const header = (r: (typeof got)[number], name: string): string | undefined =>
    r.messaging.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  assert.deepEqual(
    got.map((r) => [r.messageType, r.body, header(r, "Skype-EditedId") ?? ""]),
    [
      ["Text", "plain", ""],
      ["RichText", "<b>bold</b>", ""],
      ["Text", "Alice Liddell waves", ""],
      ["Text", "Alice Liddell waves again", "1003"],
      ["Text", "", "1001"],
      ["Control/Typing", "", ""],
    ],
  );
  assert.equal(header(got[2]!, "Skype-EmoteOffset"), "13");
  await alice.setPresence("BSY");
  const thread = await alice.createThread([bob], "Plans");
  assert.match(thread.id, /^19:[0-9a-f]{32}@thread\.skype$/);
  await alice.setThreadTopic(thread.id, "New plans");
  await alice.addThreadMembers(thread.id, ["8:dave.lister"]);
  await alice.removeThreadMember(thread.id, "8:dave.lister");
  const server = env.ref.msnp.threads().find((x) => x.id === thread.id)!;
  assert.equal(server.topic, "New plans");
  assert.deepEqual(server.members.map((m) => m.mri).sort(), ["8:live:alice_1", "8:live:bob_1"]);
});

test("only a first link reads back history: the newest messages of the most recent conversations, once", async (t) => {
  const env = await startSessionEnv(t, { config: (c) => (c.history = { conversations: 1, messages: 2 }) });
  for (const text of ["d1", "d2"])
    env.ref.msnp.sendMessage({ from: "8:dave.lister", to: "8:live:alice_1", text });
  for (const text of ["b1", "b2", "b3"])
    env.ref.msnp.sendMessage({ from: "8:live:bob_1", to: "8:live:alice_1", text });
  const manager = env.manager();
  const got: MessageEvent[] = [];
  const caughtUp: number[] = [];
  manager.onSession((s) => {
    s.on("message", (m) => got.push(m));
    s.on("caughtUp", ({ messages }) => caughtUp.push(messages));
  });
  const s1 = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await until(() => caughtUp.length === 1, "the first catch-up");
  // Bob's conversation is the most recent one: its last two messages, oldest first; dave's nothing.
  assert.deepEqual(
    got.map((m) => [m.body, m.source]),
    [
      ["b2", "history"],
      ["b3", "history"],
    ],
  );
  // The bridge stores cursors as it handles messages; here the test does.
  for (const m of got)
    if (m.cursor) env.store.cursors.advance(ALICE, m.cursor.conversation, m.cursor.messageId);
  await stateOf(s1, "connected");
  // A re-link of the same account is no first link: no history, and what came meanwhile is caught up.
  env.ref.msnp.sendMessage({ from: "8:live:bob_1", to: "8:live:alice_1", text: "b4" });
  await until(() => got.some((m) => m.body === "b4"), "b4 live");
  env.store.cursors.advance(ALICE, got.at(-1)!.cursor!.conversation, got.at(-1)!.cursor!.messageId);
  const s2 = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await until(() => caughtUp.length === 2, "the second catch-up");
  await stateOf(s2, "connected");
  assert.deepEqual(
    got.map((m) => m.body),
    ["b2", "b3", "b4"],
  );
});
