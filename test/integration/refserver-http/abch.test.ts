// SPDX-License-Identifier: Apache-2.0
// The ABCH SOAP services (PROFILE §4, §5; REFERENCE §12) over raw HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SCOPES, type Person } from "../../../refserver/world.js";
import { dig, list, soap, soapEnvelope, startEnv, str, ticket, type Env } from "./harness.js";

const member = (role: string, passportName: string): string =>
  `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle>` +
  `<memberships><Membership><MemberRole>${role}</MemberRole><Members>` +
  `<Member xsi:type="PassportMember"><Type>Passport</Type><State>Accepted</State><PassportName>${passportName}</PassportName></Member>` +
  `</Members></Membership></memberships>`;

async function memberships(env: Env, who: string, roles?: string[]): Promise<Map<string, unknown[]>> {
  const op = roles ? "FindMembershipByRole" : "FindMembership";
  const inner = roles
    ? `<serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter><includedRoles>${roles
        .map((r) => `<RoleId>${r}</RoleId>`)
        .join("")}</includedRoles><view>Full</view><expandMembership>true</expandMembership>`
    : `<serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter><View>Full</View>`;
  const r = await soap(env, "sharing", op, soapEnvelope(op, ticket(env, who), inner));
  assert.equal(r.status, 200, r.text);
  const result = dig(r.doc, "Envelope", "Body", `${op}Response`, `${op}Result`);
  assert.ok(dig(result, "OwnerNamespace"), "OwnerNamespace is always there");
  const out = new Map<string, unknown[]>();
  for (const m of list(result, "Services", "Service", "Memberships", "Membership")) {
    out.set(str(m, "MemberRole") ?? "", list(m, "Members", "Member"));
  }
  return out;
}

test("FindMembershipByRole Pending lists requests with their invitation text", async (t) => {
  const env = await startEnv(t);
  const m = await memberships(env, "alice@hotmail.co.uk", ["Pending"]);
  assert.deepEqual([...m.keys()], ["Pending"]);
  const [carol] = m.get("Pending") ?? [];
  assert.equal(str(carol, "@_type"), "PassportMember");
  assert.equal(str(carol, "PassportName"), "carol@live.com");
  assert.equal(str(carol, "DisplayName"), "Carol Ånström");
  assert.equal(str(carol, "Annotations", "Annotation", "Name"), "MSN.IM.InviteMessage");
  assert.equal(str(carol, "Annotations", "Annotation", "Value"), "Hi Alice, it's Carol from work");
  // No pending requests: only OwnerNamespace (the default [A] "omit").
  const none = await memberships(env, "bob@outlook.com", ["Pending"]);
  assert.equal(none.size, 0);
});

test("FindMembership: Allow, Block, Reverse; PassportName is the e-mail or the bare Skype name; CID signed", async (t) => {
  const env = await startEnv(t);
  const m = await memberships(env, "alice@hotmail.co.uk");
  const allow = (m.get("Allow") ?? []).map((x) => str(x, "PassportName")).sort();
  assert.deepEqual(allow, ["bob@outlook.com", "dave.lister", "echo123"]);
  assert.deepEqual(
    (m.get("Block") ?? []).map((x) => str(x, "PassportName")),
    ["mallory@hotmail.com"],
  );
  const bob = (m.get("Allow") ?? []).find((x) => str(x, "PassportName") === "bob@outlook.com");
  assert.equal(
    str(bob, "CID"),
    BigInt.asIntN(64, BigInt("0x" + env.person("bob@outlook.com").cid)).toString(),
  );
});

test("AddMember Allow accepts a pending request; a duplicate is MemberAlreadyExists", async (t) => {
  const env = await startEnv(t);
  const changed: string[] = [];
  env.world.on("abchChanged", (p: Person) => changed.push(p.key));
  const tk = ticket(env, "alice@hotmail.co.uk");
  const r = await soap(
    env,
    "sharing",
    "AddMember",
    soapEnvelope("AddMember", tk, member("Allow", "carol@live.com")),
  );
  assert.equal(r.status, 200, r.text);
  assert.ok(dig(r.doc, "Envelope", "Body", "AddMemberResponse") !== undefined);
  const alice = env.person("alice@hotmail.co.uk");
  assert.ok(alice.contacts.has("carol@live.com"));
  assert.ok(!alice.pending.has("carol@live.com"));
  assert.deepEqual(changed.sort(), ["alice@hotmail.co.uk", "carol@live.com"]);
  const dup = await soap(
    env,
    "sharing",
    "AddMember",
    soapEnvelope("AddMember", tk, member("Allow", "8:live:carol_7")),
  );
  assert.equal(dup.status, 500);
  assert.equal(dup.fault, "MemberAlreadyExists");
});

