// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeMatrixError } from "./fake-hs.js";
import {
  ALICE,
  ALICE_PUPPET,
  ALICE_SKYPE,
  BOB_LIVE,
  BOB_PUPPET,
  BOB_SKYPE,
  BOT,
  message,
  testBed,
} from "./fixtures.js";

test("a contact's first message opens a DM portal and arrives once, with its arrival time", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const m = message({ body: "Hello Alice" });
  alice.emit("message", m);
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  const msgs = hs.messages(roomId);
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.sender, BOB_PUPPET);
  assert.deepEqual(msgs[0]!.content, { msgtype: "m.text", body: "Hello Alice", "m.mentions": {} });
  assert.equal(msgs[0]!.origin_server_ts, Date.parse("2024-05-01T10:00:00Z"));
  assert.equal(hs.profiles.get(BOB_PUPPET), "Bob Builder (Skype)", "name from IM-Display-Name");
  assert.equal((hs.createCalls()[0]!.body as { name?: string }).name, "Bob Builder (Skype)");
  const renames = hs.calls.filter((c) => c.user === BOB_PUPPET && c.path.endsWith("/displayname"));
  assert.equal(renames.length, 1, "the stranger's name is set once, before the room exists");
  const row = store.messages.getBySkypeId(ALICE, BOB_SKYPE, m.messageId!)!;
  assert.equal(row.eventId, msgs[0]!.event_id);
  assert.equal(row.direction, "to_matrix");
  assert.equal(store.cursors.get(ALICE, BOB_SKYPE), m.messageId);

  // The same message again (catch-up after a reconnect), and a redelivery with only the client id.
  alice.emit("message", { ...m, source: "catchup" });
  alice.emit("message", { ...m, messageId: undefined, cursor: undefined });
  await s2m.drain();
  assert.equal(hs.messages(roomId).length, 1);
});

test("a burst of 50 messages arrives in exact order with no duplicates", async () => {
  const { alice, s2m, hs, portals } = testBed();
  const sent = Array.from({ length: 50 }, (_, i) => message({ body: `message ${i + 1}` }));
  for (const m of sent) alice.emit("message", m);
  for (const m of sent.slice(10, 20)) alice.emit("message", { ...m, source: "catchup" });
  await s2m.drain();
  const bodies = hs.messages(portals.roomFor(ALICE, BOB_SKYPE)!).map((e) => e.content.body);
  assert.deepEqual(
    bodies,
    sent.map((m) => m.body),
  );
});

test("rich text becomes HTML, /me an emote, mentions of the user a pill to the real user", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit(
    "message",
    message({
      messageType: "RichText",
      format: "richtext",
      body: '<b>bold</b> and <i>it</i> &amp; <at id="8:live:alice_1">Alice</at>',
    }),
  );
  alice.emit("message", message({ body: "waves", emote: true }));
  await s2m.drain();
  const [rich, emote] = hs.messages(portals.roomFor(ALICE, BOB_SKYPE)!);
  assert.deepEqual(rich!.content, {
    msgtype: "m.text",
    body: "bold and it & Alice Liddell",
    format: "org.matrix.custom.html",
    formatted_body: `<strong>bold</strong> and <em>it</em> &amp; <a href="https://matrix.to/#/${ALICE}">Alice Liddell</a>`,
    "m.mentions": { user_ids: [ALICE] },
  });
  assert.deepEqual(emote!.content, { msgtype: "m.emote", body: "waves", "m.mentions": {} });
});

test("an edit replaces the original from the same puppet; a delete redacts it", async () => {
  const { alice, s2m, hs, portals, store } = testBed();
  const original = message({ body: "teh typo" });
  alice.emit("message", original);
  const edit = {
    ...message({ body: "the typo, fixed", arrivalTime: "2024-05-01T10:00:00Z" }),
    editedId: original.clientMessageId!,
  };
  alice.emit("edit", edit);
  alice.emit("edit", { ...edit, source: "catchup" as const });
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  const [first, replace] = hs.messages(roomId);
  assert.equal(hs.messages(roomId).length, 2);
  assert.equal(replace!.sender, BOB_PUPPET);
  assert.deepEqual(replace!.content, {
    msgtype: "m.text",
    body: "* the typo, fixed",
    "m.new_content": { msgtype: "m.text", body: "the typo, fixed", "m.mentions": {} },
    "m.mentions": {},
    "m.relates_to": { rel_type: "m.replace", event_id: first!.event_id },
  });
  assert.ok(replace!.origin_server_ts > first!.origin_server_ts, "edit time stays after the original");

  const del = { ...message({ body: "" }), editedId: original.clientMessageId! };
  alice.emit("delete", del);
  alice.emit("delete", { ...del, source: "catchup" as const });
  await s2m.drain();
  const redactions = hs.timeline(roomId).filter((e) => e.type === "m.room.redaction");
  assert.equal(redactions.length, 1);
  assert.equal(redactions[0]!.sender, BOB_PUPPET);
  assert.equal(redactions[0]!.redacts, first!.event_id);
  assert.equal(store.messages.getByEventId(first!.event_id)!.deleted, true);
});

