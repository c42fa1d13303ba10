// SPDX-License-Identifier: Apache-2.0
/**
 * What a connect costs the store and Synapse when nothing changed (BENCHMARKS.md, causes 4): the
 * contact sync is one transaction and writes nothing for contacts already stored as they are, and
 * the user's own puppet is not registered again at every start.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Contact } from "../../../../src/skype/model.js";
import { FakeMatrixError, FakeHomeserver } from "../portal/from-skype/fake-hs.js";
import { ALICE, BOB_LIVE, BOB_SKYPE, DOMAIN, testBed } from "../portal/from-skype/fixtures.js";

function contacts(n: number, name = (i: number) => `Contact ${i}`): Contact[] {
  return Array.from({ length: n }, (_, i) => ({
    identities: [`1:c${i}@example.com`, `8:live:c_${i}`],
    displayName: name(i),
  }));
}

/** Counts outermost `store.transaction` calls and notes whether each `persons.link` ran inside one. */
function spyStore(store: ReturnType<typeof testBed>["store"]) {
  const seen = { outer: 0, links: 0, linksOutside: 0, updates: 0 };
  let depth = 0;
  const transaction = store.transaction.bind(store);
  store.transaction = <T>(fn: () => T): T => {
    if (depth === 0) seen.outer++;
    depth++;
    try {
      return transaction(fn);
    } finally {
      depth--;
    }
  };
  const link = store.persons.link.bind(store.persons);
  store.persons.link = (ids) => {
    seen.links++;
    if (depth === 0) seen.linksOutside++;
    return link(ids);
  };
  const update = store.persons.update.bind(store.persons);
  store.persons.update = (id, patch) => {
    seen.updates++;
    return update(id, patch);
  };
  return seen;
}

test("syncContacts: the whole list in one transaction; an unchanged list writes nothing", async () => {
  const { store, puppets } = testBed({ attach: false });
  const seen = spyStore(store);
  await puppets.syncContacts(contacts(50));
  assert.deepEqual(seen, { outer: 1, links: 50, linksOutside: 0, updates: 50 });
  assert.equal(
    store.persons.getByIdentity("8:live:c_7")!.id,
    store.persons.getByIdentity("1:c7@example.com")!.id,
  );
  assert.equal(store.persons.getByIdentity("8:live:c_7")!.displayName, "Contact 7");

  const stamps = (): number[] =>
    contacts(50).map((c) => store.persons.getByIdentity(c.identities[0]!)!.updatedTs);
  const before = stamps();
  await puppets.syncContacts(contacts(50));
  assert.equal(seen.outer, 2);
  assert.equal(seen.links, 50, "no contact linked again");
  assert.equal(seen.updates, 50, "no name written again");
  assert.deepEqual(stamps(), before);

  // A rename and a new identity are still applied.
  const changed = contacts(50, (i) => (i === 3 ? "Renamed" : `Contact ${i}`));
  changed[4]!.identities.push("8:c4.second");
  await puppets.syncContacts(changed);
  assert.equal(seen.links, 52);
  assert.equal(store.persons.getByIdentity("8:live:c_3")!.displayName, "Renamed");
  assert.equal(store.persons.getByIdentity("8:c4.second")!.id, store.persons.getByIdentity("8:live:c_4")!.id);
});

test("syncContacts with an owner: the list last applied for that owner is skipped; a changed one or a failed one is applied again", async () => {
  const { store, puppets } = testBed({ attach: false });
  const seen = spyStore(store);
  await puppets.syncContacts(contacts(20), ALICE);
  assert.equal(seen.outer, 1);
  await puppets.syncContacts(contacts(20), ALICE);
  assert.equal(seen.outer, 1, "the same list of the same owner: not even looked at");
  await puppets.syncContacts(contacts(20), "@other:example.org");
  assert.equal(seen.outer, 2, "another owner's list is applied");
  await puppets.syncContacts(contacts(20), ALICE);
  assert.equal(seen.outer, 2);
  const renamed = contacts(20, (i) => (i === 2 ? "Renamed" : `Contact ${i}`));
  await puppets.syncContacts(renamed, ALICE);
  assert.equal(seen.outer, 3);
  assert.equal(store.persons.getByIdentity("8:live:c_2")!.displayName, "Renamed");

  // A contact the store refused: the same list is tried again next time.
  const bad = [...contacts(2), { identities: ["not an identity"], displayName: "Bad" }];
  await puppets.syncContacts(bad, ALICE);
  await puppets.syncContacts(bad, ALICE);
  assert.equal(seen.outer, 5);

  // After a restart (same store, new bridge) the last list applied is still known...
  await puppets.syncContacts(renamed, ALICE);
  const restarted = testBed({ store, attach: false });
  const seenAfter = spyStore(store);
  await restarted.puppets.syncContacts(renamed, ALICE);
  assert.equal(seenAfter.outer, 0, "skipped after a restart too");
  // ...unless the puppet name template changed: then every puppet's name must be checked again.
  const retemplated = testBed({ store, attach: false });
  (retemplated.ctx.config.puppets as { display_name_template: string }).display_name_template = "{name} [S]";
  await retemplated.puppets.syncContacts(renamed, ALICE);
  assert.equal(seenAfter.outer, 1);
});

