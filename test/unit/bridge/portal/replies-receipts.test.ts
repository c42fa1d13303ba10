// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HorizonEvent } from "../../../../src/sessions/types.js";
import { parseQuotes } from "../../../../src/skype/msnp/quotes.js";
import {
  ALICE,
  ALICE_PUPPET,
  ALICE_SKYPE,
  BOB_PUPPET,
  BOB_SKYPE,
  message,
  testBed,
  type TestBed,
} from "./from-skype/fixtures.js";

/** Bob's three messages bridged into alice's DM; returns the room and the messages. */
async function dmWithThree(bed: TestBed) {
  const msgs = [1, 2, 3].map((i) => message({ body: `message ${i}` }));
  for (const m of msgs) bed.alice.emit("message", m);
  await bed.s2m.drain();
  const roomId = bed.portals.roomFor(ALICE, BOB_SKYPE)!;
  const events = bed.hs.messages(roomId);
  assert.equal(events.length, 3);
  return { roomId, msgs, events };
}

function horizon(
  over: Partial<HorizonEvent> & { messageId?: string; clientMessageId?: string },
): HorizonEvent {
  const { messageId, clientMessageId, ...rest } = over;
  return {
    conversation: BOB_SKYPE,
    user: BOB_SKYPE,
    fromMe: false,
    source: "live",
    horizon: { raw: `${messageId ?? ""};1;${clientMessageId ?? ""}`, messageId, clientMessageId },
    ...rest,
  };
}

function quote(messageId: string, text: string): string {
  return (
    `<quote author="${BOB_SKYPE}" authorname="Bob" timestamp="1714557600" conversation="${ALICE_SKYPE}" messageid="${messageId}">` +
    `<legacyquote>[2024-05-01 10:00:00] Bob: </legacyquote>${text}<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>`
  );
}

test("a Skype quote of a bridged message becomes m.in_reply_to, without the quoted text", async () => {
  const bed = testBed();
  const { roomId, msgs, events } = await dmWithThree(bed);
  bed.alice.emit(
    "message",
    message({
      format: "richtext",
      messageType: "RichText",
      body: quote(msgs[1]!.messageId!, "message 2") + "yes <b>indeed</b>",
    }),
  );
  await bed.s2m.drain();
  const reply = bed.hs.messages(roomId)[3]!;
  assert.deepEqual(reply.content["m.relates_to"], { "m.in_reply_to": { event_id: events[1]!.event_id } });
  assert.equal(reply.content.body, "yes indeed");
  assert.equal(reply.content.formatted_body, "yes <strong>indeed</strong>");
});

test("a quote of an unknown message (or an unreadable body) keeps the quote as a blockquote", async () => {
  const bed = testBed();
  const { roomId } = await dmWithThree(bed);
  bed.alice.emit(
    "message",
    message({
      format: "richtext",
      messageType: "RichText",
      body: quote("999", "lost <i>words</i>") + "what?",
    }),
  );
  bed.alice.emit(
    "message",
    message({
      format: "richtext",
      messageType: "RichText",
      body: '<quote authorname="Bob" messageid="1">x<br>y</quote>huh',
    }),
  );
  await bed.s2m.drain();
  const [unknown, broken] = bed.hs.messages(roomId).slice(3);
  assert.equal(unknown!.content["m.relates_to"], undefined);
  assert.match(
    String(unknown!.content.formatted_body),
    /^<blockquote><strong>Bob<\/strong> wrote:.*lost <em>words<\/em>.*<\/blockquote>what\?$/s,
  );
  assert.equal(broken!.content["m.relates_to"], undefined);
  assert.match(String(broken!.content.formatted_body), /<blockquote>/);
});