test("Block / unblock / decline / remove with AddMember and DeleteMember; absent is MemberDoesNotExist", async (t) => {
  const env = await startEnv(t);
  const tk = ticket(env, "alice@hotmail.co.uk");
  const alice = env.person("alice@hotmail.co.uk");
  const call = (op: string, role: string, who: string) =>
    soap(env, "sharing", op, soapEnvelope(op, tk, member(role, who)));
  assert.equal((await call("AddMember", "Block", "bob@outlook.com")).status, 200);
  assert.ok(alice.blocked.has("bob@outlook.com"));
  assert.equal((await call("AddMember", "Block", "bob@outlook.com")).fault, "MemberAlreadyExists");
  assert.equal((await call("DeleteMember", "Block", "mallory@hotmail.com")).status, 200);
  assert.ok(!alice.blocked.has("mallory@hotmail.com"));
  assert.equal((await call("DeleteMember", "Block", "mallory@hotmail.com")).fault, "MemberDoesNotExist");
  assert.equal((await call("DeleteMember", "Pending", "carol@live.com")).status, 200);
  assert.equal(alice.pending.size, 0);
  assert.equal((await call("DeleteMember", "Pending", "carol@live.com")).fault, "MemberDoesNotExist");
  assert.equal((await call("DeleteMember", "Allow", "dave.lister")).status, 200);
  assert.ok(!alice.contacts.has("dave.lister"));
  assert.ok(!env.person("dave.lister").contacts.has(alice.key));
  assert.equal((await call("DeleteMember", "Allow", "dave.lister")).fault, "MemberDoesNotExist");
});

test("ABContactAdd sends a request (pending + abchChanged) and completes at once if the target asked first", async (t) => {
  const env = await startEnv(t);
  const changed: string[] = [];
  env.world.on("abchChanged", (p: Person) => changed.push(p.key));
  const add = (from: string, to: string, text: string) =>
    soap(
      env,
      "ab",
      "ABContactAdd",
      soapEnvelope(
        "ABContactAdd",
        ticket(env, from),
        `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><contactType>LivePending</contactType>` +
          `<passportName>${to}</passportName><isMessengerUser>true</isMessengerUser><MessengerMemberInfo><PendingAnnotations>` +
          `<Annotation><Name>MSN.IM.InviteMessage</Name><Value>${text}</Value></Annotation></PendingAnnotations>` +
          `<DisplayName>x</DisplayName></MessengerMemberInfo></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options>`,
      ),
    );
  const r = await add("bob@outlook.com", "8:live:carol_7", "hello &amp; welcome");
  assert.equal(r.status, 200, r.text);
  assert.match(
    str(r.doc, "Envelope", "Body", "ABContactAddResponse", "ABContactAddResult", "guid") ?? "",
    /^[0-9a-f-]{36}$/,
  );
  assert.equal(env.person("carol@live.com").pending.get("bob@outlook.com"), "hello & welcome");
  assert.deepEqual(changed, ["carol@live.com"]);
  assert.equal((await add("bob@outlook.com", "carol@live.com", "again")).fault, "ContactAlreadyExists");
  assert.equal((await add("bob@outlook.com", "alice@hotmail.co.uk", "hi")).fault, "ContactAlreadyExists");
  assert.equal((await add("bob@outlook.com", "nobody@example.com", "hi")).fault, "InvalidPassportUser");
  // carol asks bob back: completes at once.
  changed.length = 0;
  assert.equal((await add("carol@live.com", "bob@outlook.com", "sure")).status, 200);
  assert.ok(env.person("carol@live.com").contacts.has("bob@outlook.com"));
  assert.equal(env.person("carol@live.com").pending.size, 0);
  assert.deepEqual(changed.sort(), ["bob@outlook.com", "carol@live.com"]);
});

