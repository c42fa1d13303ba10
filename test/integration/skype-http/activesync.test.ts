import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoSecrets, browserSignIn, startRef, type RefEnv } from "./helpers.js";
import { loginWithPassword } from "../../../src/skype/auth/login-process.js";
import { TokenManager } from "../../../src/skype/tokens.js";
import { ContactSync } from "../../../src/skype/activesync/contact-sync.js";
import { AddressBookClient } from "../../../src/skype/soap/address-book.js";
import { runProbe } from "../../../src/skype/probe.js";

const ALICE_CONTACTS = [
  { identities: ["1:bob@outlook.com", "8:live:bob_1"], displayName: "Bob Builder" },
  { identities: ["8:dave.lister"], displayName: "Dave Lister" },
  { identities: ["8:echo123"], displayName: "Echo / Sound Test Service" },
];

async function tokensFor(env: RefEnv, email: string, password: string) {
  const http = { dispatcher: env.dispatcher, logger: env.logger };
  const login = await loginWithPassword(env.endpoints, email, password, http);
  return {
    http,
    tokens: new TokenManager({ ...http, endpoints: env.endpoints, refreshToken: login.refreshToken }),
  };
}

const brief = (cs: { identities: string[]; displayName: string }[]) =>
  cs.map((c) => ({ identities: c.identities, displayName: c.displayName }));

test("a full sync gives alice's contacts, one person per contact with merged identities", async (t) => {
  const env = await startRef(t);
  const { http, tokens } = await tokensFor(env, "alice@hotmail.co.uk", "wonderland");
  const sync = new ContactSync(env.endpoints, tokens, http);
  assert.deepEqual(brief(await sync.syncAll()), ALICE_CONTACTS);
  const state = sync.exportState();
  assert.match(state.deviceId, /^Skype-\d{10}$/);
  const sids = Object.values(state.folders)
    .map((f) => f.sid ?? f.displayName)
    .sort();
  assert.ok(sids.includes("SKYPE") && sids.includes("WL"), `folders: ${sids.join(",")}`);
});

test("MoreAvailable pages through a small window", async (t) => {
  const env = await startRef(t);
  const { http, tokens } = await tokensFor(env, "alice@hotmail.co.uk", "wonderland");
  const sync = new ContactSync(env.endpoints, tokens, { ...http, windowSize: 1 });
  assert.deepEqual(brief(await sync.syncAll()), ALICE_CONTACTS);
  const pages = env.logLines.filter((l) => l.includes('"what":"ActiveSync Sync"')).length;
  // SKYPE (2 contacts) + WL (1): an initial key request per folder, then one page per contact at least.
  assert.ok(pages >= 5, `only ${pages} Sync requests`);
});

test("saved state syncs incrementally: a newly accepted contact arrives", async (t) => {
  const env = await startRef(t);
  const { http, tokens } = await tokensFor(env, "alice@hotmail.co.uk", "wonderland");
  const first = new ContactSync(env.endpoints, tokens, http);
  await first.syncAll();
  const saved = JSON.stringify(first.exportState());
  await new AddressBookClient(env.endpoints, tokens, http).acceptRequest("carol@live.com");
  const second = new ContactSync(env.endpoints, tokens, { ...http, state: saved });
  const after = brief(await second.syncAll());
  assert.deepEqual(
    after.find((c) => c.identities.includes("1:carol@live.com")),
    {
      identities: ["1:carol@live.com", "8:live:carol_7"],
      displayName: "Carol Ånström",
    },
  );
  assert.equal(after.length, 4);
  // The same saved keys once more (a retried request) still work.
  const retry = new ContactSync(env.endpoints, tokens, { ...http, state: saved });
  assert.equal((await retry.syncAll()).length, 4);
});

test("a sync that changed no contact returns the very same list object; a new contact a new one", async (t) => {
  const env = await startRef(t);
  const { http, tokens } = await tokensFor(env, "alice@hotmail.co.uk", "wonderland");
  const sync = new ContactSync(env.endpoints, tokens, http);
  const first = await sync.syncAll();
  const again = await sync.syncAll();
  assert.equal(again, first, "unchanged: the same frozen list (callers tell 'unchanged' by identity)");
  assert.ok(Object.isFrozen(first));
  await new AddressBookClient(env.endpoints, tokens, http).acceptRequest("carol@live.com");
  const changed = await sync.syncAll();
  assert.notEqual(changed, first);
  assert.equal(changed.length, first.length + 1);
  assert.equal(await sync.syncAll(), changed);
});

test("a bad Sync key (Status 3) and a bad FolderSync key (Status 9) restart from 0", async (t) => {
  const env = await startRef(t);
  const { http, tokens } = await tokensFor(env, "alice@hotmail.co.uk", "wonderland");
  const sync = new ContactSync(env.endpoints, tokens, http);
  await sync.syncAll();
  const state = sync.exportState();
  for (const f of Object.values(state.folders)) f.syncKey = "bogus-key";
  sync.importState(state);
  assert.deepEqual(brief(await sync.syncAll()), ALICE_CONTACTS);
  assert.ok(env.logLines.some((l) => l.includes("Sync key refused") && l.includes('"status":3')));

  const state2 = sync.exportState();
  state2.folderSyncKey = "bogus-folder-key";
  sync.importState(state2);
  assert.deepEqual(brief(await sync.syncAll()), ALICE_CONTACTS);
  assert.ok(env.logLines.some((l) => l.includes("FolderSync key refused") && l.includes('"status":9')));
});

test("runProbe (password) shows alice's contacts, requests and blocked people without any token", async (t) => {
  const env = await startRef(t);
  const r = await runProbe({
    endpoints: env.endpoints,
    user: "alice@hotmail.co.uk",
    password: "wonderland",
    dispatcher: env.dispatcher,
    logger: env.logger,
  });
  assert.deepEqual(r.identities, ["1:alice@hotmail.co.uk", "8:live:alice_1"]);
  assert.equal(r.profile.displayName, "Alice Liddell");
  assert.deepEqual(r.contacts, ALICE_CONTACTS);
  assert.deepEqual(r.pending, ["1:carol@live.com"]);
  assert.deepEqual(r.blocked, ["8:live:mallory"]);
  const text = JSON.stringify(r);
  assert.ok(!/token|EwA|M\./i.test(text), "the probe result carries no token");
  assertNoSecrets(env.logLines, ["wonderland"]);
});

test("runProbe (pasted URL, state 999) works the same", async (t) => {
  const env = await startRef(t);
  const redirectUrl = await browserSignIn(env, "alice@hotmail.co.uk", "wonderland", "999");
  const r = await runProbe({
    endpoints: env.endpoints,
    user: "alice@hotmail.co.uk",
    redirectUrl,
    dispatcher: env.dispatcher,
  });
  assert.deepEqual(r.contacts, ALICE_CONTACTS);
  const wrongState = await browserSignIn(env, "alice@hotmail.co.uk", "wonderland", "1000");
  await assert.rejects(
    runProbe({ endpoints: env.endpoints, user: "a", redirectUrl: wrongState, dispatcher: env.dispatcher }),
  );
});
