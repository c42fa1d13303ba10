// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientMessageIdFor, matrixTxnIdFor } from "../../../../../src/bridge/matrix/txn-ids.js";
import { ALICE, BOB_PUPPET, BOT, DM_ROOM, GROUP_ROOM, roomEvent, text, THREAD } from "./fakes.js";
import { harness } from "./setup.js";

const BOB = "8:live:bob_1";
const html = (body: string, formatted: string, msgtype = "m.text") => ({
  msgtype,
  body,
  format: "org.matrix.custom.html",
  formatted_body: formatted,
});
const editOf = (target: string, body: string, newContent: Record<string, unknown> = text(body)) => ({
  msgtype: "m.text",
  body: `* ${body}`,
  "m.new_content": newContent,
  "m.relates_to": { rel_type: "m.replace", event_id: target },
});

void test("a text message from the portal's user is sent once, with its own Client-Message-ID, and mapped", async (t) => {
  const h = harness(t);
  await h.feed(roomEvent("$m1", text("hello Bob"), { ts: 1_700_000_000_123 }));
  await h.feed(roomEvent("$m1", text("hello Bob"))); // replayed or re-sent: nothing more
  assert.deepEqual(
    h.session.sent.map((s) => [s.method, s.conversation, s.args, s.clientMessageId]),
    [["sendText", BOB, ["hello Bob"], clientMessageIdFor("$m1")]],
  );
  assert.deepEqual(h.store.outbox.list(), []);
  const row = h.store.messages.getByEventId("$m1");
  assert.equal(row?.direction, "to_skype");
  assert.equal(row?.conversation, BOB);
  assert.equal(row?.clientMessageId, clientMessageIdFor("$m1"));
  assert.equal(row?.sender, ALICE);
  assert.equal(row?.sentTs, 1_700_000_000_123);
  assert.deepEqual(h.matrix.posted(), []);
});

void test("HTML becomes rich text, emotes /me, notices text, group portals their thread", async (t) => {
  const h = harness(t);
  await h.feed(
    roomEvent("$rich", html("**bold** and _it_ <x>", "<strong>bold</strong> and <em>it</em> &lt;x&gt;")),
    roomEvent("$emote", html("waves *hard*", "waves <em>hard</em>", "m.emote")),
    roomEvent("$notice", text("automated", "m.notice")),
    roomEvent("$pill", html("Bob: hi", `<a href="https://matrix.to/#/${BOB_PUPPET}">Bob</a>: hi`)),
    roomEvent("$group", text("hi all"), { room: GROUP_ROOM }),
  );
  assert.deepEqual(
    h.session.sent.map((s) => [s.method, s.conversation, s.args]),
    [
      ["sendRichText", BOB, ["<b>bold</b> and <i>it</i> &lt;x&gt;"]],
      ["sendEmote", BOB, ["waves *hard*"]],
      ["sendText", BOB, ["automated"]],
      ["sendRichText", BOB, [`<at id="${BOB}">Bob</at>: hi`]],
      ["sendText", THREAD, ["hi all"]],
    ],
  );
});

void test("events from others, the bot, puppets or outside portals are not bridged", async (t) => {
  const h = harness(t);
  await h.feed(
    roomEvent("$1", text("from carol"), { sender: "@carol:example.org" }),
    roomEvent("$2", text("bot"), { sender: BOT }),
    roomEvent("$3", text("puppet"), { sender: BOB_PUPPET }),
    roomEvent("$4", text("elsewhere"), { room: "!other:example.org" }),
    roomEvent("$5", { msgtype: "m.text", body: "   " }),
    { event_id: "$6", type: "m.room.message" },
    "not an event" as unknown as Record<string, unknown>,
  );
  assert.equal(h.session.sent.length, 0);
  assert.deepEqual(h.store.outbox.list(), []);
  assert.deepEqual(h.matrix.posted(), []);
});

