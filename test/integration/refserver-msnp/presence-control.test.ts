// SPDX-License-Identifier: Apache-2.0
// Presence pushes, NFY MSGR\ABCH, the /msnp control routes, knobs and TLS (PROFILE §3, §5, §6).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tlsConnect } from "node:tls";
import { ControlApi } from "../../../refserver/control.js";
import { start } from "./fixture.js";
import { blocks, frameBytes, mmm, RawClient, waitFor, type RawFrame, type Session } from "./raw-client.js";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "./tls-fixture.js";

const nfy = (kind: string, from: string) => (f: RawFrame) =>
  f.cmd === "NFY" && f.type === `MSGR\\${kind}` && blocks(f.body).routing.from?.split(";")[0] === from;

function publish(s: Session, user: string, from = s.mri): Promise<RawFrame> {
  const body = mmm(
    [
      ["To", s.mri],
      ["From", `${from};epid={${s.epid}}`],
    ],
    [
      ["Publication", "1.0"],
      ["Uri", "/user"],
      ["Content-Type", "application/user+xml"],
    ],
    user,
  );
  return s.call("PUT", "MSGR\\PRESENCE", body);
}

const FULL = (epid: string, status: string): string =>
  `<user><sep n="PE" epid="{${epid}}"><VER>0/6.16.0.105/259/</VER><TYP>11</TYP><Capabilities>0:0</Capabilities></sep>` +
  `<s n="IM"><Status>${status}</Status></s><sep n="IM" epid="{${epid}}"><Capabilities>0:0</Capabilities></sep>` +
  `<s n="SKP"><Mood>tea time</Mood><Skypename>live:alice_1</Skypename></s></user>`;

test("presence: the full document to subscribed contacts, DEL when an endpoint leaves or hides", async (t) => {
  const s = await start(t);
  const bob = await s.signIn("bob@outlook.com");
  const bobNoPresence = await s.signIn("bob@outlook.com", {
    subscribe: "<subscribe><messaging><im/></messaging></subscribe>",
  });
  const a1 = await s.signIn("alice@hotmail.co.uk");
  const echo = await a1.client.next(nfy("PUT", "8:echo123"));
  assert.match(blocks(echo.body).body, /<Status>NLN<\/Status>/, "echo123 is always online");

  assert.equal((await publish(a1, FULL(a1.epid, "NLN"))).cmd, "PUT");
  const put = await bob.client.next(nfy("PUT", "8:live:alice_1"));
  assert.equal(put.trid, "0");
  const b = blocks(put.body);
  assert.equal(b.content.notification, "1.0");
  assert.equal(b.content.uri, "/user");
  assert.equal(b.content["content-type"], "application/user+xml");
  assert.equal(b.body, FULL(a1.epid, "NLN"));

  const a2 = await s.signIn("alice@hotmail.co.uk");
  await publish(a2, `<user><s n="IM"><Status>BSY</Status></s></user>`);
  const busy = blocks((await bob.client.next(nfy("PUT", "8:live:alice_1"))).body).body;
  assert.match(busy, /<Status>BSY<\/Status>/);
  assert.match(busy, /<Mood>tea time<\/Mood>/, "the full document, not just the change");

  await a1.client.close();
  const del = await bob.client.next(nfy("DEL", "8:live:alice_1"));
  assert.equal(blocks(del.body).body, `<user><sep n="IM" epid="{${a1.epid}}"/></user>`);

  await publish(a2, `<user><s n="IM"><Status>HDN</Status></s></user>`);
  const hidden = await bob.client.next(nfy("DEL", "8:live:alice_1"));
  assert.equal(blocks(hidden.body).body, `<user><sep n="IM" epid="{${a2.epid}}"/></user>`);

  assert.equal((await publish(a2, FULL(a2.epid, "NLN"), "8:live:bob_1")).cmd, "201", "From must be oneself");
  assert.equal((await publish(a2, `<user><s n="IM"><Status>XYZ</Status></s></user>`)).cmd, "201");
  await bobNoPresence.barrier();
  assert.equal(bobNoPresence.client.frames.filter((f) => f.cmd === "NFY").length, 0);
});

