// SPDX-License-Identifier: Apache-2.0
// ActiveSync contacts (PROFILE §4, §5; REFERENCE §11) over raw HTTP, decoded with the server's codec.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { child, childrenOf, wb, type WbxmlElement } from "../../../refserver/http/wbxml.js";
import { SCOPES } from "../../../refserver/world.js";
import { dig, eas, easQuery, list, startEnv, str, ticket, type Env } from "./harness.js";

const FOLDER_SYNC = 9;
const SYNC = 0;
const text = (e: WbxmlElement | undefined, tag: string): string | undefined => child(e, tag)?.text;

const folderSyncReq = (key: string, sid = true): WbxmlElement =>
  wb(
    "FolderHierarchy:FolderSync",
    wb("FolderHierarchy:SyncKey", key),
    ...(sid ? [wb("Skype:PropertyBag", wb("Skype:Property", wb("Skype:Name", "SID")))] : []),
  );

const syncReq = (collections: { key: string; id: string; window?: number }[]): WbxmlElement =>
  wb(
    "AirSync:Sync",
    wb(
      "AirSync:Collections",
      ...collections.map((c) =>
        wb(
          "AirSync:Collection",
          wb("AirSync:SyncKey", c.key),
          wb("AirSync:CollectionId", c.id),
          ...(c.key === "0"
            ? []
            : [wb("AirSync:GetChanges"), wb("AirSync:WindowSize", String(c.window ?? 100))]),
        ),
      ),
    ),
  );

/** FolderSync from 0: SID → ServerId. */
async function folders(
  env: Env,
  token: string,
): Promise<Map<string, { id: string; name: string; type: string }>> {
  const r = await eas(env, token, FOLDER_SYNC, folderSyncReq("0"));
  assert.equal(r.status, 200, r.text);
  assert.equal(text(r.doc, "FolderHierarchy:Status"), "1");
  const changes = child(r.doc, "FolderHierarchy:Changes");
  const adds = childrenOf(changes, "FolderHierarchy:Add");
  assert.equal(text(changes, "FolderHierarchy:Count"), String(adds.length));
  const out = new Map<string, { id: string; name: string; type: string }>();
  for (const a of adds) {
    const prop = child(child(a, "Skype:PropertyBag"), "Skype:Property");
    assert.equal(text(prop, "Skype:Name"), "SID");
    out.set(text(prop, "Skype:Value") ?? "", {
      id: text(a, "FolderHierarchy:ServerId") ?? "",
      name: text(a, "FolderHierarchy:DisplayName") ?? "",
      type: text(a, "FolderHierarchy:Type") ?? "",
    });
  }
  return out;
}

/** Syncs one folder to the end, page by page; returns the items' data and the number of pages. */
async function syncAll(
  env: Env,
  token: string,
  id: string,
): Promise<{ items: Map<string, WbxmlElement>; pages: number; key: string }> {
  const first = await eas(env, token, SYNC, syncReq([{ key: "0", id }]));
  const c0 = child(child(first.doc, "AirSync:Collections"), "AirSync:Collection");
  assert.equal(text(c0, "AirSync:Status"), "1");
  assert.equal(child(c0, "AirSync:Commands"), undefined);
  let key = text(c0, "AirSync:SyncKey") ?? "";
  assert.notEqual(key, "0");
  const items = new Map<string, WbxmlElement>();
  let pages = 0;
  for (;;) {
    const r = await eas(env, token, SYNC, syncReq([{ key, id }]));
    const c = child(child(r.doc, "AirSync:Collections"), "AirSync:Collection");
    assert.equal(text(c, "AirSync:Status"), "1");
    assert.equal(text(c, "AirSync:CollectionId"), id);
    pages++;
    for (const add of childrenOf(child(c, "AirSync:Commands"), "AirSync:Add")) {
      items.set(text(add, "AirSync:ServerId") ?? "", child(add, "AirSync:ApplicationData")!);
    }
    key = text(c, "AirSync:SyncKey") ?? "";
    if (!child(c, "AirSync:MoreAvailable")) break;
    assert.ok(pages < 20, "paging ends");
  }
  return { items, pages, key };
}

