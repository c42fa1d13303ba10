// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { test } from "node:test";
import { StoreErrorCode } from "../../../src/store/index.js";
import { ALICE, open } from "./helpers.js";

const BOB_LIVE = "1:bob@hotmail.com";
const BOB_SKYPE = "8:live:bob_1";
const CAROL = "@carol:example.org";

void test("ensure creates one person per unknown identity, with that identity as id", (t) => {
  const store = open(t);
  const first = store.persons.ensure(BOB_SKYPE);
  assert.equal(first.created, true);
  assert.equal(first.person.id, BOB_SKYPE);
  const again = store.persons.ensure(BOB_SKYPE);
  assert.equal(again.created, false);
  assert.deepEqual(again.person, first.person);
  assert.deepEqual(
    store.persons.identities(BOB_SKYPE).map((i) => i.identity),
    [BOB_SKYPE],
  );
  for (const bad of ["", "bob", "8:", "8:bob;epid={x}", "8:bo b"]) {
    assert.throws(() => store.persons.ensure(bad), { code: StoreErrorCode.InvalidArgument });
  }
});

void test("link of unknown identities creates one person holding both", (t) => {
  const store = open(t);
  const r = store.persons.link([BOB_SKYPE, BOB_LIVE, BOB_SKYPE]);
  assert.equal(r.created, true);
  assert.equal(r.person.id, BOB_SKYPE);
  assert.deepEqual(r.merged, []);
  assert.equal(store.persons.getByIdentity(BOB_LIVE)?.id, BOB_SKYPE);
  const again = store.persons.link([BOB_LIVE, BOB_SKYPE]);
  assert.equal(again.created, false);
  assert.deepEqual(again.merged, []);
  assert.throws(() => store.persons.link([]), { code: StoreErrorCode.InvalidArgument });
});

void test("merging two persons keeps the earlier one, its puppet, and re-points portals", (t) => {
  const store = open(t);
  for (const u of [ALICE, CAROL]) store.users.upsert(u);
  // Bob is first met as his e-mail identity, later as his Skype name: two persons.
  store.persons.ensure(BOB_LIVE);
  store.persons.ensure(BOB_SKYPE);
  store.persons.update(BOB_SKYPE, {
    displayName: "Bob Skype",
    avatarUrl: "https://avatar/bob",
    presence: "NLN",
  });
  store.persons.update(BOB_LIVE, { displayName: "Bob" });
  store.puppets.upsert(BOB_LIVE, "@skype_bob_live:x");
  store.puppets.upsert(BOB_SKYPE, "@skype_bob_skype:x", { displayNameSet: "Bob Skype" });
  // Alice has a DM with each; Carol only with the later one.
  store.portals.create({ roomId: "!a1:x", receiver: ALICE, conversation: BOB_LIVE, kind: "dm" });
  store.portals.create({ roomId: "!a2:x", receiver: ALICE, conversation: BOB_SKYPE, kind: "dm" });
  store.portals.create({ roomId: "!c2:x", receiver: CAROL, conversation: BOB_SKYPE, kind: "dm" });
  store.messages.insert({
    receiver: ALICE,
    conversation: BOB_SKYPE,
    skypeMessageId: "1",
    roomId: "!a2:x",
    eventId: "$old",
    direction: "to_matrix",
    sender: BOB_SKYPE,
    sentTs: 1,
  });

  const r = store.persons.link([BOB_SKYPE, BOB_LIVE]);
  assert.equal(r.created, false);
  assert.equal(r.person.id, BOB_LIVE);
  assert.equal(r.person.displayName, "Bob");
  assert.equal(r.person.avatarUrl, "https://avatar/bob", "empty fields are filled from the merged person");
  assert.equal(r.person.presence, "NLN");
  assert.equal(r.merged.length, 1);
  const m = r.merged[0]!;
  assert.equal(m.personId, BOB_SKYPE);
  assert.equal(m.retiredPuppetMxid, "@skype_bob_skype:x");
  assert.deepEqual(
    m.droppedPortals.map((p) => p.roomId),
    ["!a2:x"],
  );

  assert.equal(store.persons.get(BOB_SKYPE), undefined);
  assert.equal(store.persons.getByIdentity(BOB_SKYPE)?.id, BOB_LIVE);
  assert.deepEqual(
    store.persons
      .identities(BOB_LIVE)
      .map((i) => i.identity)
      .sort(),
    [BOB_LIVE, BOB_SKYPE].sort(),
  );
  assert.equal(store.puppets.get(BOB_LIVE)?.mxid, "@skype_bob_live:x");
  assert.equal(store.puppets.getByMxid("@skype_bob_skype:x"), undefined);
  assert.equal(store.portals.get(ALICE, BOB_LIVE)?.roomId, "!a1:x");
  assert.equal(store.portals.getByRoom("!a2:x"), undefined);
  assert.equal(store.messages.getByEventId("$old"), undefined, "the dropped room's map went with it");
  assert.equal(store.portals.get(CAROL, BOB_LIVE)?.roomId, "!c2:x");
});

