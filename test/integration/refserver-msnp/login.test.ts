// SPDX-License-Identifier: Apache-2.0
// The reference server's MSNP24 login, registration cookie, challenge and framing rules (PROFILE §3, §5),
// driven over raw sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SCOPES } from "../../../refserver/world.js";
import { challengeAnswer } from "../../../refserver/msnp/cs64.js";
import { start } from "./fixture.js";
import { athBody, blocks, bndBody, frameBytes, mmm, waitFor } from "./raw-client.js";

test("CS64 challenge answers match the published MSNP11 vectors", () => {
  assert.equal(challengeAnswer("22210219642164014968"), "85ecb0db8f32113df79ce0892b9a102c");
  assert.equal(challengeAnswer("36819795137093047918"), "e7ad3cb09d3e9e4e7c720175984809e9");
  assert.equal(challengeAnswer("21948129323261853323"), "59bcf63ed21f44906c3d3e121ddbed65");
});

test("login sequence: CNT nonce, ATH, BND with Set-Registration, PNG, byte lengths", async (t) => {
  const s = await start(t);
  const alice = s.world.mustFind("alice@hotmail.co.uk");
  const c = await s.connect();
  c.send(
    "CNT",
    1,
    "CON",
    [],
    "<connect><ver>2</ver><agent><os>winnt</os><osVer>5.2</osVer></agent></connect>",
  );
  const cnt = await c.next();
  assert.equal(`${cnt.cmd} ${cnt.trid} ${cnt.type}`, "CNT 1 CON");
  assert.equal(cnt.length, cnt.payload.length);
  assert.ok(cnt.payload.toString("utf8").startsWith("\r\n<connect-response>"));
  assert.match(cnt.body, /^<connect-response>.*<nonce>[^<]+<\/nonce>.*<\/connect-response>$/);
  const nonce = /<nonce>([^<]+)</.exec(cnt.body)![1]!;

  const ticket = s.world.issueTokens(alice, SCOPES.ath).access_token;
  c.send("ATH", 2, "CON\\USER", [], athBody(ticket, s.world.issueUic(alice, nonce), alice));
  const ath = await c.next();
  assert.equal(`${ath.cmd} ${ath.trid} ${ath.type}`, "ATH 2 CON");
  assert.match(ath.body, /^<auth-response>/);

  c.send("BND", 3, "CON\\MSGR", [], bndBody("d2b6c1a0-1111-2222-3333-444455556666"));
  const bnd = await c.next();
  assert.equal(`${bnd.cmd} ${bnd.trid} ${bnd.type}`, "BND 3 CON");
  const cookie = bnd.headers["set-registration"];
  assert.ok(cookie);
  assert.equal(bnd.body, "<msgr-response></msgr-response>");

  c.send("PNG", 4, "CON", [
    ["Registration", cookie],
    ["Last-Msg-Id", "0"],
  ]);
  const png = await c.next();
  assert.equal(`${png.cmd} ${png.trid} ${png.type}`, "PNG 4 CON");
  assert.equal(png.body, "<ping-response><wait>50</wait></ping-response>");

  c.send(
    "PUT",
    5,
    "MSGR\\SUBSCRIPTIONS",
    [["Registration", cookie]],
    "<subscribe><messaging><im/></messaging></subscribe>",
  );
  const put = await c.next();
  assert.equal(`${put.cmd} ${put.trid} ${put.type} ${put.length}`, "PUT 5 MSGR 2");
});

test("a bare PNG before BND is answered; non-ASCII payloads are counted in bytes", async (t) => {
  const s = await start(t, { pingWait: 7 });
  const c = await s.connect();
  c.write(frameBytes("PNG", 1, "CON", [], "", true));
  const png = await c.next();
  assert.equal(png.body, "<ping-response><wait>7</wait></ping-response>");

  const carol = await s.signIn("carol@live.com");
  const bob = await s.signIn("bob@outlook.com");
  const text = "Grüße 👋 from Ånström";
  carol.sdg("8:live:bob_1", text);
  const push = await bob.client.next((f) => f.cmd === "SDG");
  assert.equal(push.length, push.payload.length);
  const b = blocks(push.body);
  assert.equal(b.body, text);
  assert.equal(Number(b.content["content-length"]), Buffer.byteLength(text, "utf8"));
  assert.equal(b.content["im-display-name"], "Carol Ånström");
});

