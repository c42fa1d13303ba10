// SPDX-License-Identifier: Apache-2.0
/**
 * Presence that tells the truth: a person's puppet shows what the linked users' sessions currently
 * see of them, nothing older. Sessions are fakes whose events the tests emit; the homeserver is the
 * in-memory one of the Skype → Matrix tests. `drain()` resolves once every presence write decided
 * so far is done, which is the positive signal before each "nothing else was written" check.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SessionState } from "../../../../src/sessions/types.js";
import {
  BOB_LIVE,
  BOB_SKYPE,
  linkUser,
  testBed,
  until,
  type TestBed,
} from "../portal/from-skype/fixtures.js";

const CAROL = "@carol:localhost";
const CAROL_IDS = { live: "1:carol@live.com", skype: "8:live:carol_7" };
const DAVE = "8:dave.lister";
const ECHO = "8:echo123";

/** A presence event as a session emits it. */
function seen(identity: string, status: string, mood?: string) {
  return { identity, status, endpoints: status === "FLN" ? 0 : 1, self: false, ...(mood ? { mood } : {}) };
}

/** The puppet of the person who has `identity`. */
function puppetOf(bed: TestBed, identity: string): string {
  return bed.puppets.mxidOf(bed.store.persons.getByIdentity(identity)!.id);
}

/** What the homeserver shows for the puppet of `identity` (undefined: never set). */
function shown(bed: TestBed, identity: string): string | undefined {
  const person = bed.store.persons.getByIdentity(identity);
  return person ? bed.hs.presence.get(bed.puppets.mxidOf(person.id))?.presence : undefined;
}

function writesTo(bed: TestBed, identity: string): number {
  const mxid = puppetOf(bed, identity);
  return bed.hs.presenceCalls.filter((c) => c.user === mxid).length;
}

const ENDINGS: [string, SessionState][] = [
  ["a logout (unlink)", { kind: "logged_out", reason: "logout" }],
  ["a stop (re-link, shutdown)", { kind: "logged_out", reason: "stopped" }],
  ["a refused sign-in", { kind: "bad_credentials" }],
];

for (const [what, ending] of ENDINGS) {
  test(`${what}: contacts only that user sees go offline; others show what the other users see`, async () => {
    const bed = testBed();
    const { alice, s2m, store } = bed;
    store.persons.link([BOB_LIVE, BOB_SKYPE]);
    const carol = linkUser(bed, CAROL, CAROL_IDS, "Carol");
    alice.emit("presence", seen(BOB_SKYPE, "NLN"));
    alice.emit("presence", seen(DAVE, "NLN"));
    alice.emit("presence", seen(ECHO, "NLN"));
    carol.emit("presence", seen(DAVE, "AWY"));
    carol.emit("presence", seen(ECHO, "NLN"));
    await s2m.drain();
    assert.deepEqual(
      [shown(bed, BOB_SKYPE), shown(bed, DAVE), shown(bed, ECHO)],
      ["online", "online", "online"],
    );
    const echoWrites = writesTo(bed, ECHO);

    alice.emit("state", ending);
    await s2m.drain();
    assert.equal(shown(bed, BOB_SKYPE), "offline", "only alice saw bob");
    assert.equal(store.persons.getByIdentity(BOB_SKYPE)!.presence, "offline");
    assert.equal(shown(bed, DAVE), "unavailable", "carol sees dave away");
    assert.equal(shown(bed, ECHO), "online", "carol sees echo online");
    assert.equal(writesTo(bed, ECHO), echoWrites, "nothing changed for echo, nothing was written");

    // A late event of the ended session counts for nothing; carol's later event is the signal
    // that it was handled.
    alice.emit("presence", seen(BOB_SKYPE, "NLN"));
    carol.emit("presence", seen(ECHO, "BSY"));
    await s2m.drain();
    assert.equal(shown(bed, ECHO), "unavailable");
    assert.equal(shown(bed, BOB_SKYPE), "offline");
  });
}

test("a reconnect rebuilds presence: who is not re-announced before catch-up ends goes offline", async () => {
  const bed = testBed();
  const { alice, s2m } = bed;
  alice.emit("presence", seen(BOB_SKYPE, "NLN"));
  alice.emit("presence", seen(DAVE, "NLN"));
  alice.emit("presence", seen(ECHO, "AWY", "at lunch"));
  await s2m.drain();
  assert.deepEqual(
    [shown(bed, BOB_SKYPE), shown(bed, DAVE), shown(bed, ECHO)],
    ["online", "online", "unavailable"],
  );

  alice.emit("state", { kind: "transient_disconnect", retryAt: Date.now() });
  alice.emit("state", { kind: "connected" });
  alice.emit("presence", seen(DAVE, "NLN"));
  alice.emit("presence", seen(ECHO, "NLN"));
  await s2m.drain();
  // Echo's change was written: the events so far were handled, and until catch-up ends bob is
  // still vouched for (his document may still come).
  assert.equal(shown(bed, ECHO), "online");
  assert.equal(shown(bed, BOB_SKYPE), "online");

  alice.emit("caughtUp", { messages: 0 });
  await s2m.drain();
  assert.equal(shown(bed, BOB_SKYPE), "offline", "bob was not re-announced");
  assert.equal(shown(bed, DAVE), "online");
  assert.equal(shown(bed, ECHO), "online");
});