test("the user's own message from another endpoint is posted by their own puppet, named as theirs", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit(
    "message",
    message({
      body: "hi bob",
      sender: ALICE_SKYPE,
      conversation: BOB_SKYPE,
      fromMe: true,
      displayName: "Alice Liddell",
    }),
  );
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  const [m] = hs.messages(roomId);
  assert.equal(m!.sender, ALICE_PUPPET);
  assert.notEqual(m!.sender, BOB_PUPPET);
  assert.equal(
    hs.stateOf(roomId, "m.room.member", ALICE_PUPPET)!.content.displayname,
    "Alice Liddell (you, on Skype)",
  );
  assert.deepEqual(hs.stateOf(roomId, "io.element.functional_members")!.content.service_members, [
    BOT,
    ALICE_PUPPET,
  ]);
  assert.equal(hs.createCalls()[0]!.user, BOB_PUPPET, "the DM is still the contact's");
});

test("a message from Matrix coming back in catch-up, or still in the outbox, is not posted again", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const roomId = await portals.ensureDm(ALICE, BOB_SKYPE);
  store.messages.insert({
    receiver: ALICE,
    conversation: BOB_SKYPE,
    clientMessageId: "777",
    roomId,
    eventId: "$fromMatrix",
    direction: "to_skype",
    sender: ALICE,
    sentTs: 1,
  });
  store.outbox.enqueue({
    receiver: ALICE,
    conversation: BOB_SKYPE,
    clientMessageId: "778",
    eventId: "$pending",
    roomId,
    payload: { text: "x" },
  });
  const echo = message({
    body: "from matrix",
    sender: ALICE_SKYPE,
    conversation: BOB_SKYPE,
    fromMe: true,
    clientMessageId: "777",
  });
  alice.emit("message", echo);
  alice.emit(
    "message",
    message({
      body: "pending",
      sender: ALICE_SKYPE,
      conversation: BOB_SKYPE,
      fromMe: true,
      clientMessageId: "778",
    }),
  );
  await s2m.drain();
  assert.equal(hs.messages(roomId).length, 0);
  assert.equal(
    store.messages.getByEventId("$fromMatrix")!.skypeMessageId,
    echo.messageId,
    "the server id is learnt",
  );
});

test("a crash after the send but before the mapping: the re-run returns the same event", async () => {
  const bed = testBed();
  const m = message({ body: "only once" });
  // The homeserver accepts the event, then the bridge "dies" before recording it.
  const insert = bed.store.messages.insert.bind(bed.store.messages);
  bed.store.messages.insert = () => {
    throw new Error("killed");
  };
  bed.alice.emit("message", m);
  await bed.s2m.drain();
  bed.store.messages.insert = insert;
  const roomId = bed.portals.roomFor(ALICE, BOB_SKYPE)!;
  assert.equal(bed.hs.messages(roomId).length, 1);
  assert.equal(bed.store.cursors.get(ALICE, BOB_SKYPE), undefined, "the cursor did not move");
  // A fresh process gets the message again from catch-up and sends it with the same txn id.
  const again = testBed({ store: bed.store, hs: bed.hs });
  again.alice.emit("message", { ...m, source: "catchup" });
  await again.s2m.drain();
  assert.equal(bed.hs.messages(roomId).length, 1);
  assert.equal(
    bed.store.messages.getBySkypeId(ALICE, BOB_SKYPE, m.messageId!)!.eventId,
    bed.hs.messages(roomId)[0]!.event_id,
  );
  assert.equal(bed.store.cursors.get(ALICE, BOB_SKYPE), m.messageId);
});

