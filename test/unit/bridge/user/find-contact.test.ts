import { test } from "node:test";
import assert from "node:assert/strict";
import { findContact } from "../../../../src/bridge/user/commands/contacts.js";

const contacts = [
  { identities: ["1:bob@outlook.com", "8:live:bob_1"], displayName: "Bob Builder" },
  { identities: ["8:dave.lister"], displayName: "Dave Lister" },
  { identities: ["8:davina"], displayName: "Davina" },
];

test("a contact is found by MRI, bare e-mail or Skype name, or a unique part of the name", () => {
  assert.equal(findContact(contacts, "8:live:bob_1"), contacts[0]);
  assert.equal(findContact(contacts, "BOB@outlook.com"), contacts[0]);
  assert.equal(findContact(contacts, "dave.lister"), contacts[1]);
  assert.equal(findContact(contacts, "builder"), contacts[0]);
});

test("an ambiguous name gives every match; no match gives nothing", () => {
  assert.deepEqual(findContact(contacts, "dav"), [contacts[1], contacts[2]]);
  assert.equal(findContact(contacts, "zed"), undefined);
});