void test("a merge adopts the later puppet when the earlier person had none, and folds several persons", (t) => {
  const store = open(t);
  store.persons.ensure("8:a");
  store.persons.ensure("8:b");
  store.persons.ensure("1:c@x");
  store.puppets.upsert("8:b", "@skype_b:x");
  store.puppets.upsert("1:c@x", "@skype_c:x");
  const r = store.persons.link(["1:c@x", "8:b", "8:a", "4:+4477"]);
  assert.equal(r.person.id, "8:a");
  assert.deepEqual(
    r.merged.map((m) => m.personId),
    ["8:b", "1:c@x"],
  );
  assert.deepEqual(
    r.merged.map((m) => m.retiredPuppetMxid),
    [null, "@skype_c:x"],
  );
  assert.equal(store.puppets.get("8:a")?.mxid, "@skype_b:x");
  assert.equal(store.persons.identities("8:a").length, 4);
});

void test("the reply identity is the last one written from, else the 8: one", (t) => {
  const store = open(t);
  store.persons.link([BOB_LIVE, BOB_SKYPE]);
  assert.equal(store.persons.replyIdentity(BOB_LIVE), BOB_SKYPE);
  assert.equal(store.persons.touchIdentity(BOB_LIVE, 2000), true);
  assert.equal(store.persons.replyIdentity(BOB_LIVE), BOB_LIVE);
  store.persons.touchIdentity(BOB_SKYPE, 3000);
  assert.equal(store.persons.replyIdentity(BOB_LIVE), BOB_SKYPE);
  store.persons.touchIdentity(BOB_LIVE, 2500);
  assert.equal(store.persons.replyIdentity(BOB_LIVE), BOB_SKYPE, "a late, older timestamp does not win");
  assert.equal(store.persons.touchIdentity("8:unknown", 1), false);
  assert.equal(store.persons.replyIdentity("8:unknown"), undefined);
});

void test("profile and puppet patches keep, set and clear fields", (t) => {
  const store = open(t);
  store.persons.ensure(BOB_SKYPE);
  const p = store.persons.update(BOB_SKYPE, { displayName: "Bob", presence: "AWY" });
  assert.equal(p.presence, "AWY");
  assert.ok(p.presenceTs !== null);
  const q = store.persons.update(BOB_SKYPE, { avatarUrl: "u" });
  assert.equal(q.displayName, "Bob");
  assert.equal(store.persons.update(BOB_SKYPE, { displayName: null }).displayName, null);
  assert.throws(() => store.persons.update("8:nobody", {}), { code: StoreErrorCode.NotFound });

  const pp = store.puppets.upsert(BOB_SKYPE, "@skype_bob:x", { presenceSet: "online" });
  assert.equal(pp.presenceSet, "online");
  assert.ok(pp.presenceSetTs !== null);
  const pp2 = store.puppets.upsert(BOB_SKYPE, "@ignored:x", { avatarSet: "mxc://a" });
  assert.equal(pp2.mxid, "@skype_bob:x");
  assert.equal(pp2.presenceSet, "online");
  assert.equal(pp2.avatarSet, "mxc://a");
  store.persons.ensure("8:other");
  assert.throws(() => store.puppets.upsert("8:other", "@skype_bob:x"), { code: StoreErrorCode.Constraint });
  assert.throws(() => store.puppets.upsert("8:nobody", "@n:x"), { code: StoreErrorCode.Constraint });
});