test("transient homeserver errors are retried; the message arrives once", async () => {
  const { alice, s2m, hs, portals } = testBed();
  hs.fail(
    (c) => c.path.includes("/send/"),
    () => new FakeMatrixError(502, "M_UNKNOWN", "bad gateway"),
    2,
  );
  alice.emit("message", message({ body: "persistent" }));
  await s2m.drain();
  assert.deepEqual(
    hs.messages(portals.roomFor(ALICE, BOB_SKYPE)!).map((e) => e.content.body),
    ["persistent"],
  );
});

test("a puppet that lost its membership re-joins and the message still arrives", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit("message", message({ body: "one" }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  await hs.request(
    BOB_PUPPET,
    "POST",
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`,
    null,
    {},
  );
  alice.emit("message", message({ body: "two" }));
  await s2m.drain();
  assert.deepEqual(
    hs.messages(roomId).map((e) => e.content.body),
    ["one", "two"],
  );
});

test("typing shows on the puppet and is cleared when the message lands; never creates rooms", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit("typing", { conversation: BOB_SKYPE, sender: BOB_SKYPE, fromMe: false, typing: true });
  await s2m.drain();
  assert.equal(hs.createCalls().length, 0);
  alice.emit("message", message({ body: "first" }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  alice.emit("typing", { conversation: BOB_SKYPE, sender: BOB_SKYPE, fromMe: false, typing: true });
  alice.emit("typing", { conversation: BOB_SKYPE, sender: ALICE_SKYPE, fromMe: true, typing: true });
  alice.emit("message", message({ body: "second" }));
  await s2m.drain();
  assert.deepEqual(hs.typing, [
    { room: roomId, user: BOB_PUPPET, typing: true },
    { room: roomId, user: BOB_PUPPET, typing: false },
  ]);
});

test("presence: a person online on either identity is online; self presence is ignored", async () => {
  const { alice, s2m, hs, store } = testBed();
  store.persons.link([BOB_LIVE, BOB_SKYPE]);
  const puppet = `@skype_1=3abob=40outlook.com:localhost`;
  alice.emit("presence", { identity: BOB_LIVE, status: "NLN", endpoints: 1, self: false });
  await s2m.drain();
  assert.equal(hs.presence.get(puppet)!.presence, "online");
  alice.emit("presence", { identity: BOB_SKYPE, status: "AWY", endpoints: 1, self: false });
  await s2m.drain();
  assert.equal(hs.presence.get(puppet)!.presence, "online");
  alice.emit("presence", { identity: BOB_LIVE, status: "FLN", endpoints: 0, self: false });
  await s2m.drain();
  assert.equal(hs.presence.get(puppet)!.presence, "unavailable");
  alice.emit("presence", { identity: BOB_SKYPE, status: "HDN", endpoints: 1, self: false, mood: "busy day" });
  await s2m.drain();
  assert.deepEqual(hs.presence.get(puppet), { presence: "offline", status_msg: "busy day" });
  alice.emit("presence", { identity: ALICE_SKYPE, status: "NLN", endpoints: 1, self: true });
  await s2m.drain();
  assert.equal(hs.presence.has(ALICE_PUPPET), false);
});

test("presence bridging switched off in the config sends nothing to the homeserver", async () => {
  const { alice, s2m, hs, store } = testBed({ presence: false });
  store.persons.link([BOB_LIVE, BOB_SKYPE]);
  alice.emit("presence", { identity: BOB_LIVE, status: "NLN", endpoints: 1, self: false });
  await s2m.drain();
  assert.equal(hs.presence.size, 0);
  assert.equal(store.persons.getByIdentity(BOB_LIVE)?.presence, "NLN");
});

test("a file or call becomes a notice from the sender's puppet; control messages are silent", async () => {
  const { alice, s2m, hs, portals } = testBed();
  const base = message({ body: "<URIObject/>" });
  alice.emit("unhandledMessage", { ...base, messageType: "RichText/Media_GenericFile" });
  alice.emit("unhandledMessage", { ...message({ body: "" }), messageType: "Control/LiveState" });
  alice.emit("message", {
    ...message({ body: "<URIObject/>" }),
    messageType: "RichText/UriObject",
    format: "richtext",
  });
  alice.emit("unhandledMessage", { ...base, messageType: "RichText/Media_GenericFile", source: "catchup" });
  await s2m.drain();
  const msgs = hs.messages(portals.roomFor(ALICE, BOB_SKYPE)!);
  assert.deepEqual(
    msgs.map((e) => [e.sender, e.content.msgtype, e.content.body]),
    [
      [
        BOB_PUPPET,
        "m.notice",
        "Sent a file on Skype, which this bridge cannot show yet (Skype message type RichText/Media_GenericFile).",
      ],
      [
        BOB_PUPPET,
        "m.notice",
        "Sent an image on Skype, which this bridge cannot show yet (Skype message type RichText/UriObject).",
      ],
    ],
  );
});

test("messages in two portals proceed independently; an unusable conversation id is dropped", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit("message", message({ body: "from bob" }));
  alice.emit("message", message({ body: "from dave", sender: "8:dave.lister", displayName: "Dave Lister" }));
  alice.emit("message", message({ body: "junk", sender: "not an mri", conversation: "not an mri" }));
  await s2m.drain();
  assert.equal(hs.messages(portals.roomFor(ALICE, BOB_SKYPE)!).length, 1);
  assert.equal(hs.messages(portals.roomFor(ALICE, "8:dave.lister")!)[0]!.content.body, "from dave");
  assert.equal(hs.createCalls().length, 2);
});

test("the user's own Matrix message edited or deleted on another endpoint: a reply, then a bot redaction", async () => {
  const { alice, s2m, hs, store, portals } = testBed();
  const roomId = await portals.ensureDm(ALICE, BOB_SKYPE);
  hs.registered.add(ALICE);
  await hs.request(ALICE, "POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, null, {});
  const { event_id: fromMatrix } = (await hs.request(
    ALICE,
    "PUT",
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`,
    null,
    { msgtype: "m.text", body: "typed in Element" },
  )) as { event_id: string };
  store.messages.insert({
    receiver: ALICE,
    conversation: BOB_SKYPE,
    clientMessageId: "900",
    roomId,
    eventId: fromMatrix,
    direction: "to_skype",
    sender: ALICE,
    sentTs: 1,
  });
  const edit = message({
    body: "typed in Element, fixed on the phone",
    sender: ALICE_SKYPE,
    conversation: BOB_SKYPE,
    fromMe: true,
  });
  alice.emit("edit", { ...edit, editedId: "900" });
  alice.emit("delete", {
    ...message({ body: "", sender: ALICE_SKYPE, conversation: BOB_SKYPE, fromMe: true }),
    editedId: "900",
  });
  await s2m.drain();
  const reply = hs.messages(roomId).find((e) => e.sender === ALICE_PUPPET)!;
  assert.equal(reply.content.body, "(edited on Skype) typed in Element, fixed on the phone");
  assert.deepEqual(reply.content["m.relates_to"], { "m.in_reply_to": { event_id: fromMatrix } });
  const redaction = hs.timeline(roomId).find((e) => e.type === "m.room.redaction")!;
  assert.equal(redaction.sender, BOT);
  assert.equal(redaction.redacts, fromMatrix);
});