test("syncContacts: a contact the store refuses undoes nothing else", async () => {
  const { store, puppets } = testBed();
  const list = contacts(3);
  list[1] = { identities: ["not an identity"], displayName: "Bad" };
  await puppets.syncContacts(list);
  assert.equal(store.persons.getByIdentity("8:live:c_0")!.displayName, "Contact 0");
  assert.equal(store.persons.getByIdentity("8:live:c_2")!.displayName, "Contact 2");
  assert.equal(store.persons.getByIdentity("not an identity"), undefined);
});

test("syncContacts: a merge of two persons is still reported, and existing puppets still renamed", async () => {
  const { store, puppets, hs } = testBed();
  await puppets.ensure(BOB_SKYPE, { displayName: "Bob" });
  store.persons.ensure(BOB_LIVE);
  const merges: string[] = [];
  puppets.onMerged((survivor, merge) => void merges.push(`${merge.personId}->${survivor.id}`));
  await puppets.syncContacts([{ identities: [BOB_LIVE, BOB_SKYPE], displayName: "Bob Builder" }]);
  assert.equal(merges.length, 1);
  const mxid = puppets.mxidOf(store.persons.getByIdentity(BOB_SKYPE)!.id);
  assert.equal(hs.profiles.get(mxid), "Bob Builder (Skype)");
});

test("selfPuppet: registered once; after a restart it is not registered again unless Synapse forgot it", async () => {
  const hs = new FakeHomeserver(DOMAIN);
  const registrations: string[] = [];
  const intent = hs.intent.bind(hs);
  hs.intent = (userId) => {
    const i = intent(userId);
    const ensure = i.ensureRegistered.bind(i);
    i.ensureRegistered = () => {
      registrations.push(userId);
      return ensure();
    };
    return i;
  };
  const first = testBed({ hs });
  const user = first.bridge.users.get(ALICE);
  const own = await first.puppets.selfPuppet(user);
  assert.deepEqual(registrations, [own.mxid]);
  assert.equal(hs.profiles.get(own.mxid), "Alice Liddell (Skype)");

  // A restart: a new bridge over the same store and homeserver.
  const second = testBed({ hs, store: first.store, attach: false });
  const again = await second.puppets.selfPuppet(second.bridge.users.get(ALICE));
  assert.equal(again.mxid, own.mxid);
  assert.deepEqual(registrations, [own.mxid], "not registered again");

  // Synapse lost the user (a new database): the first call made as it registers it and goes through.
  hs.registered.delete(own.mxid);
  const third = testBed({ hs, store: first.store, attach: false });
  await third.puppets.selfPuppet(third.bridge.users.get(ALICE));
  const roomId = await third.portals.ensureDm(ALICE, BOB_SKYPE);
  assert.ok(roomId);
  await third.bridge.matrix
    .sendEvent(own.mxid, roomId, "m.room.message", { body: "x" }, "txn-1")
    .catch((e: unknown) => {
      // Not a member of that room: a refusal for another reason, after registering.
      assert.ok(e instanceof FakeMatrixError && e.statusCode === 403 && !/not registered/.test(e.message));
    });
  assert.deepEqual(
    registrations.filter((r) => r === own.mxid),
    [own.mxid, own.mxid],
    "registered again once Synapse said it did not know it",
  );
});