test("NFY MSGR\\ABCH goes to endpoints subscribed to the ABCH partner", async (t) => {
  const s = await start(t);
  const withAbch = await s.signIn("alice@hotmail.co.uk");
  const without = await s.signIn("alice@hotmail.co.uk", {
    subscribe: "<subscribe><messaging><im/></messaging></subscribe>",
  });
  s.world.touchAddressBook(s.world.mustFind("alice@hotmail.co.uk"));
  const n = await withAbch.client.next((f) => f.type === "MSGR\\ABCH");
  assert.equal(`${n.cmd} ${n.trid}`, "NFY 0");
  assert.match(n.body, /^<NOTIFICATION .*ABCHInternal.*<\/NOTIFICATION>$/);
  await without.barrier();
  assert.equal(without.client.frames.filter((f) => f.type === "MSGR\\ABCH").length, 0);
});

test("control API: send (emote), typing, presence, endpoints, messages, received, knobs, drop", async (t) => {
  const control = new ControlApi();
  const base = await control.listen(0);
  t.after(() => control.close());
  const s = await start(t, {}, control);
  const call = async <T = Record<string, unknown>>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }> => {
    const r = await fetch(base + path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as T };
  };
  const alice = await s.signIn("alice@hotmail.co.uk");

  const sent = await call<{ clientMessageId: string }>("POST", "/msnp/send", {
    from: "dave.lister",
    to: "8:live:alice_1",
    text: "waves",
    kind: "emote",
  });
  assert.equal(sent.status, 200);
  const emote = blocks((await alice.client.next((f) => f.cmd === "SDG")).body);
  assert.equal(emote.routing.from, "8:dave.lister");
  assert.equal(emote.body, "Dave Lister waves");
  assert.equal(emote.content["skype-emoteoffset"], "11");
  assert.equal(emote.content["client-message-id"], sent.json.clientMessageId);

  await call("POST", "/msnp/edit", {
    from: "8:dave.lister",
    to: "8:live:alice_1",
    editedId: sent.json.clientMessageId,
    text: "nods",
  });
  const edit = blocks((await alice.client.next((f) => f.cmd === "SDG")).body);
  assert.equal(edit.content["skype-editedid"], sent.json.clientMessageId);
  await call("POST", "/msnp/typing", { from: "8:dave.lister", to: "8:live:alice_1" });
  const typing = blocks((await alice.client.next((f) => f.cmd === "SDG")).body);
  assert.equal(typing.content["message-type"], "Control/Typing");
  assert.equal(
    (await call("POST", "/msnp/send", { from: "nobody", to: "8:live:alice_1", text: "x" })).status,
    404,
  );
  assert.equal((await call("POST", "/msnp/send", { from: "8:dave.lister", text: "x" })).status, 400);

  await call("POST", "/msnp/presence", { user: "dave.lister", status: "AWY", mood: "smeg" });
  const away = blocks((await alice.client.next(nfy("PUT", "8:dave.lister"))).body).body;
  assert.match(away, /<Status>AWY<\/Status>.*<Mood>smeg<\/Mood>/);
  await call("POST", "/msnp/presence", { user: "dave.lister", status: "offline" });
  await alice.client.next(nfy("DEL", "8:dave.lister"));

  alice.sdg("8:live:bob_1", "for the record");
  await alice.barrier();
  const received = await call<{ messages: Array<{ body: string }> }>(
    "GET",
    "/msnp/received?user=alice@hotmail.co.uk",
  );
  assert.equal(received.json.messages[0]!.body, "for the record");
  const stored = await call<{ messages: Array<{ content: string }> }>(
    "GET",
    "/msnp/messages?user=alice@hotmail.co.uk&conversation=8:dave.lister",
  );
  assert.deepEqual(
    stored.json.messages.map((m) => m.content),
    ["Dave Lister waves", "nods"],
  );
  const eps = await call<{ endpoints: Array<{ user: string; epid: string }> }>("GET", "/msnp/endpoints");
  assert.equal(eps.json.endpoints[0]!.user, "alice@hotmail.co.uk");
  assert.equal(eps.json.endpoints[0]!.epid, alice.epid);

  assert.equal((await call<{ pingWait: number }>("POST", "/msnp/knobs", { pingWait: 9 })).json.pingWait, 9);
  assert.match((await alice.call("PNG", "CON")).body, /<wait>9<\/wait>/);
  assert.equal((await call("POST", "/msnp/knobs", { pingWait: -1 })).status, 400);
  assert.equal((await call("POST", "/msnp/knobs", { noSuchKnob: 1 })).status, 400);

  const created = await call<{ id: string }>("POST", "/msnp/thread/create", {
    as: "8:dave.lister",
    members: ["8:live:alice_1"],
  });
  assert.match(created.json.id, /^19:/);
  assert.equal(
    (
      await call("POST", "/msnp/thread/remove", {
        as: "8:live:alice_1",
        thread: created.json.id,
        members: ["8:dave.lister"],
      })
    ).status,
    403,
  );

  assert.equal(
    (
      await call<{ connections: number }>("POST", "/msnp/drop", {
        user: "alice@hotmail.co.uk",
        afterFrames: 2,
      })
    ).json.connections,
    1,
  );
  await alice.call("PNG", "CON");
  alice.send("PNG", "CON");
  await alice.client.waitClosed();
  await call("POST", "/msnp/drop", { user: "bob@outlook.com", afterFrames: 1, out: "SSD" });
  const bob = await s.signIn("bob@outlook.com", { subscribe: null });
  bob.send("PNG", "CON");
  assert.equal((await bob.client.next((f) => f.cmd === "OUT")).body, "SSD");
});