test("an edit of a message the bridge never saw is posted as a new message", async () => {
  const { alice, s2m, hs, portals } = testBed();
  alice.emit("edit", { ...message({ body: "edited text" }), editedId: "424242" });
  alice.emit("delete", { ...message({ body: "" }), editedId: "434343" });
  await s2m.drain();
  assert.deepEqual(
    hs.messages(portals.roomFor(ALICE, BOB_SKYPE)!).map((e) => e.content.body),
    ["edited text"],
  );
});

test("a send cut off after Synapse stored it (then restarted, forgetting txn ids) is found, not posted twice", async () => {
  const { hs, alice, s2m, portals } = testBed();
  alice.emit("message", message({ body: "first" }));
  await s2m.drain();
  hs.failAfter(
    (c) => c.method === "PUT" && c.path.includes("/send/m.room.message/"),
    () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
  );
  alice.emit("message", message({ body: "cut off on the wire" }));
  alice.emit("message", message({ body: "after" }));
  await s2m.drain();
  const roomId = portals.roomFor(ALICE, BOB_SKYPE)!;
  assert.deepEqual(
    hs.messages(roomId).map((e) => e.content.body),
    ["first", "cut off on the wire", "after"],
  );
  assert.ok(
    hs.calls.some((c) => c.method === "GET" && c.path.endsWith("/messages")),
    "it looked before resending",
  );
});