test("ABFindContactsPaged, ABContactDelete and FindAllBlockedContacts", async (t) => {
  const env = await startEnv(t);
  const tk = ticket(env, "alice@hotmail.co.uk");
  const find = async (): Promise<unknown[]> => {
    const inner = `<abView>MessengerClient8</abView><extendedContent>AB AllGroups CircleResult</extendedContent><filterOptions><DeltasOnly>false</DeltasOnly><ContactFilter><IncludeHiddenContacts>true</IncludeHiddenContacts></ContactFilter></filterOptions>`;
    const r = await soap(env, "ab", "ABFindContactsPaged", soapEnvelope("ABFindContactsPaged", tk, inner));
    assert.equal(r.status, 200, r.text);
    return list(
      r.doc,
      "Envelope",
      "Body",
      "ABFindContactsPagedResponse",
      "ABFindContactsPagedResult",
      "Contacts",
      "Contact",
    );
  };
  const contacts = await find();
  const me = contacts.find((c) => str(c, "contactInfo", "contactType") === "Me");
  assert.equal(str(me, "contactInfo", "passportName"), "alice@hotmail.co.uk");
  const regular = contacts.filter((c) => str(c, "contactInfo", "contactType") === "Regular");
  assert.deepEqual(regular.map((c) => str(c, "contactInfo", "passportName")).sort(), [
    "bob@outlook.com",
    "dave.lister",
    "echo123",
  ]);
  const dave = str(
    regular.find((c) => str(c, "contactInfo", "passportName") === "dave.lister"),
    "contactId",
  );
  const del = await soap(
    env,
    "ab",
    "ABContactDelete",
    soapEnvelope(
      "ABContactDelete",
      tk,
      `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactId>${dave}</contactId></Contact></contacts>`,
    ),
  );
  assert.equal(del.status, 200, del.text);
  assert.equal((await find()).filter((c) => str(c, "contactInfo", "contactType") === "Regular").length, 2);
  const again = await soap(
    env,
    "ab",
    "ABContactDelete",
    soapEnvelope(
      "ABContactDelete",
      tk,
      `<contacts><Contact><contactId>${dave}</contactId></Contact></contacts>`,
    ),
  );
  assert.equal(again.fault, "ContactDoesNotExist");
  const blocked = await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    soapEnvelope("FindAllBlockedContacts", tk, ""),
  );
  assert.equal(blocked.status, 200);
  const result = ["Envelope", "Body", "FindAllBlockedContactsResponse", "FindAllBlockedContactsResult"];
  assert.deepEqual(list(blocked.doc, ...result, "BlockedContact"), [
    { Mri: "8:live:mallory", DisplayName: "Mallory" },
  ]);
  await env.control("POST", "/http/knobs", { blockedContactsResult: "empty" });
  const empty = await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    soapEnvelope("FindAllBlockedContacts", tk, ""),
  );
  assert.equal(dig(empty.doc, ...result), "");
});

test("PassportAuthFail for an expired, wrong-scope, missing or unknown TicketToken", async (t) => {
  const env = await startEnv(t);
  const alice = env.person("alice@hotmail.co.uk");
  const body = (tk: string) => soapEnvelope("FindAllBlockedContacts", tk, "");
  const wrongScope = env.world.issueTokens(alice, SCOPES.activesync).access_token;
  const expired = ticket(env, "alice@hotmail.co.uk");
  assert.equal(
    (await env.control("POST", "/http/tokens/expire", { user: "alice@hotmail.co.uk" })).status,
    200,
  );
  for (const tk of [wrongScope, expired, "", "nonsense"]) {
    const r = await soap(env, "ab", "FindAllBlockedContacts", body(tk));
    assert.equal(r.status, 500);
    assert.equal(r.fault, "PassportAuthFail");
    assert.equal(str(r.doc, "Envelope", "Body", "Fault", "faultcode"), "soap:Client");
  }
  assert.doesNotMatch(
    JSON.stringify(await env.control("GET", "/http/requests")),
    new RegExp(expired.slice(3, 20).replace(/[+/]/g, "\\$&")),
  );
});

