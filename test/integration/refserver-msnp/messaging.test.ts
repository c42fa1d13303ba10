// SPDX-License-Identifier: Apache-2.0
// SDG fan-out, ACK and re-send, history and catch-up paging, blocking and the echo contact
// (PROFILE §3 "Messages", "Catch-up", §5), over raw sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { start } from "./fixture.js";
import { blocks, waitFor, type RawFrame } from "./raw-client.js";

const isSdg = (f: RawFrame): boolean => f.cmd === "SDG";
const all = (s: string, re: RegExp): string[] => [...s.matchAll(re)].map((m) => m[1]!);

test("SDG reaches every endpoint of the recipient (either identity) and the sender's other endpoints", async (t) => {
  const s = await start(t);
  const a1 = await s.signIn("alice@hotmail.co.uk");
  const a2 = await s.signIn("alice@hotmail.co.uk");
  const b1 = await s.signIn("bob@outlook.com");
  const b2 = await s.signIn("bob@outlook.com");
  const bIdle = await s.signIn("bob@outlook.com", { subscribe: "<subscribe><presence/></subscribe>" });

  const cmid = a1.sdg("1:bob@outlook.com", "hello by e-mail identity");
  const got = await Promise.all([b1, b2, a2].map((x) => x.client.next(isSdg)));
  const ackIds = new Set<string>();
  const ids = new Set<string>();
  for (const f of got) {
    assert.equal(`${f.cmd} ${f.trid} ${f.type}`, "SDG 0 MSGR");
    assert.match(f.headers["ack-id"]!, /^[0-9A-F]{16}$/);
    ackIds.add(f.headers["ack-id"]!);
    const b = blocks(f.body);
    assert.equal(b.routing.to, "1:bob@outlook.com");
    assert.equal(b.routing.from, `8:live:alice_1;epid={${a1.epid}}`);
    assert.equal(b.content["client-message-id"], cmid);
    assert.match(b.content["original-arrival-time"]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    ids.add(b.content["message-id"]!);
    assert.equal(b.body, "hello by e-mail identity");
  }
  assert.equal(ackIds.size, 3, "a fresh Ack-Id per push");
  assert.equal(ids.size, 1, "one Message-ID for the message");

  a1.sdg("8:live:bob_1", "hello by Skype identity");
  const second = await b1.client.next(isSdg);
  assert.ok(Number(blocks(second.body).content["message-id"]) > Number([...ids][0]));
  await b2.client.next(isSdg);
  await a2.client.next(isSdg);

  // The sender's own connection and the unsubscribed endpoint got nothing.
  await a1.barrier();
  await bIdle.barrier();
  assert.equal(a1.client.frames.filter(isSdg).length, 0);
  assert.equal(bIdle.client.frames.filter(isSdg).length, 0);

  // History: the sender's conversations are keyed by the identity exactly as on the wire.
  const aliceConvs = new Set(s.server.storedMessages({ user: "alice@hotmail.co.uk" }).map((m) => m.to));
  assert.deepEqual([...aliceConvs].sort(), ["1:bob@outlook.com", "8:live:bob_1"]);
  const bobView = s.server.storedMessages({ user: "bob@outlook.com", conversation: "8:live:alice_1" });
  assert.equal(bobView.length, 2);
});

test("unacknowledged pushes are re-sent after a reconnect on the same epid with the same Ack-Id", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com", { epid: "0b0b0b0b-0000-0000-0000-000000000001" });
  alice.sdg("8:live:bob_1", "first");
  alice.sdg("8:live:bob_1", "second");
  const typing = alice.sdg("8:live:bob_1", "", [["Message-Type", "Control/Typing"]]);
  const m1 = await bob.client.next((f) => isSdg(f) && blocks(f.body).body === "first");
  const m2 = await bob.client.next((f) => isSdg(f) && blocks(f.body).body === "second");
  await bob.client.next((f) => isSdg(f) && blocks(f.body).content["client-message-id"] === typing);
  bob.ack(m1);
  await bob.barrier();
  await bob.client.close();
  await waitFor(() => !s.server.endpoints().some((e) => e.user === "bob@outlook.com"));

  alice.sdg("8:live:bob_1", "while away");
  await alice.barrier();

  const again = await s.signIn("bob@outlook.com", { epid: "{0B0B0B0B-0000-0000-0000-000000000001}" });
  const resent = await again.client.next(isSdg);
  assert.equal(resent.headers["ack-id"], m2.headers["ack-id"]);
  assert.deepEqual(resent.payload, m2.payload);
  await again.barrier();
  assert.deepEqual(
    again.client.frames.filter(isSdg).map((f) => f.body),
    [],
    "no acked, Control/* or while-away message pushed",
  );

  // Acknowledged now: a further reconnect gets nothing.
  again.ack(resent);
  await again.barrier();
  await again.client.close();
  await waitFor(() => !s.server.endpoints().some((e) => e.user === "bob@outlook.com"));
  const third = await s.signIn("bob@outlook.com", { epid: "0b0b0b0b-0000-0000-0000-000000000001" });
  await third.barrier();
  assert.equal(third.client.frames.filter(isSdg).length, 0);

  // The Control/* push was never stored; the message sent while away is fetched by catch-up.
  const stored = s.server.storedMessages({ user: "bob@outlook.com" });
  assert.deepEqual(
    stored.map((m) => m.content),
    ["first", "second", "while away"],
  );
});

