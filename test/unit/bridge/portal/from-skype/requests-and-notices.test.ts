// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ContactRequests,
  parseAnswer,
  requestFailureText,
} from "../../../../../src/bridge/user/contact-requests.js";
import { StateNotices } from "../../../../../src/bridge/user/state-notices.js";
import { SkypeError, SoapFaultError } from "../../../../../src/skype/errors.js";
import { ALICE, BOT, DOMAIN, testBed, until } from "./fixtures.js";

const CAROL = "1:carol@live.com";
const CAROL_PUPPET = `@skype_1=3acarol=40live.com:${DOMAIN}`;
const REQUEST = { mri: CAROL, displayName: "Carol Ånström", message: "Hi Alice, it's Carol from work" };

function event(
  roomId: string,
  body: string,
  n: number,
): { room_id: string; sender: string; event_id: string; type: string; content: Record<string, unknown> } {
  return {
    room_id: roomId,
    sender: ALICE,
    event_id: `$user${n}`,
    type: "m.room.message",
    content: { msgtype: "m.text", body },
  };
}

test("a contact request is shown once in a room from the requester's puppet; accept makes it the DM", async () => {
  const bed = testBed();
  const requests = new ContactRequests(bed.bridge);
  requests.attach(bed.alice.asSession());
  bed.alice.emit("contactRequests", [REQUEST]);
  bed.alice.emit("contactRequests", [REQUEST]);
  const row = await until(() => bed.store.pendingRequests.get(ALICE, CAROL)?.roomId, "the request room");
  await until(() => bed.hs.messages(row).length > 0, "the request notice");
  await new ContactRequests(bed.bridge).onRequests(ALICE, [REQUEST]);
  assert.equal(bed.hs.createCalls().length, 1);
  const create = bed.hs.createCalls()[0]!;
  assert.equal(create.user, CAROL_PUPPET);
  assert.equal((create.body as Record<string, unknown>).is_direct, true);
  const [notice] = bed.hs.messages(row);
  assert.equal(bed.hs.messages(row).length, 1);
  assert.equal(notice!.sender, BOT);
  assert.equal(
    notice!.content.body,
    "Carol Ånström (carol@live.com) wants to add you as a Skype contact. Their message: “Hi Alice, it's Carol from work”" +
      "\n\nReply `accept` here to add them to your contacts, or `decline` to refuse.",
  );
  assert.equal(bed.portals.conversationFor(row), undefined, "not a portal before the answer");

  assert.equal(await requests.onRoomEvent(event(row, "hello?", 1)), true);
  assert.match(String(bed.hs.messages(row)[1]!.content.body), /reply `accept` or `decline`/);
  assert.equal(await requests.onRoomEvent(event(row, "Accept", 2)), true);
  assert.deepEqual(bed.alice.accepted, [CAROL]);
  assert.equal(bed.store.pendingRequests.get(ALICE, CAROL)!.status, "accepted");
  assert.deepEqual(bed.portals.conversationFor(row), { receiver: ALICE, conversation: CAROL, kind: "dm" });
  assert.equal(
    bed.hs.messages(row)[2]!.content.body,
    "Accepted: Carol Ånström is now one of your Skype contacts. Messages in this room now go to them on Skype.",
  );
  // A replay of the answer (restart before it was marked handled) is not bridged as chat…
  assert.equal(
    await requests.onRoomEvent({ ...event(row, "Accept", 2), origin_server_ts: Date.now() - 60_000 }),
    true,
  );
  assert.equal(bed.alice.accepted.length, 1);
  // …but once answered, later messages in the room are ordinary portal messages.
  assert.equal(
    await requests.onRoomEvent({ ...event(row, "accept", 3), origin_server_ts: Date.now() + 60_000 }),
    false,
  );
  assert.equal(await requests.onRoomEvent(event(row, "hello", 4)), false);
});

test("decline refuses on Skype, says so and the requester's puppet leaves; failures are explained", async () => {
  const bed = testBed();
  const requests = new ContactRequests(bed.bridge);
  await requests.onRequests(ALICE, [REQUEST]);
  const row = bed.store.pendingRequests.get(ALICE, CAROL)!.roomId!;
  bed.alice.failAccept = new SkypeError("SKYPE_NOT_CONNECTED", "not connected", true);
  assert.equal(await requests.onRoomEvent(event(row, "accept", 1)), true);
  assert.equal(
    bed.hs.messages(row).at(-1)!.content.body,
    "Could not accept the request from Carol Ånström: Skype could not be reached; please try again in a moment.",
  );
  assert.equal(bed.store.pendingRequests.get(ALICE, CAROL)!.status, "pending");
  assert.equal(await requests.onRoomEvent(event(row, "!skype decline", 2)), true);
  assert.deepEqual(bed.alice.declined, [CAROL]);
  assert.equal(bed.hs.messages(row).at(-1)!.content.body, "Declined the contact request from Carol Ånström.");
  assert.equal(bed.hs.membership(row, CAROL_PUPPET), "leave");
  assert.equal(bed.store.pendingRequests.get(ALICE, CAROL)!.status, "declined");
  // Messages from others than the receiver, or in other rooms, are not consumed.
  assert.equal(await requests.onRoomEvent({ ...event(row, "accept", 3), sender: "@eve:localhost" }), false);
});