test("SOAPAction must agree with the body; operations belong to one service", async (t) => {
  const env = await startEnv(t);
  const tk = ticket(env, "alice@hotmail.co.uk");
  const env1 = soapEnvelope("FindAllBlockedContacts", tk, "");
  const mismatch = await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    env1,
    "http://www.msn.com/webservices/AddressBook/ABFindContactsPaged",
  );
  assert.equal(mismatch.status, 500);
  assert.ok(mismatch.fault);
  assert.equal((await soap(env, "ab", "FindAllBlockedContacts", env1, null)).status, 200);
  const wrongService = await soap(env, "sharing", "FindAllBlockedContacts", env1);
  assert.equal(wrongService.status, 500);
  assert.ok(wrongService.fault);
});

test("DOCTYPE and entity declarations are refused (400 fault); oversize bodies get 413", async (t) => {
  const env = await startEnv(t, { maxBodyBytes: 64 * 1024 });
  const tk = ticket(env, "alice@hotmail.co.uk");
  const laughs =
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
    soapEnvelope("FindAllBlockedContacts", tk, "&lol2;").replace(/^<\?xml[^>]*\?>/, "");
  const r = await soap(env, "ab", "FindAllBlockedContacts", laughs);
  assert.equal(r.status, 400);
  assert.ok(r.fault);
  const xxe =
    `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` +
    soapEnvelope("FindAllBlockedContacts", tk, "&e;");
  assert.equal((await soap(env, "ab", "FindAllBlockedContacts", xxe)).status, 400);
  const broken = await soap(env, "ab", "FindAllBlockedContacts", "<soap:Envelope><oops></soap:Envelope>");
  assert.equal(broken.status, 400);
  const big = soapEnvelope("FindAllBlockedContacts", tk, `<pad>${"x".repeat(100 * 1024)}</pad>`);
  assert.equal((await soap(env, "ab", "FindAllBlockedContacts", big)).status, 413);
  // Still serving afterwards.
  assert.equal(
    (await soap(env, "ab", "FindAllBlockedContacts", soapEnvelope("FindAllBlockedContacts", tk, ""))).status,
    200,
  );
});

test("CacheKey: echoed key is current; PreferredHostName when configured; both logged", async (t) => {
  const env = await startEnv(t, { abchPreferredHostName: "byrdr.omega.contacts.msn.com" });
  const tk = ticket(env, "alice@hotmail.co.uk");
  const first = await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    soapEnvelope("FindAllBlockedContacts", tk, ""),
  );
  const header = (doc: unknown, field: string): string | undefined =>
    str(doc, "Envelope", "Header", "ServiceHeader", field);
  const key1 = header(first.doc, "CacheKey") ?? "";
  assert.equal(header(first.doc, "CacheKeyChanged"), "true");
  assert.ok(key1);
  assert.equal(header(first.doc, "PreferredHostName"), "byrdr.omega.contacts.msn.com");
  const second = await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    soapEnvelope("FindAllBlockedContacts", tk, "", { cacheKey: key1 }),
  );
  assert.equal(header(second.doc, "CacheKeyChanged"), "false");
  assert.equal(header(second.doc, "CacheKey"), key1);
  // The Sharing service has its own key.
  const sharing = await soap(
    env,
    "sharing",
    "FindMembership",
    soapEnvelope("FindMembership", tk, "", { cacheKey: key1 }),
  );
  assert.equal(header(sharing.doc, "CacheKeyChanged"), "true");
  const log = list((await env.control("GET", "/http/requests")).json, "requests");
  assert.deepEqual(
    log.map((e) => str(e, "details", "cacheKey")),
    ["absent", "current", "stale"],
  );
  await env.control("POST", "/http/knobs", { abchCacheKey: "rotate" });
  const rot = await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    soapEnvelope("FindAllBlockedContacts", tk, "", { cacheKey: key1 }),
  );
  assert.notEqual(header(rot.doc, "CacheKey"), key1);
  assert.equal(header(rot.doc, "CacheKeyChanged"), "true");
});