test("From must be a signed-in identity (201); an unknown recipient is 217", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  alice.sdg("8:live:bob_1", "spoof", [], "8:live:bob_1");
  const e = await alice.client.next((f) => f.cmd === "201");
  assert.equal(e.type, "MSGR");
  alice.sdg("8:nobody_here", "hello?");
  assert.equal((await alice.client.next((f) => /^\d{3}$/.test(f.cmd))).cmd, "217");
  alice.sdg("1:alice@hotmail.co.uk", "note to self via e-mail identity");
  await alice.barrier();
  assert.equal(alice.client.frames.filter((f) => /^\d{3}$/.test(f.cmd)).length, 0);
});

test("messages from a blocked person are dropped for the blocker", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const mallory = await s.signIn("mallory@hotmail.com");
  mallory.sdg("8:live:alice_1", "let me in");
  await mallory.barrier();
  await alice.barrier();
  assert.equal(alice.client.frames.filter(isSdg).length, 0);
  assert.equal(s.server.storedMessages({ user: "alice@hotmail.co.uk" }).length, 0);
  assert.equal(s.server.storedMessages({ user: "mallory@hotmail.com" }).length, 1);
});

test("8:echo123 answers every text message with the same text", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  alice.sdg("8:echo123", "Testing, testing, 1 2 3 ✓");
  const reply = await alice.client.next((f) => isSdg(f) && blocks(f.body).routing.from === "8:echo123");
  const b = blocks(reply.body);
  assert.equal(b.routing.to, "8:live:alice_1");
  assert.equal(b.body, "Testing, testing, 1 2 3 ✓");
  assert.equal(b.content["message-type"], "Text");
  alice.ack(reply);

  alice.sdg("8:echo123", "<b>bold</b>", [["Message-Type", "RichText"]]);
  const rich = await alice.client.next((f) => isSdg(f) && blocks(f.body).routing.from === "8:echo123");
  assert.equal(blocks(rich.body).content["message-type"], "RichText");
  assert.equal(blocks(rich.body).body, "<b>bold</b>");

  alice.sdg("8:echo123", "", [["Message-Type", "Control/Typing"]]);
  await alice.barrier();
  await alice.barrier();
  assert.equal(alice.client.frames.filter(isSdg).length, 0, "typing is not echoed");
  const conv = s.server.storedMessages({ user: "alice@hotmail.co.uk", conversation: "8:echo123" });
  assert.equal(conv.length, 4);
});

