// SPDX-License-Identifier: Apache-2.0
/**
 * One contact list per session (BENCHMARKS.md, cause 5): the sync state, its export and the merged
 * list share the same frozen contacts instead of each holding a deep copy, and the state the
 * session was started from is not kept beside them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ContactSync, type ContactSyncState } from "../../../../src/skype/activesync/contact-sync.js";
import type { TokenScope, TokenSource } from "../../../../src/skype/tokens.js";
import { AddressBookClient, type AddressBookState } from "../../../../src/skype/soap/address-book.js";
import { valuesUnder } from "../../../helpers/object-graph.js";

const noTokens = {
  getToken: () => Promise.reject(new Error("no network in this test")),
  invalidate: (_scope: TokenScope) => undefined,
} as unknown as TokenSource;

const saved: ContactSyncState = {
  version: 1,
  deviceId: "Skype-0123456789",
  folderSyncKey: "1",
  folders: {
    "1": {
      sid: "SKYPE",
      syncKey: "4",
      items: {
        a: { identities: ["8:live:zed_1"], displayName: "Zed" },
        b: { identities: ["1:bob@outlook.com"], displayName: "Bob", firstName: "Bob" },
      },
    },
    "2": {
      sid: "WL",
      syncKey: "2",
      items: {
        c: { identities: ["8:live:bob_1", "1:BOB@outlook.com"], displayName: "Bob B", lastName: "B" },
      },
    },
  },
};

test("contacts(): one shared, frozen list, rebuilt only after a change; merges are new objects", () => {
  const sync = new ContactSync({ activesync: "http://127.0.0.1:1" }, noTokens, {
    state: JSON.stringify(saved),
  });
  const list = sync.contacts();
  assert.equal(sync.contacts(), list, "the same list until the state changes");
  assert.deepEqual(
    list.map((c) => [c.displayName, c.identities]),
    [
      ["Bob", ["1:bob@outlook.com", "8:live:bob_1"]],
      ["Zed", ["8:live:zed_1"]],
    ],
  );
  assert.equal(list[0]!.lastName, "B", "the merge takes what the first lacks");
  assert.ok(Object.isFrozen(list) && list.every((c) => Object.isFrozen(c) && Object.isFrozen(c.identities)));
  assert.throws(() => (list as unknown as { push(x: unknown): void }).push({}), TypeError);

  const state = sync.exportState();
  assert.equal(list[1], state.folders["1"]!.items.a, "an unmerged contact is the state's own object");
  assert.deepEqual(JSON.parse(JSON.stringify(state)), saved, "the export still serialises to the state");
  delete state.folders["1"]!.items.a;
  assert.equal(sync.contacts().length, 2, "changing the export leaves the state alone");

  sync.importState(saved);
  assert.notEqual(sync.contacts(), list, "a new state, a new list");
  assert.deepEqual(sync.contacts(), list);
});

test("server ids are plain keys: __proto__ and constructor as folder and contact ids stay data", () => {
  const folderId: string = "constructor";
  const hostile = JSON.parse(
    JSON.stringify({
      version: 1,
      deviceId: "Skype-0123456789",
      folderSyncKey: "1",
      folders: { constructor: { sid: "SKYPE", syncKey: "4", items: {} } },
    }),
  ) as { folders: Record<string, { items: Record<string, unknown> }> };
  // JSON.parse makes "__proto__" an own key; a plain `{}` assigned that key would take it as its prototype.
  hostile.folders[folderId]!.items = JSON.parse(
    '{"__proto__": {"identities": ["8:live:proto_1"], "displayName": "Proto"}, "toString": {"identities": ["8:live:ts_1"], "displayName": "Ts"}}',
  ) as Record<string, unknown>;
  const sync = new ContactSync({ activesync: "http://127.0.0.1:1" }, noTokens, {
    state: JSON.stringify(hostile),
  });
  assert.deepEqual(
    sync.contacts().map((c) => c.displayName),
    ["Proto", "Ts"],
  );
  const state = sync.exportState();
  assert.deepEqual(Object.keys(state.folders), ["constructor"]);
  assert.deepEqual(Object.keys(state.folders[folderId]!.items), ["__proto__", "toString"]);
  assert.equal(Object.getPrototypeOf(state.folders[folderId]!.items), null);
  assert.deepEqual(JSON.parse(JSON.stringify(state)), hostile, "it serialises back as it came");
});

test("the saved state given at construction is read, not kept (~13 KB per session for 50 contacts)", () => {
  // The bridge hands the stored state as parsed JSON; the clients keep a private copy, and before
  // the fix their options kept the caller's object too, for the session's life.
  const given = JSON.parse(JSON.stringify(saved)) as ContactSyncState;
  const sync = new ContactSync({ activesync: "http://127.0.0.1:1" }, noTokens, { state: given });
  const book: AddressBookState = { cacheKeys: { ab: "key" }, preferredHosts: {} };
  const client = new AddressBookClient({ abch: "http://127.0.0.1:1" }, noTokens, { state: book });
  assert.equal(sync.contacts().length, 2);
  assert.deepEqual(client.exportState(), book);
  const held = valuesUnder({ sync, client }, 6);
  assert.ok(held.has(sync.contacts()[0]), "the walk reaches what the clients do hold");
  for (const part of [given, given.folders, given.folders["1"]!.items, given.folders["1"]!.items.a, book])
    assert.ok(!held.has(part), "no part of the caller's state is held");
});