test("FolderSync lists PPL, ABCH, GBL, SKYPE, WL with opaque ServerIds", async (t) => {
  const env = await startEnv(t);
  const token = ticket(env, "alice@hotmail.co.uk", SCOPES.activesync);
  const f = await folders(env, token);
  assert.deepEqual([...f.keys()], ["PPL", "ABCH", "GBL", "SKYPE", "WL"]);
  assert.equal(f.get("SKYPE")?.name, "Skype Contacts");
  assert.equal(f.get("PPL")?.type, "9");
  assert.equal(f.get("WL")?.type, "14");
  for (const [sid, v] of f) assert.notEqual(v.id, sid);
  // Without the SID bag in the request, the reply has none either (the default [A] "requested").
  const plain = await eas(env, token, FOLDER_SYNC, folderSyncReq("0", false));
  const add = child(child(plain.doc, "FolderHierarchy:Changes"), "FolderHierarchy:Add");
  assert.equal(child(add, "Skype:PropertyBag"), undefined);
});

test("Sync pages with MoreAvailable; WL holds 1: contacts, SKYPE the rest, GBL the blocked", async (t) => {
  const env = await startEnv(t);
  const token = ticket(env, "alice@hotmail.co.uk", SCOPES.activesync);
  const f = await folders(env, token);
  const skype = await syncAll(env, token, f.get("SKYPE")!.id);
  assert.equal(skype.items.size, 2);
  assert.equal(skype.pages, 2, "the default window of 1 needs two pages for two contacts");
  const ims = [...skype.items.values()].map((d) => text(d, "Contacts2:IMAddress")).sort();
  assert.deepEqual(ims, ["8:dave.lister", "8:echo123"]);
  for (const d of skype.items.values()) assert.equal(child(d, "Contacts:Email1Address"), undefined);
  const wl = await syncAll(env, token, f.get("WL")!.id);
  const [bob] = [...wl.items.values()];
  assert.equal(text(bob, "Contacts:Email1Address"), "bob@outlook.com");
  assert.equal(text(bob, "Contacts2:IMAddress"), "8:live:bob_1");
  assert.equal(text(bob, "Contacts:FileAs"), "Bob Builder");
  assert.equal(text(bob, "Contacts:FirstName"), "Bob");
  const gbl = await syncAll(env, token, f.get("GBL")!.id);
  assert.deepEqual(
    [...gbl.items.values()].map((d) => text(d, "Contacts2:IMAddress")),
    ["8:live:mallory"],
  );
  // A client WindowSize larger than the server's cap is capped; knobs raise the cap.
  await env.control("POST", "/http/knobs", { activesyncWindowSize: 50 });
  assert.equal((await syncAll(env, token, f.get("SKYPE")!.id)).pages, 1);
});

test("changes after a full sync arrive as Add / Delete with the current key", async (t) => {
  const env = await startEnv(t, { activesyncWindowSize: 50 });
  const token = ticket(env, "alice@hotmail.co.uk", SCOPES.activesync);
  const f = await folders(env, token);
  const wlId = f.get("WL")!.id;
  const done = await syncAll(env, token, wlId);
  const alice = env.person("alice@hotmail.co.uk");
  env.world.makeContacts(alice, env.person("carol@live.com"));
  env.world.removeContacts(alice, env.person("bob@outlook.com"));
  const r = await eas(env, token, SYNC, syncReq([{ key: done.key, id: wlId }]));
  const c = child(child(r.doc, "AirSync:Collections"), "AirSync:Collection");
  const cmds = child(c, "AirSync:Commands");
  assert.deepEqual(
    childrenOf(cmds, "AirSync:Delete").map((d) => text(d, "AirSync:ServerId")),
    [...done.items.keys()],
  );
  const adds = childrenOf(cmds, "AirSync:Add");
  assert.equal(text(child(adds[0], "AirSync:ApplicationData"), "Contacts:Email1Address"), "carol@live.com");
});