test("a request from someone the user already chats with is shown in that DM portal", async () => {
  const bed = testBed();
  const dm = await bed.portals.ensureDm(ALICE, CAROL);
  const requests = new ContactRequests(bed.bridge);
  await requests.onRequests(ALICE, [REQUEST]);
  assert.equal(bed.store.pendingRequests.get(ALICE, CAROL)!.roomId, dm);
  assert.equal(bed.hs.createCalls().length, 1);
  // Ordinary chat there is still bridged while the request is pending.
  assert.equal(await requests.onRoomEvent(event(dm, "how are you?", 1)), false);
  assert.equal(await requests.onRoomEvent(event(dm, "accept", 2)), true);
  assert.equal(bed.portals.roomFor(ALICE, CAROL), dm);
});

test("answer parsing and failure texts", () => {
  assert.equal(parseAnswer(" ACCEPT. "), "accept");
  assert.equal(parseAnswer("!skype decline"), "decline");
  assert.equal(parseAnswer("accept it"), undefined);
  assert.equal(
    requestFailureText(new SoapFaultError("MemberDoesNotExist", "x")),
    "the request is no longer pending on Skype",
  );
  assert.equal(
    requestFailureText(new SkypeError("SKYPE_SOAP_FAULT", "raw text", false)),
    "Skype refused it (SKYPE_SOAP_FAULT)",
  );
  assert.equal(requestFailureText(new Error("boom")), "an unexpected error occurred");
});

test("state notices: once per change, quiet when healthy, transient disconnects debounced", async () => {
  const bed = testBed();
  const notices = new StateNotices(bed.ctx, { transientDelayMs: 30 });
  notices.attach(bed.alice.asSession());
  const s = bed.alice;
  s.emit("state", { kind: "connecting" });
  s.emit("state", { kind: "connected" });
  await notices.flush();
  assert.equal(bed.notices.length, 0, "the first connection says nothing");

  // A short drop: nothing said.
  s.emit("state", { kind: "transient_disconnect", retryAt: Date.now() + 1000 });
  s.emit("state", { kind: "connecting" });
  s.emit("state", { kind: "connected" });
  await new Promise((r) => setTimeout(r, 60));
  await notices.flush();
  assert.equal(bed.notices.length, 0);

  // A lasting drop: told once, then the reconnection.
  s.emit("state", { kind: "transient_disconnect", retryAt: Date.now() });
  await until(() => bed.notices.length === 1, "the transient notice");
  s.emit("state", { kind: "connecting" });
  s.emit("state", { kind: "transient_disconnect", retryAt: Date.now() });
  s.emit("state", { kind: "connected" });
  await notices.flush();
  assert.deepEqual(bed.notices, [
    { mxid: ALICE, text: "Lost the connection to Skype; reconnecting now.", alert: false },
    { mxid: ALICE, text: "Connected to Skype as live:alice_1.", alert: false },
  ]);

  s.emit("state", { kind: "bad_credentials" });
  s.emit("state", { kind: "bad_credentials" });
  await notices.flush();
  assert.equal(bed.notices.length, 3);
  assert.deepEqual(bed.notices[2], {
    mxid: ALICE,
    text: "Skype no longer accepts your sign-in. Send `login` to sign in again.",
    alert: true,
  });
  // A restart remembers what was said.
  const after = new StateNotices(bed.ctx, { transientDelayMs: 30 });
  after.onState(ALICE, { kind: "bad_credentials" });
  await after.flush();
  assert.equal(bed.notices.length, 3);
  // Logout resets; the next login's connection is quiet.
  after.onState(ALICE, { kind: "logged_out", reason: "logout" });
  after.onState(ALICE, { kind: "connected" });
  after.onState(ALICE, { kind: "logged_out", reason: "OTH" });
  await after.flush();
  assert.equal(bed.notices.length, 4);
  assert.equal(bed.notices[3]!.alert, true);
  notices.stop();
  after.stop();
});

test("a renewed sign-in the bridge could not save is reported as an alert, and its recovery as a notice", async () => {
  const bed = testBed();
  const notices = new StateNotices(bed.ctx, { transientDelayMs: 30 });
  notices.attach(bed.alice.asSession());
  bed.alice.emit("refreshTokenStore", { saved: false });
  bed.alice.emit("refreshTokenStore", { saved: true });
  await notices.flush();
  assert.equal(bed.notices.length, 2);
  assert.equal(bed.notices[0]!.alert, true);
  assert.match(bed.notices[0]!.text, /could not save your renewed Skype sign-in/);
  assert.equal(bed.notices[1]!.alert, false);
});

