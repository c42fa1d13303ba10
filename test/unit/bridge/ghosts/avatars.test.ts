// SPDX-License-Identifier: Apache-2.0
/**
 * When avatars are asked for (BENCHMARKS.md, cause 8): a routine contacts re-read (a connect) skips
 * persons asked for within the day, so a restart does not ask for every contact's avatar again; a
 * re-read caused by a change (ABCH) asks for all of them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ROUTINE_RECHECK_MS } from "../../../../src/bridge/ghosts/avatars.js";
import type { Session } from "../../../../src/sessions/types.js";
import type { Contact } from "../../../../src/skype/model.js";
import { ALICE, ALICE_SKYPE, testBed } from "../portal/from-skype/fixtures.js";

const CONTACTS: Contact[] = Array.from({ length: 5 }, (_, i) => ({
  identities: [`1:c${i}@example.com`, `8:live:c_${i}`],
  displayName: `Contact ${i}`,
}));

/** A bed with the contacts applied, a settable clock and a session that records what it is asked for. */
async function avatarBed() {
  const bed = testBed({ attach: false });
  await bed.puppets.syncContacts(CONTACTS);
  const clock = { now: 1_000_000 };
  (bed.bridge as { now: () => number }).now = () => clock.now;
  const asked: string[] = [];
  const session = {
    mxid: ALICE,
    identities: [ALICE_SKYPE],
    fetchAvatar: (identity: string) => {
      asked.push(identity);
      return Promise.resolve({ kind: "none" as const });
    },
  } as unknown as Session;
  return { ...bed, clock, asked, session };
}

test("a routine re-read skips avatars asked for within the day; a change asks for all again", async () => {
  const { bridge, clock, asked, session } = await avatarBed();

  await bridge.avatars.syncAll(session, CONTACTS, { routine: true });
  assert.equal(asked.length, 6, "first connect: every contact and the user's own identity");

  asked.length = 0;
  clock.now += 60_000;
  await bridge.avatars.syncAll(session, CONTACTS, { routine: true });
  assert.deepEqual(asked, [], "a reconnect a minute later asks for none");

  await bridge.avatars.syncAll(session, CONTACTS, { routine: false });
  assert.equal(asked.length, 6, "an address-book change asks for all (the same check would have)");

  asked.length = 0;
  clock.now += ROUTINE_RECHECK_MS;
  await bridge.avatars.syncAll(session, CONTACTS, { routine: true });
  assert.equal(asked.length, 6, "a day later a connect asks again");
});

test("a routine re-read of the same contacts within the day looks at no person; a new contact is still asked for", async () => {
  const { bridge, puppets, store, clock, asked, session } = await avatarBed();
  await bridge.avatars.syncAll(session, CONTACTS, { routine: true });
  assert.equal(asked.length, 6);

  let lookups = 0;
  const getByIdentity = store.persons.getByIdentity.bind(store.persons);
  store.persons.getByIdentity = (id) => {
    lookups++;
    return getByIdentity(id);
  };
  asked.length = 0;
  clock.now += 60_000;
  await bridge.avatars.syncAll(session, CONTACTS, { routine: true });
  assert.deepEqual([asked.length, lookups], [0, 0], "nothing asked, no person looked at");

  const more: Contact[] = [...CONTACTS, { identities: ["8:live:new_one"], displayName: "New" }];
  await puppets.syncContacts(more);
  await bridge.avatars.syncAll(session, more, { routine: true });
  assert.deepEqual(asked, ["8:live:new_one"], "the new contact only");

  asked.length = 0;
  clock.now += ROUTINE_RECHECK_MS - 30_000;
  await bridge.avatars.syncAll(session, more, { routine: true });
  assert.equal(
    asked.length,
    6,
    "the window counts from the oldest check: those of a day ago are asked again",
  );
});