test("a Matrix reply to a bridged message is sent as a §7.4 quote with the original's Message-ID", async () => {
  const bed = testBed();
  const { roomId, msgs, events } = await dmWithThree(bed);
  const ev = {
    type: "m.room.message",
    event_id: "$reply1",
    room_id: roomId,
    sender: ALICE,
    origin_server_ts: Date.now(),
    content: {
      msgtype: "m.text",
      body: "> <@skype_8=3alive=3abob__1:localhost> message 2\n\nsure & done",
      format: "org.matrix.custom.html",
      formatted_body: `<mx-reply><blockquote>In reply to message 2</blockquote></mx-reply>sure &amp; <b>done</b>`,
      "m.relates_to": { "m.in_reply_to": { event_id: events[1]!.event_id } },
    },
  };
  await bed.bridge.handleMatrixEvent(ev);
  await bed.bridge.drain();
  const payload = bed.store.outbox.getByEventId("$reply1")!.payload as { kind: string; body: string };
  assert.equal(payload.kind, "richtext");
  const [q] = parseQuotes(payload.body);
  assert.equal(q!.messageId, msgs[1]!.messageId);
  assert.equal(q!.author, BOB_SKYPE);
  assert.equal(q!.conversation, BOB_SKYPE);
  assert.equal(q!.timestamp, Math.floor(Date.parse("2024-05-01T10:00:00Z") / 1000));
  assert.equal(q!.richText, "message 2");
  assert.ok(payload.body.endsWith("</quote>sure &amp; <b>done</b>"), payload.body);
  assert.ok(!payload.body.includes("In reply to"));

  // A reply to an event Skype never got goes as plain text without its fallback.
  await bed.bridge.handleMatrixEvent({
    ...ev,
    event_id: "$reply2",
    content: {
      msgtype: "m.text",
      body: "> <@x:y> z\n\nplain",
      "m.relates_to": { "m.in_reply_to": { event_id: "$nope" } },
    },
  });
  await bed.bridge.drain();
  assert.deepEqual(
    (({ kind, body }) => ({ kind, body }))(
      bed.store.outbox.getByEventId("$reply2")!.payload as { kind: string; body: string },
    ),
    { kind: "text", body: "plain" },
  );
});

test("a contact's horizon becomes their puppet's m.read receipt; only forward; unknown ids fall back", async () => {
  const bed = testBed();
  const { roomId, msgs, events } = await dmWithThree(bed);
  bed.alice.emit("horizon", horizon({ messageId: msgs[1]!.messageId }));
  await bed.s2m.drain();
  assert.deepEqual(bed.hs.receipts, [{ room: roomId, user: BOB_PUPPET, eventId: events[1]!.event_id }]);
  // Backwards: nothing; by Client-Message-ID: the newest; an unknown higher id: the newest before it.
  bed.alice.emit("horizon", horizon({ messageId: msgs[0]!.messageId }));
  bed.alice.emit("horizon", horizon({ clientMessageId: msgs[2]!.clientMessageId }));
  bed.alice.emit("horizon", horizon({ messageId: String(BigInt(msgs[2]!.messageId!) + 10n) }));
  bed.alice.emit("horizon", horizon({ messageId: undefined, conversation: "8:nobody_known" }));
  bed.alice.emit("horizon", horizon({}));
  await bed.s2m.drain();
  assert.deepEqual(
    bed.hs.receipts.map((r) => r.eventId),
    [events[1]!.event_id, events[2]!.event_id],
  );
});

test("the user's own horizon from another device goes to the double-puppet hook, not to a puppet", async () => {
  const bed = testBed();
  const { msgs, events } = await dmWithThree(bed);
  const seen: [string | undefined, string | undefined][] = [];
  bed.bridge.receipts.ownSkypeHorizonHook = (_p, e, row) => {
    seen.push([e.horizon.messageId, row?.eventId]);
    return Promise.resolve();
  };
  bed.alice.emit("horizon", horizon({ user: ALICE_SKYPE, fromMe: true, messageId: msgs[2]!.messageId }));
  await bed.s2m.drain();
  assert.deepEqual(seen, [[msgs[2]!.messageId, events[2]!.event_id]]);
  assert.deepEqual(bed.hs.receipts, []);
  assert.ok(!bed.hs.calls.some((c) => c.user === ALICE_PUPPET && c.path.includes("/receipt/")));
});