test("the end of an announced outage edits its notice, so one outage is one notice", async () => {
  const bed = testBed();
  const sent: { text: string; replaces?: string }[] = [];
  const notices = new StateNotices(
    {
      store: bed.store,
      notifyUser: (_mxid, text, o) => {
        sent.push(o?.replaces === undefined ? { text } : { text, replaces: o.replaces });
        return Promise.resolve(`$notice${sent.length}`);
      },
    },
    { transientDelayMs: 10 },
  );
  notices.attach(bed.alice.asSession());
  const s = bed.alice;
  s.emit("state", { kind: "connected" });
  s.emit("state", { kind: "transient_disconnect", retryAt: Date.now() + 1000 });
  const deadline = Date.now() + 5000;
  while (sent.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  await notices.flush();
  s.emit("state", { kind: "connected" });
  await notices.flush();
  assert.equal(sent.length, 2);
  assert.equal(sent[0]!.replaces, undefined);
  assert.equal(sent[1]!.replaces, "$notice1", "the reconnection edits the lost-connection notice");
  assert.match(sent[1]!.text, /^The connection to Skype was lost for a while and is back\./);
});

test("an outage that drops many users at once: one notice each, a few at a time, edited when each is back", async () => {
  const bed = testBed();
  const sent: { mxid: string; text: string; replaces?: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const notices = new StateNotices(
    {
      store: bed.store,
      notifyUser: async (mxid, text, o) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        sent.push(o?.replaces === undefined ? { mxid, text } : { mxid, text, replaces: o.replaces });
        return `$n${sent.length}`;
      },
    },
    { transientDelayMs: 20, concurrency: 3 },
  );
  const users = Array.from({ length: 40 }, (_, i) => `@u${i}:${DOMAIN}`);
  for (const u of users) notices.onState(u, { kind: "transient_disconnect", retryAt: Date.now() });
  await until(() => sent.length === users.length, "every lost-connection notice");
  for (const u of users) notices.onState(u, { kind: "connected" });
  await notices.flush();
  assert.equal(sent.length, 2 * users.length);
  assert.ok(maxInFlight <= 3, `at most 3 in flight (saw ${maxInFlight})`);
  for (const u of users) {
    const mine = sent.filter((s) => s.mxid === u);
    assert.equal(mine.length, 2, u);
    assert.equal(mine[0]!.replaces, undefined);
    assert.equal(
      mine[1]!.replaces,
      `$n${sent.indexOf(mine[0]!) + 1}`,
      "the end edits that user's own notice",
    );
  }
  notices.stop();
});

test("a lost-connection notice still waiting for its turn is dropped when the connection returns first", async () => {
  const bed = testBed();
  const BOB_ID = `@bob:${DOMAIN}`;
  const sent: { mxid: string; text: string }[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const notices = new StateNotices(
    {
      store: bed.store,
      notifyUser: async (mxid, text) => {
        if (mxid === ALICE) await held;
        sent.push({ mxid, text });
        return `$n${sent.length}`;
      },
    },
    { transientDelayMs: 10, concurrency: 1 },
  );
  // Alice's notice holds the only slot; Bob's lost connection is decided and waits behind it.
  notices.onState(ALICE, { kind: "bad_credentials" });
  notices.onState(BOB_ID, { kind: "transient_disconnect", retryAt: Date.now() });
  await until(() => notices.lastAnnounced(BOB_ID) === "transient_disconnect", "Bob's notice decided");
  notices.onState(BOB_ID, { kind: "connecting" });
  notices.onState(BOB_ID, { kind: "connected" });
  assert.equal(notices.lastAnnounced(BOB_ID), "connected", "nothing stands announced for Bob");
  release();
  await notices.flush();
  assert.deepEqual(
    sent.map((s) => s.mxid),
    [ALICE],
    "neither the lost connection nor its end reached Bob",
  );
  assert.equal(bed.store.meta.get(`bridge.state_notice.${BOB_ID}`), undefined);
  // A later outage of Bob's that lasts is announced as usual.
  notices.onState(BOB_ID, { kind: "transient_disconnect", retryAt: Date.now() });
  await until(() => sent.length === 2, "Bob's next lost-connection notice");
  assert.equal(sent[1]!.mxid, BOB_ID);
  notices.stop();
});

test("thousands of disconnects falling due together are all announced, a few hundred per turn", async () => {
  const bed = testBed();
  const sent = new Set<string>();
  const notices = new StateNotices(
    {
      store: bed.store,
      notifyUser: (mxid) => {
        sent.add(mxid);
        return Promise.resolve(`$n${sent.size}`);
      },
    },
    { transientDelayMs: 5, concurrency: 8 },
  );
  const users = Array.from({ length: 1000 }, (_, i) => `@many${i}:${DOMAIN}`);
  for (const u of users) notices.onState(u, { kind: "transient_disconnect", retryAt: Date.now() });
  await until(() => sent.size === users.length, "a notice for every user");
  for (const u of users) assert.equal(notices.lastAnnounced(u), "transient_disconnect", u);
  notices.stop();
});