void test("edits and redactions target the original's Client-Message-ID; a delete marks it deleted", async (t) => {
  const h = harness(t);
  await h.feed(roomEvent("$orig", text("helo")), roomEvent("$emo", text("waves", "m.emote")));
  await h.feed(
    roomEvent("$ed1", editOf("$orig", "hello")),
    roomEvent("$ed2", editOf("$orig", "**hello**", html("**hello**", "<b>hello</b>"))),
    roomEvent("$ed3", editOf("$emo", "waves back", text("waves back", "m.emote"))),
    roomEvent("$red", {}, { type: "m.room.redaction", redacts: "$orig" }),
  );
  const orig = clientMessageIdFor("$orig");
  assert.deepEqual(
    h.session.sent.slice(2).map((s) => [s.method, s.conversation, s.args, s.clientMessageId]),
    [
      [
        "editMessage",
        BOB,
        [orig, { format: "text", body: "hello", emote: false }],
        clientMessageIdFor("$ed1"),
      ],
      [
        "editMessage",
        BOB,
        [orig, { format: "richtext", body: "<b>hello</b>", emote: false }],
        clientMessageIdFor("$ed2"),
      ],
      [
        "editMessage",
        BOB,
        [clientMessageIdFor("$emo"), { format: "text", body: "waves back", emote: true }],
        clientMessageIdFor("$ed3"),
      ],
      ["deleteMessage", BOB, [orig], clientMessageIdFor("$red")],
    ],
  );
  const original = h.store.messages.getByEventId("$orig");
  assert.equal(original?.deleted, true);
  assert.equal(h.store.messages.getByEventId("$ed1")?.editOf, original?.id);
  // Deleted: later edits and redactions of it do nothing.
  await h.feed(
    roomEvent("$ed4", editOf("$orig", "again")),
    roomEvent("$red2", { redacts: "$orig" }, { type: "m.room.redaction" }),
  );
  assert.equal(h.session.sent.length, 6);
});

void test("an edit of a message still queued goes out after it, on the queued Client-Message-ID", async (t) => {
  const h = harness(t, { autoDeliver: false });
  await h.m2s.onEvent(roomEvent("$q", text("first")));
  await h.m2s.onEvent(roomEvent("$qe", editOf("$q", "first!")));
  await h.m2s.onEvent(roomEvent("$qr", { redacts: "$q" }, { type: "m.room.redaction" }));
  assert.deepEqual(
    h.session.sent.map((s) => [s.method, s.args[0]]),
    [
      ["sendText", "first"],
      ["editMessage", clientMessageIdFor("$q")],
      ["deleteMessage", clientMessageIdFor("$q")],
    ],
  );
  for (const s of h.session.sent) s.delivery.resolve();
  await h.settle();
  assert.deepEqual(h.store.outbox.list(), []);
  assert.equal(h.store.messages.getByEventId("$q")?.deleted, true);
});

void test("edits and redactions Skype cannot apply: notices or nothing", async (t) => {
  const h = harness(t);
  await h.feed(roomEvent("$orig", text("one")), roomEvent("$ed", editOf("$orig", "two")));
  h.store.messages.insert({
    receiver: ALICE,
    conversation: BOB,
    skypeMessageId: "1001",
    clientMessageId: "555",
    roomId: DM_ROOM,
    eventId: "$fromBob",
    direction: "to_matrix",
    sender: BOB,
    sentTs: 1,
  });
  h.store.messages.insert({
    receiver: ALICE,
    conversation: BOB,
    skypeMessageId: "1002",
    clientMessageId: "777",
    roomId: DM_ROOM,
    eventId: "$mineElsewhere",
    direction: "to_matrix",
    sender: "8:live:alice_1",
    sentTs: 2,
  });
  await h.feed(
    roomEvent("$r1", { redacts: "$ed" }, { type: "m.room.redaction" }),
    roomEvent("$e2", editOf("$unknown", "x")),
    roomEvent("$r2", { redacts: "$fromBob" }, { type: "m.room.redaction" }),
    roomEvent("$r3", { redacts: "$unknownToo" }, { type: "m.room.redaction" }),
    roomEvent("$r4", { redacts: "$mineElsewhere" }, { type: "m.room.redaction" }),
  );
  assert.deepEqual(
    h.session.sent.slice(2).map((s) => [s.method, s.args]),
    [["deleteMessage", ["777"]]],
    "only the user's own message (sent from another Skype endpoint) can be deleted",
  );
  assert.deepEqual(
    h.matrix
      .posted()
      .map((p) => [
        p.userId,
        p.content.body,
        (p.content["m.relates_to"] as { "m.in_reply_to": unknown })["m.in_reply_to"],
      ]),
    [
      [BOT, "⚠️ Your redaction was not bridged: Skype cannot undo a single edit.", { event_id: "$r1" }],
      [BOT, "⚠️ Your edit was not bridged: the message it changes never reached Skype.", { event_id: "$e2" }],
    ],
  );
});