test("ATH failures: 911 with a reason, the connection stays for a retry, closes after 3", async (t) => {
  const s = await start(t);
  const alice = s.world.mustFind("alice@hotmail.co.uk");
  const c = await s.connect();
  c.send("BND", 1, "CON\\MSGR", [], bndBody("e1"));
  const early = await c.next();
  assert.equal(`${early.cmd} ${early.trid} ${early.type}`, "911 1 CON");

  c.send("CNT", 2, "CON", [], "<connect><ver>2</ver></connect>");
  const nonce = /<nonce>([^<]+)</.exec((await c.next()).body)![1]!;
  const good = s.world.issueTokens(alice, SCOPES.ath).access_token;
  const wrongScope = s.world.issueTokens(alice, SCOPES.contacts).access_token;
  const uic = s.world.issueUic(alice, nonce);

  c.send("ATH", 3, "CON\\USER", [], athBody("bogus+/=", uic, alice));
  const f1 = await c.next();
  assert.equal(`${f1.cmd} ${f1.trid} ${f1.type}`, "911 3 CON");
  assert.match(f1.body, /^Authentication failed/);
  assert.ok(!f1.body.includes("bogus"));

  c.send("ATH", 4, "CON\\USER", [], athBody(wrongScope, uic, alice));
  assert.equal((await c.next()).cmd, "911");
  assert.ok(!c.closed);

  c.send("ATH", 5, "CON\\USER", [], athBody(good, uic, alice));
  assert.equal((await c.next()).cmd, "ATH", "a success after two failures");

  // Three failures in a row close the connection.
  const d = await s.connect();
  d.send("CNT", 1, "CON", [], "<connect><ver>2</ver></connect>");
  const n2 = /<nonce>([^<]+)</.exec((await d.next()).body)![1]!;
  const uicForOtherNonce = s.world.issueUic(alice, nonce);
  d.send("ATH", 2, "CON\\USER", [], athBody(good, uicForOtherNonce, alice));
  assert.match((await d.next()).body, /UIC/);
  const bob = s.world.mustFind("bob@outlook.com");
  d.send("ATH", 3, "CON\\USER", [], athBody(good, s.world.issueUic(alice, n2), bob));
  assert.match((await d.next()).body, /id does not match/);
  d.send("ATH", 4, "CON\\USER", [], "<user><uic>x</uic>");
  assert.equal((await d.next()).cmd, "911");
  await d.waitClosed();
});

test("ATH may be repeated on a bound connection (with Registration)", async (t) => {
  const s = await start(t);
  const a = await s.signIn("alice@hotmail.co.uk");
  const c = a.client;
  c.send("CNT", 50, "CON", [["Registration", a.cookie]], "<connect><ver>2</ver></connect>");
  const nonce = /<nonce>([^<]+)</.exec((await c.next((f) => f.trid === "50")).body)![1]!;
  const ticket = s.world.issueTokens(a.person, SCOPES.ath).access_token;
  const r = await a.call("ATH", "CON\\USER", athBody(ticket, s.world.issueUic(a.person, nonce), a.person));
  assert.equal(r.cmd, "ATH");
});

test("registration cookie: missing or stale → 715, also on PNG and ACK; OUT needs none", async (t) => {
  const s = await start(t);
  const a = await s.signIn("alice@hotmail.co.uk", { subscribe: null });
  const c = a.client;
  c.send("PUT", 20, "MSGR\\SUBSCRIPTIONS", [], "<subscribe><messaging><im/></messaging></subscribe>");
  const e1 = await c.next((f) => f.trid === "20");
  assert.equal(`${e1.cmd} ${e1.type}`, "715 MSGR");
  c.send("PNG", 21, "CON", [["Registration", "stale-cookie"]]);
  assert.equal((await c.next((f) => f.trid === "21")).cmd, "715");
  c.send("ACK", 22, "MSGR", [["Ack-Id", "0000000000000001"]]);
  assert.equal((await c.next((f) => f.trid === "22")).cmd, "715");
  assert.equal(
    (await a.call("PUT", "MSGR\\SUBSCRIPTIONS", "<subscribe><messaging><im/></messaging></subscribe>")).cmd,
    "PUT",
  );
  c.write(frameBytes("OUT", 23, "CON", [], "", true));
  await c.waitClosed();
});

test("MSGR commands before BND get 715", async (t) => {
  const s = await start(t);
  const c = await s.connect();
  c.send("PUT", 1, "MSGR\\PRESENCE", [], "x");
  const e = await c.next();
  assert.equal(`${e.cmd} ${e.trid} ${e.type}`, "715 1 MSGR");
});

test("cookie rotation per reply: the old cookie works until the new one is used", async (t) => {
  const s = await start(t, { rotateCookie: "per-reply" });
  const a = await s.signIn("alice@hotmail.co.uk", { subscribe: null });
  const first = a.cookie;
  const r = await a.call("PUT", "MSGR\\SUBSCRIPTIONS", "<subscribe><messaging><im/></messaging></subscribe>");
  const second = r.headers["set-registration"];
  assert.ok(second && second !== first);
  // The previous cookie is still accepted (this reply rotates again: third).
  a.cookie = first;
  const r2 = await a.call("PNG", "CON");
  assert.equal(r2.cmd, "PNG");
  const third = r2.headers["set-registration"]!;
  a.cookie = third;
  assert.equal((await a.call("PNG", "CON")).cmd, "PNG", "using the newest cookie");
  a.cookie = second;
  assert.equal((await a.call("PNG", "CON")).cmd, "715", "a cookie two rotations old is refused");
});

