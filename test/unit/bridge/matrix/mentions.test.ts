// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EmptyMentions,
  MEMBERS_RETRY_MS,
  MEMBERS_ROOMS_MAX,
  MEMBERS_TTL_MS,
  type RoomMemberName,
} from "../../../../src/bridge/matrix/mentions.js";

const ROOM = "!portal:example.org";
const BOT = "@skypebot:example.org";
const PUPPET = "@skype_bob:example.org";

const MEMBERS: RoomMemberName[] = [
  { userId: "@alice:example.org", membership: "join", displayname: "Alice Liddell" },
  { userId: "@carol:remote.example", membership: "invite", displayname: "Carol" },
  { userId: "@dave:example.org", membership: "ban", displayname: "Dave" },
  { userId: BOT, membership: "join", displayname: "Skype bridge" },
  { userId: PUPPET, membership: "join", displayname: "Bob Builder (Skype)" },
];

function setUp(members: () => Promise<readonly RoomMemberName[]> = () => Promise.resolve(MEMBERS)) {
  let clock = 1_000_000;
  const reads: string[] = [];
  const mentions = new EmptyMentions(
    (roomId) => {
      reads.push(roomId);
      return members();
    },
    (mxid) => mxid === BOT || mxid.startsWith("@skype_"),
    () => clock,
  );
  return {
    mentions,
    reads,
    advance: (ms: number) => (clock += ms),
  };
}

const text = (body: unknown) => ({ msgtype: "m.text", body, "m.mentions": {} });

test("an empty m.mentions is left out when no member's name or localpart and no @room is in the body", async () => {
  const { mentions, reads } = setUp();
  const content = text("see you at the builder's yard, bob");
  const sent = await mentions.trim(ROOM, content);
  assert.deepEqual(sent, { msgtype: "m.text", body: "see you at the builder's yard, bob" });
  assert.deepEqual(content["m.mentions"], {}, "the caller's content is not changed");
  assert.deepEqual(reads, [ROOM]);
  // The names are read once per room.
  await mentions.trim(ROOM, text("again"));
  assert.deepEqual(reads, [ROOM]);
});

test("the key stays when a legacy push rule could match: a display name, a localpart, @room, any case", async () => {
  const { mentions } = setUp();
  for (const body of [
    "hi ALICE LIDDELL!",
    "alice liddell",
    "ping @alice",
    "dear carol,", // invited: their client evaluates it too
    "CAROL",
    "@room please read",
    "@ROOM",
    "malice", // a substring is enough: a superset of the rules' word match
  ]) {
    assert.deepEqual(await mentions.trim(ROOM, text(body)), text(body), body);
  }
});

test("names of the bridge's own users and of members who left or are banned do not count", async () => {
  const { mentions } = setUp();
  for (const body of ["Bob Builder (Skype)", "skypebot", "Skype bridge", "dave"]) {
    assert.equal("m.mentions" in (await mentions.trim(ROOM, text(body))), false, body);
  }
});

test("contents with mentions, without the key or without a text body go out as they are, unread", async () => {
  const { mentions, reads } = setUp();
  const mentioning = { msgtype: "m.text", body: "Alice", "m.mentions": { user_ids: ["@alice:example.org"] } };
  assert.equal(await mentions.trim(ROOM, mentioning), mentioning);
  const none = { msgtype: "m.text", body: "hi" };
  assert.equal(await mentions.trim(ROOM, none), none);
  const odd = text(42);
  assert.equal(await mentions.trim(ROOM, odd), odd);
  const list = { msgtype: "m.text", body: "hi", "m.mentions": [] };
  assert.equal(await mentions.trim(ROOM, list), list);
  assert.deepEqual(reads, []);
});

test("a membership event in the room makes the names read again", async () => {
  let members: RoomMemberName[] = [
    { userId: "@alice:example.org", membership: "join", displayname: "Alice" },
  ];
  const { mentions, reads } = setUp(() => Promise.resolve(members));
  assert.equal("m.mentions" in (await mentions.trim(ROOM, text("hello Wonderland"))), false);
  members = [{ userId: "@alice:example.org", membership: "join", displayname: "Wonderland" }];
  mentions.observe([{ type: "m.room.message", room_id: ROOM }]);
  mentions.observe([{ type: "m.room.member", room_id: "!other:example.org" }]);
  assert.equal(
    "m.mentions" in (await mentions.trim(ROOM, text("hello Wonderland"))),
    false,
    "not this room's",
  );
  mentions.observe([{ type: "m.room.member", room_id: ROOM, state_key: PUPPET }]);
  assert.equal("m.mentions" in (await mentions.trim(ROOM, text("hello Wonderland"))), false, "a puppet's");
  mentions.observe([{ type: "m.room.member", room_id: ROOM, state_key: "@alice:example.org" }]);
  assert.deepEqual(await mentions.trim(ROOM, text("hello Wonderland")), text("hello Wonderland"));
  assert.deepEqual(reads, [ROOM, ROOM]);
});

test("a membership event while the names are being read keeps the key for the sends waiting on them", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { mentions } = setUp(async () => {
    await gate;
    return MEMBERS;
  });
  const pending = mentions.trim(ROOM, text("hello"));
  mentions.observe([{ type: "m.room.member", room_id: ROOM }]);
  release();
  assert.deepEqual(await pending, text("hello"));
  // The next send reads them again and may leave it out.
  assert.equal("m.mentions" in (await mentions.trim(ROOM, text("hello"))), false);
});

test("members that cannot be read keep the key; they are asked again a minute later", async () => {
  let fail = true;
  const { mentions, reads, advance } = setUp(() =>
    fail ? Promise.reject(new Error("M_FORBIDDEN")) : Promise.resolve(MEMBERS),
  );
  assert.deepEqual(await mentions.trim(ROOM, text("hello")), text("hello"));
  assert.deepEqual(await mentions.trim(ROOM, text("hello")), text("hello"));
  assert.equal(reads.length, 1);
  fail = false;
  advance(MEMBERS_RETRY_MS);
  assert.equal("m.mentions" in (await mentions.trim(ROOM, text("hello"))), false);
  assert.equal(reads.length, 2);
});

test("names are read again after the TTL even without a membership event", async () => {
  const { mentions, reads, advance } = setUp();
  await mentions.trim(ROOM, text("hello"));
  advance(MEMBERS_TTL_MS - 1);
  await mentions.trim(ROOM, text("hello"));
  assert.equal(reads.length, 1);
  advance(1);
  await mentions.trim(ROOM, text("hello"));
  assert.equal(reads.length, 2);
});

test("at most MEMBERS_ROOMS_MAX rooms are remembered; the oldest goes first", async () => {
  const { mentions, reads } = setUp(() => Promise.resolve([]));
  for (let i = 0; i <= MEMBERS_ROOMS_MAX; i++) await mentions.trim(`!r${i}:example.org`, text("hi"));
  assert.equal(reads.length, MEMBERS_ROOMS_MAX + 1);
  await mentions.trim(`!r${MEMBERS_ROOMS_MAX}:example.org`, text("hi"));
  assert.equal(reads.length, MEMBERS_ROOMS_MAX + 1, "the newest is still known");
  await mentions.trim("!r0:example.org", text("hi"));
  assert.equal(reads.length, MEMBERS_ROOMS_MAX + 2, "the oldest was forgotten");
});