test("bad SyncKey: FolderSync Status 9, Sync Status 3; the previous key is answered once more", async (t) => {
  const env = await startEnv(t);
  const token = ticket(env, "alice@hotmail.co.uk", SCOPES.activesync);
  const bad = await eas(env, token, FOLDER_SYNC, folderSyncReq("{not-a-key}"));
  assert.equal(text(bad.doc, "FolderHierarchy:Status"), "9");
  const f = await folders(env, token);
  const id = f.get("SKYPE")!.id;
  const badSync = await eas(env, token, SYNC, syncReq([{ key: "{not-a-key}", id }]));
  assert.equal(
    text(child(child(badSync.doc, "AirSync:Collections"), "AirSync:Collection"), "AirSync:Status"),
    "3",
  );
  // Retried request: same reply once, then the old key is dead.
  const r0 = await eas(env, token, SYNC, syncReq([{ key: "0", id }]));
  const k1 = text(child(child(r0.doc, "AirSync:Collections"), "AirSync:Collection"), "AirSync:SyncKey") ?? "";
  const a = await eas(env, token, SYNC, syncReq([{ key: k1, id }]));
  const b = await eas(env, token, SYNC, syncReq([{ key: k1, id }]));
  assert.deepEqual(b.doc, a.doc);
  const c = await eas(env, token, SYNC, syncReq([{ key: k1, id }]));
  assert.equal(text(child(child(c.doc, "AirSync:Collections"), "AirSync:Collection"), "AirSync:Status"), "3");
  // The key from the (repeated) reply continues the sync.
  const k2 = text(child(child(a.doc, "AirSync:Collections"), "AirSync:Collection"), "AirSync:SyncKey") ?? "";
  const d = await eas(env, token, SYNC, syncReq([{ key: k2, id }]));
  assert.equal(text(child(child(d.doc, "AirSync:Collections"), "AirSync:Collection"), "AirSync:Status"), "1");
  // FolderSync keys behave the same way.
  const fs = await eas(env, token, FOLDER_SYNC, folderSyncReq("0"));
  const fk = text(fs.doc, "FolderHierarchy:SyncKey") ?? "";
  const fs2 = await eas(env, token, FOLDER_SYNC, folderSyncReq(fk));
  assert.equal(text(fs2.doc, "FolderHierarchy:Status"), "1");
  assert.equal(text(child(fs2.doc, "FolderHierarchy:Changes"), "FolderHierarchy:Count"), "0");
  assert.deepEqual((await eas(env, token, FOLDER_SYNC, folderSyncReq(fk))).doc, fs2.doc);
  assert.equal(
    text((await eas(env, token, FOLDER_SYNC, folderSyncReq(fk))).doc, "FolderHierarchy:Status"),
    "9",
  );
});

test("auth, query form, commands and bodies are checked", async (t) => {
  const env = await startEnv(t);
  const alice = env.person("alice@hotmail.co.uk");
  const token = ticket(env, "alice@hotmail.co.uk", SCOPES.activesync);
  assert.equal((await eas(env, undefined, FOLDER_SYNC, folderSyncReq("0"))).status, 401);
  const contactsToken = env.world.issueTokens(alice, SCOPES.contacts).access_token;
  assert.equal((await eas(env, contactsToken, FOLDER_SYNC, folderSyncReq("0"))).status, 401);
  const plain = await request(
    `${env.url}/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=Skype-3026547794&DeviceType=ClassicSkype`,
    { method: "POST", headers: { authorization: `RPSToken ${token}` }, body: Buffer.from("03016a00", "hex") },
  );
  assert.equal(plain.statusCode, 400);
  await plain.body.text();
  assert.equal((await eas(env, token, 18, folderSyncReq("0"), easQuery(18))).status, 501);
  const garbage = await eas(env, token, FOLDER_SYNC, Buffer.from([3, 1, 0x6a, 0, 0x7f]));
  assert.equal(garbage.status, 400);
  const wrongRoot = await eas(env, token, SYNC, folderSyncReq("0"));
  assert.equal(text(wrongRoot.doc, "AirSync:Status"), "4");
  const log = list((await env.control("GET", "/http/requests")).json, "requests");
  const fsEntry = log.find(
    (e) => str(e, "endpoint") === "activesync" && str(e, "details", "cmd") === "FolderSync",
  );
  assert.equal(str(fsEntry, "details", "deviceType"), "ClassicSkype");
  assert.equal(dig(fsEntry, "details", "protocolVersion"), 140);
  assert.doesNotMatch(JSON.stringify(log), /RPSToken/);
});
