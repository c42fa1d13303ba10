import { test } from "node:test";
import assert from "node:assert/strict";
import { CodePage } from "../../../src/skype/activesync/code-pages.js";
import {
  contactFromData,
  mergeContacts,
  parseFolderSyncResponse,
  parseSyncResponse,
} from "../../../src/skype/activesync/commands.js";
import { decodeWbxml, encodeWbxml, wb } from "../../../src/skype/activesync/wbxml.js";
import { parseContactSyncState } from "../../../src/skype/activesync/state.js";
import { SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

const { AirSync: AS, Contacts: C, Contacts2: C2, FolderHierarchy: FH, SkypePrivate: SP } = CodePage;

test("FolderSync answer: folders with their SID property bag", () => {
  const add = (id: string, name: string, sid: string) =>
    wb(
      FH,
      "Add",
      wb(FH, "ServerId", id),
      wb(FH, "ParentId", "0"),
      wb(FH, "DisplayName", name),
      wb(FH, "Type", "14"),
      wb(SP, "PropertyBag", wb(SP, "Property", wb(SP, "Name", "SID"), wb(SP, "Value", sid))),
    );
  const doc = wb(
    FH,
    "FolderSync",
    wb(FH, "Status", "1"),
    wb(FH, "SyncKey", "fk1"),
    wb(
      FH,
      "Changes",
      wb(FH, "Count", "2"),
      add("f1", "Skype Contacts", "SKYPE"),
      add("f2", "WindowsLive Contacts", "WL"),
      wb(FH, "Delete", wb(FH, "ServerId", "f0")),
    ),
  );
  const r = parseFolderSyncResponse(decodeWbxml(encodeWbxml(doc)));
  assert.equal(r.status, 1);
  assert.equal(r.syncKey, "fk1");
  assert.deepEqual(r.changes, [
    { kind: "add", serverId: "f1", parentId: "0", displayName: "Skype Contacts", type: 14, sid: "SKYPE" },
    { kind: "add", serverId: "f2", parentId: "0", displayName: "WindowsLive Contacts", type: 14, sid: "WL" },
    {
      kind: "delete",
      serverId: "f0",
      parentId: undefined,
      displayName: undefined,
      type: undefined,
      sid: undefined,
    },
  ]);
});

test("Sync answer: commands, MoreAvailable and status", () => {
  const doc = wb(
    AS,
    "Sync",
    wb(
      AS,
      "Collections",
      wb(
        AS,
        "Collection",
        wb(AS, "SyncKey", "s2"),
        wb(AS, "CollectionId", "f2"),
        wb(AS, "Status", "1"),
        wb(
          AS,
          "Commands",
          wb(
            AS,
            "Add",
            wb(AS, "ServerId", "i1"),
            wb(
              AS,
              "ApplicationData",
              wb(C, "FileAs", "Bob Builder"),
              wb(C, "FirstName", "Bob"),
              wb(C, "LastName", "Builder"),
              wb(C, "Email1Address", "bob@outlook.com"),
              wb(C2, "IMAddress", "8:live:bob_1"),
            ),
          ),
          wb(AS, "Delete", wb(AS, "ServerId", "i9")),
        ),
        wb(AS, "MoreAvailable"),
      ),
    ),
  );
  const r = parseSyncResponse(decodeWbxml(encodeWbxml(doc)));
  const col = r.collections[0]!;
  assert.equal(col.syncKey, "s2");
  assert.equal(col.status, 1);
  assert.equal(col.moreAvailable, true);
  assert.equal(col.commands.length, 2);
  assert.deepEqual(contactFromData(col.commands[0]!.data!), {
    identities: ["1:bob@outlook.com", "8:live:bob_1"],
    displayName: "Bob Builder",
    firstName: "Bob",
    lastName: "Builder",
  });
  assert.deepEqual(col.commands[1], { kind: "delete", serverId: "i9", data: undefined });
});

test("a contact with an e-mail and an IM address is one person; IMAddress without 8: is liberal", () => {
  assert.deepEqual(contactFromData({ email1: "1:x@y.z", imAddresses: ["dave.lister"] })?.identities, [
    "1:x@y.z",
    "8:dave.lister",
  ]);
  assert.equal(contactFromData({ fileAs: "Nobody", imAddresses: [] }), undefined);
  assert.equal(contactFromData({ imAddresses: ["8:echo123"] })?.displayName, "echo123");
});

test("contacts sharing an identity across folders merge", () => {
  const merged = mergeContacts([
    { identities: ["1:bob@outlook.com"], displayName: "Bob" },
    { identities: ["8:dave.lister"], displayName: "Dave" },
    { identities: ["1:BOB@outlook.com", "8:live:bob_1"], displayName: "Bob B", firstName: "Bob" },
  ]);
  assert.deepEqual(merged, [
    { identities: ["1:bob@outlook.com", "8:live:bob_1"], displayName: "Bob", firstName: "Bob" },
    { identities: ["8:dave.lister"], displayName: "Dave" },
  ]);
});

test("saved sync state is validated on import", () => {
  const good = {
    version: 1,
    deviceId: "Skype-0123456789",
    folderSyncKey: "k",
    folders: { f: { syncKey: "0", items: {} } },
  };
  // Server ids are kept in null-prototype maps (state.ts, idMap): compare as JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(parseContactSyncState(JSON.stringify(good)))), good);
  for (const bad of [
    "{",
    "[]",
    { ...good, version: 2 },
    { ...good, deviceId: "" },
    { ...good, folders: { f: { syncKey: 1, items: {} } } },
    { ...good, folders: { f: { syncKey: "1", items: { i: { identities: [], displayName: "x" } } } } },
  ]) {
    assert.throws(
      () => parseContactSyncState(bad),
      (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.InvalidArgument,
    );
  }
});

test("ApplicationData and ServerId: the first element of each field counts, IM addresses in tag order", () => {
  const app = wb(
    AS,
    "ApplicationData",
    "stray text",
    wb(C2, "IMAddress3", " live:third "),
    wb(C, "FileAs", "  "), // the first FileAs is blank: no FileAs, though a later one has text
    wb(C, "FileAs", "Later"),
    wb(AS, "FirstName", "wrong page"),
    wb(C, "FirstName", "Ann", Uint8Array.from(Buffer.from("e"))),
    wb(C2, "IMAddress", "live:first"),
    wb(C2, "IMAddress", "live:ignored"),
    wb(C2, "NickName", "annie"),
    wb(C, "Email1Address"),
  );
  const doc = wb(
    AS,
    "Sync",
    wb(
      AS,
      "Collections",
      wb(
        AS,
        "Collection",
        wb(
          AS,
          "Commands",
          "text",
          wb(AS, "Change", wb(AS, "ServerId", " "), wb(AS, "ServerId", "i2")),
          wb(
            AS,
            "Add",
            wb(C, "ServerId", "wrong page"),
            wb(AS, "ServerId", " i1 "),
            app,
            wb(AS, "ApplicationData"),
          ),
        ),
      ),
    ),
  );
  // The tree as given (not encoded): tags on the wrong page have no WBXML token.
  const r = parseSyncResponse(doc);
  assert.deepEqual(r.collections[0]!.commands, [
    {
      kind: "add",
      serverId: "i1",
      data: {
        fileAs: undefined,
        firstName: "Anne",
        lastName: undefined,
        nickName: "annie",
        email1: undefined,
        imAddresses: ["live:first", "live:third"],
      },
    },
  ]);
});