test("cookie rotation by interval with no grace: an old cookie is refused at once", async (t) => {
  const s = await start(t, { rotateCookie: { intervalMs: 0 }, cookieGraceMs: 0 });
  const a = await s.signIn("alice@hotmail.co.uk", { subscribe: null });
  const old = a.cookie;
  const r = await a.call("PNG", "CON");
  assert.ok(r.headers["set-registration"]);
  a.cookie = old;
  assert.equal((await a.call("PNG", "CON")).cmd, "715");
});

test("challenge: MSGR before the answer → 715, right answer accepted, wrong → 540 + close", async (t) => {
  const s = await start(t, { requireChallenge: true });
  const a = await s.signIn("alice@hotmail.co.uk", { subscribe: null });
  assert.equal((await a.call("PUT", "MSGR\\SUBSCRIPTIONS", "<subscribe/>")).cmd, "715");
  await a.client.close();

  const b = await s.signIn("alice@hotmail.co.uk", { answer: (n) => challengeAnswer(n) });
  assert.equal((await b.call("GET", "MSGR\\RECENTCONVERSATIONS", "<recentconversations/>")).cmd, "GET");

  const c = await s.signIn("bob@outlook.com", { subscribe: null });
  const r = await c.call(
    "PUT",
    "MSGR\\CHALLENGE",
    "<challenge><appId>PROD0090YUAUV{2B</appId><response>00000000000000000000000000000000</response></challenge>",
  );
  assert.equal(`${r.cmd} ${r.type}`, "540 MSGR");
  await c.client.waitClosed();
});

test("framing errors: 200 then close; Content-Length mismatch too", async (t) => {
  const s = await start(t);
  const c = await s.connect();
  c.write(Buffer.from("HELLO there\r\n"));
  const e = await c.next();
  assert.equal(`${e.cmd} ${e.trid}`, "200 0");
  await c.waitClosed();

  const big = await s.connect();
  big.write(Buffer.from("SDG 5 MSGR 999999999\r\n"));
  const e2 = await big.next();
  assert.equal(`${e2.cmd} ${e2.trid}`, "200 5");
  await big.waitClosed();

  const a = await s.signIn("alice@hotmail.co.uk");
  const body = mmm(
    [
      ["To", "8:live:bob_1"],
      ["From", "8:live:alice_1"],
    ],
    [
      ["Messaging", "2.0"],
      ["Message-Type", "Text"],
    ],
    "hi",
  ).replace("Content-Length: 2", "Content-Length: 3");
  const trid = a.send("SDG", "MSGR", body);
  const e3 = await a.client.next((f) => f.trid === String(trid));
  assert.equal(`${e3.cmd} ${e3.trid} ${e3.type}`, `200 ${trid} MSGR`);
  await a.client.waitClosed();
});

test("bad input never crashes: malformed XML → 201, unknown command → 201, server keeps serving", async (t) => {
  const s = await start(t);
  const a = await s.signIn("alice@hotmail.co.uk");
  assert.equal((await a.call("PUT", "MSGR\\CONTACTS", "<ml><skp>")).cmd, "201");
  assert.equal((await a.call("PUT", "MSGR\\CONTACTS", '<!DOCTYPE x [<!ENTITY a "b">]><ml/>')).cmd, "201");
  assert.equal((await a.call("GET", "MSGR\\MESSAGESBYCONVERSATION", "<nope/>")).cmd, "201");
  assert.equal((await a.call("XYZ", "MSGR")).cmd, "201");
  const sdg = mmm([["To", "8:live:bob_1"]], [["Messaging", "2.0"]], "x");
  assert.equal((await a.call("SDG", "MSGR", sdg)).cmd, "201", "SDG without From");
  assert.equal((await a.call("SDG", "MSGR", "no blocks at all")).cmd, "200");
  await a.client.waitClosed();
  const b = await s.signIn("bob@outlook.com");
  assert.equal((await b.call("PNG", "CON")).cmd, "PNG");
});

test("a second BND on a connected epid: the old connection gets OUT OTH and is closed", async (t) => {
  const s = await start(t);
  const first = await s.signIn("alice@hotmail.co.uk", { epid: "aaaa-1" });
  const other = await s.signIn("alice@hotmail.co.uk", { epid: "bbbb-2" });
  await s.signIn("alice@hotmail.co.uk", { epid: "{AAAA-1}" });
  const out = await first.client.next((f) => f.cmd === "OUT");
  assert.equal(`${out.trid} ${out.type} ${out.body}`, "0 CON OTH");
  await first.client.waitClosed();
  assert.ok(!other.client.closed);
});

test("close() sends OUT SSD to every client", async (t) => {
  const s = await start(t);
  const a = await s.signIn("alice@hotmail.co.uk");
  await s.server.close();
  const out = await a.client.next((f) => f.cmd === "OUT");
  assert.equal(out.body, "SSD");
  await a.client.waitClosed();
  await waitFor(() => a.client.closed);
});