test("the user's m.read moves the Skype horizon forward once per burst; m.read.private and puppets never", async () => {
  const bed = testBed();
  const { roomId, msgs, events } = await dmWithThree(bed);
  const reads: string[][] = [];
  (bed.alice as unknown as { markRead: (...a: string[]) => Promise<void> }).markRead = (...a) => {
    reads.push(a);
    return Promise.resolve();
  };
  const receipt = (eventId: string, type: string, user = ALICE) =>
    bed.bridge.handleEphemeral({
      type: "m.receipt",
      room_id: roomId,
      content: { [eventId]: { [type]: { [user]: { ts: 1 } } } },
    });

  await receipt(events[0]!.event_id, "m.read.private");
  await receipt(events[2]!.event_id, "m.read", BOB_PUPPET);
  await bed.bridge.drain();
  assert.deepEqual(reads, []);

  // A burst while the portal is busy: one write, for the newest.
  const busy = bed.portals.forRoom(roomId)!.enqueue(() => new Promise((r) => setImmediate(r)));
  await receipt(events[0]!.event_id, "m.read");
  await receipt(events[1]!.event_id, "m.read");
  await busy;
  await bed.bridge.drain();
  assert.deepEqual(reads, [[BOB_SKYPE, msgs[1]!.messageId!, msgs[1]!.clientMessageId!]]);

  // Backwards or the same: nothing; forward: one more. The user's own Skype horizon counts too.
  await receipt(events[0]!.event_id, "m.read");
  await bed.bridge.drain();
  bed.alice.emit("horizon", horizon({ user: ALICE_SKYPE, fromMe: true, messageId: msgs[2]!.messageId }));
  await bed.s2m.drain();
  await receipt(events[2]!.event_id, "m.read");
  await bed.bridge.drain();
  assert.equal(reads.length, 1);

  // A receipt on an event the bridge did not map lands on the newest Skype message before it.
  const later = message({ body: "message 4" });
  bed.alice.emit("message", later);
  await bed.s2m.drain();
  const note = bed.hs.messages(roomId)[3]!;
  bed.hs
    .timeline(roomId)
    .push({ ...note, event_id: "$unmapped", origin_server_ts: note.origin_server_ts + 5 });
  await receipt("$unmapped", "m.read");
  await bed.bridge.drain();
  assert.deepEqual(reads[1], [BOB_SKYPE, later.messageId!, later.clientMessageId!]);

  // A receipt the bridge sent as the user (double puppeting) is not written back.
  bed.bridge.receipts.noteOwnReceipt(roomId, "$own");
  await receipt("$own", "m.read");
  await bed.bridge.drain();
  assert.equal(reads.length, 2);
});

test("edits of replies: the Skype edit drops its quote again; the Matrix edit quotes again", async () => {
  const bed = testBed();
  const { roomId, msgs, events } = await dmWithThree(bed);
  const reply = message({
    format: "richtext",
    messageType: "RichText",
    body: quote(msgs[0]!.messageId!, "message 1") + "first answer",
  });
  bed.alice.emit("message", reply);
  await bed.s2m.drain();
  bed.alice.emit("edit", {
    ...message({
      format: "richtext",
      messageType: "RichText",
      body: quote(msgs[0]!.messageId!, "message 1") + "better answer",
    }),
    editedId: reply.clientMessageId!,
  });
  await bed.s2m.drain();
  const edit = bed.hs.messages(roomId).at(-1)!;
  assert.deepEqual(edit.content["m.new_content"], {
    msgtype: "m.text",
    body: "better answer",
    "m.mentions": {},
  });

  // Matrix: the user edits a reply of theirs; the original (with its relation) is on the homeserver.
  const original = {
    type: "m.room.message",
    event_id: "$myreply",
    room_id: roomId,
    sender: ALICE,
    origin_server_ts: Date.now(),
    content: {
      msgtype: "m.text",
      body: "ok",
      "m.relates_to": { "m.in_reply_to": { event_id: events[2]!.event_id } },
    },
  };
  bed.hs.timeline(roomId).push(original);
  await bed.bridge.handleMatrixEvent(original);
  await bed.bridge.handleMatrixEvent({
    ...original,
    event_id: "$myedit",
    content: {
      msgtype: "m.text",
      body: "* ok!",
      "m.new_content": { msgtype: "m.text", body: "ok!" },
      "m.relates_to": { rel_type: "m.replace", event_id: "$myreply" },
    },
  });
  await bed.bridge.drain();
  const payload = bed.store.outbox.getByEventId("$myedit")!.payload as {
    kind: string;
    format: string;
    body: string;
  };
  assert.equal(payload.kind, "edit");
  assert.equal(payload.format, "richtext");
  assert.equal(parseQuotes(payload.body)[0]!.messageId, msgs[2]!.messageId);
  assert.ok(payload.body.endsWith("</quote>ok!"), payload.body);
});

test("a horizon write Skype refused is tried again by the next receipt", async () => {
  const bed = testBed();
  const { roomId, msgs, events } = await dmWithThree(bed);
  let fail = true;
  const reads: string[] = [];
  (bed.alice as unknown as { markRead: (c: string, id: string) => Promise<void> }).markRead = (_c, id) => {
    reads.push(id);
    return fail ? Promise.reject(new Error("offline")) : Promise.resolve();
  };
  const receipt = () =>
    bed.bridge.handleEphemeral({
      type: "m.receipt",
      room_id: roomId,
      content: { [events[2]!.event_id]: { "m.read": { [ALICE]: { ts: 1 } } } },
    });
  await receipt();
  await bed.bridge.drain();
  await new Promise((r) => setImmediate(r)); // the refusal settles outside the portal's queue
  fail = false;
  await receipt();
  await bed.bridge.drain();
  assert.deepEqual(reads, [msgs[2]!.messageId, msgs[2]!.messageId]);
});
