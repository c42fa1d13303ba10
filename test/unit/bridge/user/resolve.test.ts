// SPDX-License-Identifier: Apache-2.0
/** What `<id>` names: an e-mail, a Skype name, an MRI, or a unique display name of someone known. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { identityOf, pickPerson, resolveId } from "../../../../src/bridge/user/commands/resolve.js";
import { parseListArgs } from "../../../../src/bridge/user/commands/contacts.js";
import { CommandError, UsageError } from "../../../../src/bridge/user/commands/types.js";

const known = [
  { identities: ["1:bob@outlook.com", "8:live:bob_1"], displayName: "Bob Builder" },
  { identities: ["8:dave.lister"], displayName: "Dave Lister" },
  { identities: ["8:davina"], displayName: "Davina" },
  { identities: ["8:live:carol_7"], displayName: "Carol Ånström" },
];

void test("the syntax of an identity: MRI as written, e-mail as 1:, Skype name as 8:", () => {
  assert.equal(identityOf("8:live:x_1"), "8:live:x_1");
  assert.equal(identityOf("1:a@b.c"), "1:a@b.c");
  assert.equal(identityOf("zed@outlook.com"), "1:zed@outlook.com");
  assert.equal(identityOf("live:zed_2"), "8:live:zed_2");
  assert.equal(identityOf("echo123"), "8:echo123");
  assert.equal(identityOf("two words"), undefined);
  assert.equal(identityOf("Ånström"), undefined);
  assert.equal(identityOf(""), undefined);
});

void test("known people win: identities (any case for e-mails), exact names, then unique parts of names", () => {
  const pick = (q: string) => {
    const r = resolveId(known, q);
    return r.kind === "known" ? r.person.displayName : r.kind;
  };
  assert.equal(pick("BOB@outlook.com"), "Bob Builder");
  assert.equal(pick("8:live:bob_1"), "Bob Builder");
  assert.equal(pick("live:bob_1"), "Bob Builder");
  assert.equal(pick("dave.lister"), "Dave Lister");
  assert.equal(pick("davina"), "Davina", "an exact name beats a longer name containing it");
  assert.equal(pick("dav"), "ambiguous");
  assert.equal(pick("carol ånström"), "Carol Ånström");
  assert.equal(pick("nobody@example.org"), "identity");
  assert.equal(pick("no one here"), "none");
});

void test("pickPerson gives the 8: identity of a known person, refuses ambiguity and, when asked, strangers", () => {
  assert.deepEqual(
    { ...pickPerson(known, "bob", { allowUnknown: false, listCommand: "contacts" }), person: undefined },
    { mri: "8:live:bob_1", name: "Bob Builder", person: undefined },
  );
  assert.deepEqual(pickPerson(known, "zed@outlook.com", { allowUnknown: true, listCommand: "contacts" }), {
    mri: "1:zed@outlook.com",
    name: "zed@outlook.com",
  });
  assert.throws(
    () => pickPerson(known, "zed@outlook.com", { allowUnknown: false, listCommand: "contacts" }),
    (e: unknown) => e instanceof CommandError && /^No one matches "zed@outlook\.com"/.test(e.humanMessage),
  );
  assert.throws(
    () => pickPerson(known, "dav", { allowUnknown: true, listCommand: "contacts" }),
    (e: unknown) =>
      e instanceof CommandError &&
      e.humanMessage.startsWith('"dav" matches Dave Lister (dave.lister), Davina (davina)'),
  );
});

void test("contacts arguments: search words and an optional trailing page", () => {
  assert.deepEqual(parseListArgs([]), { search: "", page: 1 });
  assert.deepEqual(parseListArgs(["bob"]), { search: "bob", page: 1 });
  assert.deepEqual(parseListArgs(["page", "3"]), { search: "", page: 3 });
  assert.deepEqual(parseListArgs(["dave", "lister", "page", "2"]), { search: "dave lister", page: 2 });
  assert.throws(() => parseListArgs(["page", "0"]), UsageError);
  assert.throws(() => parseListArgs(["page", "x"]), UsageError);
});