test("catch-up: MESSAGESBYCONVERSATION pages newest first with hasmore and messagessyncstate", async (t) => {
  const s = await start(t, { pageSize: 3 });
  const alice = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com", { subscribe: null });
  for (let i = 1; i <= 7; i++)
    alice.sdg("8:live:bob_1", `m${i}`, i === 7 ? [["Skype-EmoteOffset", "5"]] : []);
  const edit = alice.sdg("8:live:bob_1", "m6 edited", [["Skype-EditedId", "12345"]]);
  await alice.barrier();

  const ask = (extra: string): Promise<RawFrame> =>
    bob.call(
      "GET",
      "MSGR\\MESSAGESBYCONVERSATION",
      `<messagesbyconversation><id>8:live:alice_1</id>${extra}<pagesize>100</pagesize></messagesbyconversation>`,
    );
  const p1 = await ask("<start>0</start>");
  assert.equal(`${p1.cmd} ${p1.type}`, "GET MSGR");
  assert.deepEqual(all(p1.body, /<content>([^<]*)<\/content>/g), ["m6 edited", "m7", "m6"]);
  assert.match(p1.body, /<hasmore>true<\/hasmore>/);
  const msg = /<message>(.*?)<\/message>/.exec(p1.body)![1]!;
  for (const field of ["originalarrivaltime", "from", "to", "messagetype", "contenttype", "content", "id"]) {
    assert.match(msg, new RegExp(`<${field}>`), field);
  }
  assert.match(msg, new RegExp(`<clientmessageid>${edit}</clientmessageid>`));
  assert.match(msg, /<imdisplayname>Alice Liddell<\/imdisplayname><skypeeditedid>12345<\/skypeeditedid>/);
  assert.match(p1.body, /<skypeemoteoffset>5<\/skypeemoteoffset>/);
  const ids = all(p1.body, /<id>(\d+)<\/id>/g).map(Number);
  assert.ok(ids[0]! > ids[1]! && ids[1]! > ids[2]!, "newest first");

  const sync1 = /<messagessyncstate>([^<]+)</.exec(p1.body)![1]!;
  const p2 = await ask(`<start>0</start><messagessyncstate>${sync1}</messagessyncstate>`);
  assert.deepEqual(all(p2.body, /<content>([^<]*)<\/content>/g), ["m5", "m4", "m3"]);
  const sync2 = /<messagessyncstate>([^<]+)</.exec(p2.body)![1]!;
  const p3 = await ask(`<start>0</start><messagessyncstate>${sync2}</messagessyncstate>`);
  assert.deepEqual(all(p3.body, /<content>([^<]*)<\/content>/g), ["m2", "m1"]);
  assert.match(p3.body, /<hasmore>false<\/hasmore>/);

  // From a last seen Message-ID: only that one and newer.
  const m6 = s.server.storedMessages({ user: "bob@outlook.com" }).find((m) => m.content === "m6")!;
  const since = await ask(`<start>${m6.id}</start>`);
  assert.deepEqual(all(since.body, /<content>([^<]*)<\/content>/g), ["m6 edited", "m7", "m6"]);
  assert.match(since.body, /<hasmore>false<\/hasmore>/);

  const bad = await ask("<start>0</start><messagessyncstate>garbage</messagessyncstate>");
  assert.equal(bad.cmd, "201");

  const recent = await bob.call(
    "GET",
    "MSGR\\RECENTCONVERSATIONS",
    "<recentconversations><start>0</start><pagesize>100</pagesize></recentconversations>",
  );
  assert.match(
    recent.body,
    /^<recentconversations-response><conversations><conversation><id>8:live:alice_1<\/id><messages><message>/,
  );
});

test("edits and deletes travel as SDGs with Skype-EditedId", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com");
  const original = alice.sdg("8:live:bob_1", "teh typo");
  await bob.client.next(isSdg);
  alice.sdg("8:live:bob_1", "the typo", [["Skype-EditedId", original]]);
  const edit = blocks((await bob.client.next(isSdg)).body);
  assert.equal(edit.content["skype-editedid"], original);
  assert.equal(edit.body, "the typo");
  alice.sdg("8:live:bob_1", "", [["Skype-EditedId", original]]);
  const del = blocks((await bob.client.next(isSdg)).body);
  assert.equal(del.body, "");
  assert.equal(del.content["content-length"], "0");
});