void test("media the bridge cannot read get one notice replying to the event, as the bot", async (t) => {
  const h = harness(t);
  const encrypted = { msgtype: "m.image", body: "cat.png", file: { url: "mxc://example.org/cat" } };
  await h.feed(roomEvent("$img", encrypted));
  await h.feed(roomEvent("$img", encrypted));
  assert.equal(h.session.sent.length, 0);
  const posts = h.matrix.posted();
  assert.equal(
    posts.length,
    2,
    "a replay posts with the same transaction id (Synapse answers with the first event)",
  );
  assert.equal(posts[0]!.path, posts[1]!.path);
  assert.equal(
    posts[0]!.path,
    `/_matrix/client/v3/rooms/${encodeURIComponent(DM_ROOM)}/send/m.room.message/${matrixTxnIdFor("unsupported", "$img")}`,
  );
  assert.deepEqual(posts[0]!.content, {
    msgtype: "m.notice",
    body: "⚠️ Your image was not bridged: the bridge cannot read encrypted files.",
    "m.relates_to": { "m.in_reply_to": { event_id: "$img" } },
    "m.mentions": { user_ids: [ALICE] },
  });
  assert.deepEqual(
    h.matrix.calls.filter((c) => c.op === "join").map((c) => [c.userId, c.roomId]),
    [
      [BOT, DM_ROOM],
      [BOT, DM_ROOM],
    ],
  );
  // In a DM the bot is not in, the contact's puppet posts it.
  h.matrix.failFor.add(BOT);
  await h.feed(roomEvent("$stk", { body: "sticker" }, { type: "m.sticker" }));
  const last = h.matrix.posted().at(-1)!;
  assert.equal(last.userId, BOB_PUPPET);
  assert.equal(last.content.body, "⚠️ Your sticker was not bridged: it has no content.");
});

void test("typing: the user's own typing is forwarded on change only", async (t) => {
  const h = harness(t);
  const typing = (room: string, users: string[]) =>
    h.m2s.onEphemeral({ type: "m.typing", room_id: room, content: { user_ids: users } });
  await typing(DM_ROOM, [ALICE]);
  await typing(DM_ROOM, [ALICE, BOB_PUPPET]);
  await typing(DM_ROOM, [BOB_PUPPET]);
  await typing(DM_ROOM, []);
  await typing(GROUP_ROOM, ["@carol:example.org"]);
  await typing("!notaportal:example.org", [ALICE]);
  await typing(GROUP_ROOM, [ALICE]);
  await h.m2s.onEphemeral({ type: "m.receipt", room_id: DM_ROOM, content: {} });
  await h.m2s.onEphemeral(null);
  assert.deepEqual(h.session.typing, [
    { conversation: BOB, typing: true },
    { conversation: BOB, typing: false },
    { conversation: THREAD, typing: true },
  ]);
});

void test("inviting a puppet to a direct chat adopts it as the DM portal; other invites are refused", async (t) => {
  const h = harness(t);
  const invite = (
    id: string,
    room: string,
    opts: { sender?: string; direct?: boolean; target?: string } = {},
  ) =>
    roomEvent(
      id,
      { membership: "invite", ...(opts.direct === false ? {} : { is_direct: true }) },
      { type: "m.room.member", room, sender: opts.sender ?? ALICE, stateKey: opts.target ?? BOB_PUPPET },
    );
  await h.feed(
    invite("$i1", "!new:example.org"),
    invite("$i2", "!notdirect:example.org", { direct: false }),
    invite("$i3", "!stranger:example.org", { sender: "@carol:example.org" }),
    invite("$i4", DM_ROOM),
    invite("$i5", "!self:example.org", { target: "@skype_8=3alive=3aalice__1:example.org" }),
    roomEvent(
      "$i6",
      { membership: "join" },
      { type: "m.room.member", room: "!x:example.org", stateKey: BOB_PUPPET },
    ),
    invite("$i7", "!botinv:example.org", { target: BOT }),
  );
  assert.deepEqual(h.portals.adopted, [{ receiver: ALICE, roomId: "!new:example.org", puppet: BOB_PUPPET }]);
  assert.deepEqual(
    h.matrix.calls.filter((c) => c.op === "leave").map((c) => [c.userId, c.roomId, c.reason]),
    [
      [
        BOB_PUPPET,
        "!notdirect:example.org",
        "Only direct chats with a Skype contact can be started from Matrix.",
      ],
      [
        BOB_PUPPET,
        "!stranger:example.org",
        "You have not linked a Skype account: send `login` to the bridge bot first.",
      ],
      ["@skype_8=3alive=3aalice__1:example.org", "!self:example.org", "This is your own Skype account."],
    ],
  );
});

void test("per-portal order holds for a burst across two portals", async (t) => {
  const h = harness(t);
  const events = Array.from({ length: 40 }, (_, i) =>
    roomEvent(`$b${i}`, text(`message ${i}`), { room: i % 2 ? GROUP_ROOM : DM_ROOM }),
  );
  await Promise.all(events.map((e) => h.m2s.onEvent(e)));
  await h.settle();
  for (const [conv, parity] of [
    [BOB, 0],
    [THREAD, 1],
  ] as const) {
    assert.deepEqual(
      h.session.sent.filter((s) => s.conversation === conv).map((s) => s.args[0]),
      Array.from({ length: 20 }, (_, k) => `message ${2 * k + parity}`),
    );
  }
  assert.equal(h.store.outbox.list().length, 0);
});