test("a connection down longer than the grace stops vouching; the next catch-up brings presence back", async () => {
  const bed = testBed({ puppets: { presenceStaleAfterMs: 20 } });
  const { alice, s2m } = bed;
  alice.emit("presence", seen(BOB_SKYPE, "NLN"));
  await s2m.drain();
  assert.equal(shown(bed, BOB_SKYPE), "online");
  alice.emit("state", { kind: "transient_disconnect", retryAt: Date.now() + 60_000 });
  await until(() => shown(bed, BOB_SKYPE) === "offline", "bob offline while the connection is down");
  alice.emit("state", { kind: "connected" });
  alice.emit("presence", seen(BOB_SKYPE, "NLN"));
  alice.emit("caughtUp", { messages: 0 });
  await s2m.drain();
  assert.equal(shown(bed, BOB_SKYPE), "online");
});

test("refresh: one round at a time, at most `presenceConcurrency` writes at once, only puppets shown online", async () => {
  const bed = testBed({ puppets: { presenceConcurrency: 3 } });
  const { alice, s2m, hs, puppets } = bed;
  const contacts = Array.from({ length: 20 }, (_, i) => `8:contact_${i}`);
  for (const c of contacts) alice.emit("presence", seen(c, "NLN"));
  alice.emit("presence", seen(DAVE, "NLN"));
  alice.emit("presence", seen(DAVE, "FLN"));
  await s2m.drain();

  // Presence writes now wait until the test lets them through.
  const gates: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const refreshed: string[] = [];
  const request = hs.request.bind(hs);
  hs.request = (user, method, path, qs, body) => {
    if (!path.includes("/presence/")) return request(user, method, path, qs, body);
    refreshed.push(user);
    most = Math.max(most, ++inFlight);
    return new Promise<void>((r) => gates.push(r)).then(() => {
      inFlight--;
      return request(user, method, path, qs, body);
    });
  };
  let done = false;
  const round = puppets.presence.refresh().then((ran) => {
    done = true;
    return ran;
  });
  await until(() => gates.length === 3, "three writes under way");
  assert.equal(await puppets.presence.refresh(), false, "a second round does not start meanwhile");
  while (!done) {
    for (const open of gates.splice(0)) open();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(await round, true);
  assert.equal(most, 3);
  assert.deepEqual(
    [...refreshed].sort(),
    contacts.map((c) => puppetOf(bed, c)).sort(),
    "each puppet shown online once; dave (offline) not at all",
  );
});

test("two identities found to be one person: one puppet shows the best of both, the retired one goes offline", async () => {
  const bed = testBed();
  const { alice, s2m, hs, puppets } = bed;
  alice.emit("presence", seen(BOB_LIVE, "NLN"));
  alice.emit("presence", seen(BOB_SKYPE, "AWY"));
  await s2m.drain();
  const before = [puppetOf(bed, BOB_LIVE), puppetOf(bed, BOB_SKYPE)];
  assert.notEqual(before[0], before[1], "two persons so far");

  alice.emit("contacts", [{ identities: [BOB_LIVE, BOB_SKYPE], displayName: "Bob Builder" }], {
    routine: false,
  });
  await s2m.drain();
  const survivor = puppetOf(bed, BOB_SKYPE);
  assert.equal(puppetOf(bed, BOB_LIVE), survivor);
  const retired = before.find((p) => p !== survivor)!;
  assert.equal(hs.presence.get(survivor)?.presence, "online");
  assert.equal(hs.presence.get(retired)?.presence, "offline", "the retired puppet says nothing stale");

  // Reports on either identity now count for the survivor.
  alice.emit("presence", seen(BOB_LIVE, "FLN"));
  await s2m.drain();
  assert.equal(hs.presence.get(survivor)?.presence, "unavailable");
  const calls = hs.presenceCalls.length;
  assert.equal(await puppets.presence.refresh(), true);
  assert.deepEqual(
    hs.presenceCalls.slice(calls).map((c) => c.user),
    [survivor],
    "only the survivor is refreshed",
  );
});