test("control API: drop-all cuts every open connection at once, with OUT when asked", async (t) => {
  const control = new ControlApi();
  const base = await control.listen(0);
  t.after(() => control.close());
  const s = await start(t, {}, control);
  const dropAll = async (body: unknown): Promise<{ status: number; connections?: number }> => {
    const r = await fetch(`${base}/msnp/drop-all`, { method: "POST", body: JSON.stringify(body) });
    return { status: r.status, ...((await r.json()) as { connections?: number }) };
  };
  const alice = await s.signIn("alice@hotmail.co.uk");
  const alice2 = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com");
  assert.equal((await dropAll({})).connections, 3);
  await Promise.all([alice.client.waitClosed(), alice2.client.waitClosed(), bob.client.waitClosed()]);
  assert.equal(s.server.endpoints().length, 0);
  assert.equal((await dropAll({})).connections, 0, "nothing left to drop");

  const again = await s.signIn("bob@outlook.com", { subscribe: null });
  assert.equal((await dropAll({ out: "SSD" })).connections, 1);
  assert.equal((await again.client.next((f) => f.cmd === "OUT")).body, "SSD");
  await again.client.waitClosed();
  assert.equal((await dropAll({ out: "BYE" })).status, 400);
});

test("control API: /msnp/endpoints with ready=1 and ids=1 lists only ready endpoints' identities", async (t) => {
  const control = new ControlApi();
  const base = await control.listen(0);
  t.after(() => control.close());
  const s = await start(t, {}, control);
  const get = async (query: string): Promise<{ endpoints?: unknown[]; identities?: string[] }> =>
    (await (await fetch(`${base}/msnp/endpoints${query}`)).json()) as {
      endpoints?: unknown[];
      identities?: string[];
    };
  const alice = await s.signIn("alice@hotmail.co.uk");
  await s.signIn("alice@hotmail.co.uk");
  await s.connect(); // open, never signed in: not ready
  await waitFor(() => s.server.endpoints().length === 3);
  assert.equal((await get("")).endpoints?.length, 3);
  assert.equal((await get("?ready=1")).endpoints?.length, 2);
  const ready = await get("?ready=1&ids=1");
  assert.equal(ready.endpoints, undefined, "no views, only identities");
  assert.deepEqual(ready.identities?.sort(), s.world.identities(alice.person).sort(), "each identity once");
  assert.ok(((await get("?ids=1")).identities ?? []).length >= 2);
});

test("replyDelayMs delays replies and keeps their order", async (t) => {
  const s = await start(t, { replyDelayMs: 20 });
  const a = await s.signIn("alice@hotmail.co.uk", { subscribe: null });
  const before = Date.now();
  const t1 = a.send("PNG", "CON");
  const t2 = a.send(
    "PUT",
    "MSGR\\CONTACTS",
    `<ml l="1"><skp><c n="live:bob_1" t="8"><s l="3" n="IM"/></c></skp></ml>`,
  );
  const first = await a.client.next((f) => f.trid === String(t1) || f.trid === String(t2));
  assert.equal(first.trid, String(t1));
  await a.client.next((f) => f.trid === String(t2));
  assert.ok(Date.now() - before >= 40);
  await waitFor(() => s.server.endpoints()[0]!.contacts.includes("8:live:bob_1"));
});

test("TLS: the same protocol inside TLS when a key and certificate are set", async (t) => {
  const s = await start(t, { tls: { key: TEST_TLS_KEY, cert: TEST_TLS_CERT } });
  const socket = tlsConnect({ host: "127.0.0.1", port: s.port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const c = s.track(RawClient.wrap(socket));
  c.write(frameBytes("CNT", 1, "CON", [], "<connect><ver>2</ver></connect>"));
  assert.match((await c.next()).body, /^<connect-response>/);
});
