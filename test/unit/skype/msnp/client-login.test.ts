import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { MsnpClient, type MessageEvent, type MsnpState } from "../../../../src/skype/msnp/index.js";
import type { MsnpClientOptions } from "../../../../src/skype/msnp/types.js";
import { cs64Response } from "../../../../src/skype/msnp/cs64.js";
import { parseMultipart } from "../../../../src/skype/msnp/body.js";
import { SkypeError, SkypeErrorCode } from "../../../../src/skype/errors.js";
import { ScriptServer } from "./script-server.js";
import { stringsUnder, valuesUnder } from "../../../helpers/object-graph.js";

const creds = {
  email: "alice@hotmail.co.uk",
  skypename: "live:alice_1",
  getTicket: () => Promise.resolve("EwA+/=tok&"),
  getUic: (nonce: string) => Promise.resolve(`uic-${nonce}`),
};

function waitState(c: MsnpClient, kind: MsnpState["kind"]): Promise<MsnpState> {
  if (c.state.kind === kind) return Promise.resolve(c.state);
  return new Promise((resolve) => {
    const on = (s: MsnpState) => {
      if (s.kind !== kind) return;
      c.off("state", on);
      resolve(s);
    };
    c.on("state", on);
  });
}

/** Resolves once `cond` holds (checked every 2 ms); fails after `ms` instead of hanging the file. */
function until(cond: () => boolean, what = "the awaited condition", ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (!cond() && Date.now() < deadline) return;
      clearInterval(poll);
      if (cond()) resolve();
      else reject(new Error(`timed out waiting for ${what}`));
    }, 2);
  });
}

function loginScript(server: ScriptServer, opts: { challenge?: string } = {}) {
  let reg = 0;
  server.handler = (f, reply) => {
    const t = f.type;
    if (f.command === "CNT")
      reply({ body: "<connect-response><ver>2</ver><nonce>{N-1}</nonce></connect-response>" });
    else if (f.command === "ATH") reply({ body: "<auth-response/>" });
    else if (f.command === "BND") {
      const body = opts.challenge ? `<msgr-response><nonce>${opts.challenge}</nonce></msgr-response>` : "";
      reply({ headers: [["Set-Registration", `R${++reg}`]], body });
    } else if (f.command === "PUT" || f.command === "DEL") reply({ type: "MSGR" });
    else if (t === "MSGR\\RECENTCONVERSATIONS")
      reply({
        type: "MSGR",
        body: "<recentconversations-response><conversations/></recentconversations-response>",
      });
    else if (f.command === "PNG")
      reply({
        headers: [["Set-Registration", `R${++reg}`]],
        body: "<ping-response><wait>50</wait></ping-response>",
      });
  };
}

/** A server running {@link loginScript} and Alice's client for it, both stopped after the test. */
async function scriptedLogin(
  t: TestContext,
  options: Partial<MsnpClientOptions> = {},
  script: { challenge?: string } = {},
): Promise<{ server: ScriptServer; client: MsnpClient }> {
  const server = new ScriptServer();
  loginScript(server, script);
  const port = await server.listen();
  const client = new MsnpClient({
    host: "127.0.0.1",
    port,
    credentials: creds,
    epid: "{ABCD-1}",
    displayName: "Alice",
    ...options,
  });
  t.after(async () => {
    await client.stop();
    await server.close();
  });
  return { server, client };
}

test("login sequence, challenge, registration cookie on every frame after BND, ACK, send and OUT", async (t) => {
  const { server, client } = await scriptedLogin(t, {}, { challenge: "22210219642164014968" });
  const messages: MessageEvent[] = [];
  client.on("message", (m) => messages.push(m));
  const caughtUp = new Promise((r) => client.once("caughtUp", r));
  client.start();
  await waitState(client, "connected");
  await caughtUp;
  await server.waitFor((f) => f.command === "PNG", "first PNG");

  const seq = server.frames.map((f) => `${f.command} ${f.type}`);
  assert.deepEqual(seq.slice(0, 9), [
    "CNT CON",
    "ATH CON\\USER",
    "BND CON\\MSGR",
    "PUT MSGR\\CHALLENGE",
    "PUT MSGR\\PRESENCE",
    "PUT MSGR\\CONTACTS",
    "PUT MSGR\\SUBSCRIPTIONS",
    "GET MSGR\\RECENTCONVERSATIONS",
    "PNG CON",
  ]);
  const ath = server.frames[1]!.body.toString();
  assert.equal(
    ath,
    "<user><ssl-compact-ticket>t=EwA+/=tok&amp;</ssl-compact-ticket><uic>uic-{N-1}</uic>" +
      "<id>alice@hotmail.co.uk</id><alias>live:alice_1</alias></user>",
  );
  assert.ok(server.frames[2]!.body.toString().includes("<epid>abcd-1</epid>"));
  assert.ok(
    server.frames[3]!.body.toString().includes(
      `<response>${cs64Response("22210219642164014968")}</response>`,
    ),
  );
  for (const f of server.frames.slice(0, 3)) assert.equal(f.headers.get("Registration"), undefined);
  for (const f of server.frames.slice(3))
    assert.match(f.headers.get("Registration") ?? "", /^R\d$/, `${f.command} carries it`);
  const subs = server.frames[6]!.body.toString();
  assert.ok(subs.includes("<messaging><im />") && subs.includes("<partner>ABCH</partner>"));
  const presence = parseMultipart(server.frames[4]!.body);
  assert.equal(presence.routing.get("From"), "8:live:alice_1;epid={abcd-1}");
  assert.ok(presence.body.toString().includes("<Status>NLN</Status>"));

  // A push with an Ack-Id is acknowledged with the newest cookie (R2 came with the PNG reply).
  server.broadcast({
    command: "SDG",
    trid: 0,
    type: "MSGR",
    headers: [["Ack-Id", "0000013E745CEE19"]],
    body:
      "Routing: 1.0\r\nTo: 8:live:alice_1\r\nFrom: 8:live:bob_1;epid={B}\r\n\r\nReliability: 1.0\r\n\r\n" +
      "Messaging: 2.0\r\nMessage-ID: 1000\r\nClient-Message-ID: 77\r\nMessage-Type: Text\r\nIM-Display-Name: Bob\r\n" +
      "Content-Type: Text/plain; charset=UTF-8\r\nContent-Length: 5\r\n\r\nhello",
  });
  const ack = await server.waitFor((f) => f.command === "ACK", "ACK");
  assert.equal(ack.headers.get("Ack-Id"), "0000013E745CEE19");
  assert.equal(ack.headers.get("Registration"), "R2");
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.body, "hello");
  assert.equal(messages[0]!.conversation, "8:live:bob_1");
  assert.deepEqual(messages[0]!.cursor, { conversation: "8:live:bob_1", messageId: "1000" });

  const sent = client.sendText("8:live:bob_1", "hi", { clientMessageId: "555" });
  assert.equal(sent.clientMessageId, "555");
  await sent.delivered;
  const sdg = await server.waitFor((f) => f.command === "SDG", "SDG");
  assert.equal(sdg.headers.get("Registration"), "R2");
  const pngAfter = server.frames.filter((f) => f.command === "PNG" && f.trid > sdg.trid);
  assert.ok(pngAfter.length >= 1, "a PNG after the SDG proves delivery");
  assert.equal(pngAfter[0]!.headers.get("Last-Msg-Id"), "1000");

  await client.stop();
  const out = await server.waitFor((f) => f.command === "OUT", "OUT");
  assert.equal(out.length, 0);
  assert.equal(client.state.kind, "logged_out");
});

test("911 on ATH → bad_credentials; credential errors too", async (t) => {
  const server = new ScriptServer((f, reply) => {
    if (f.command === "CNT") reply({ body: "<connect-response><nonce>n</nonce></connect-response>" });
    else if (f.command === "ATH") reply({ command: "911", body: "Authentication failed" });
  });
  const port = await server.listen();
  const client = new MsnpClient({ host: "127.0.0.1", port, credentials: creds });
  t.after(async () => {
    await client.stop();
    await server.close();
  });
  client.start();
  const s = await waitState(client, "bad_credentials");
  assert.equal(s.kind === "bad_credentials" && s.error.code, SkypeErrorCode.Msnp);

  const c2 = new MsnpClient({
    host: "127.0.0.1",
    port,
    credentials: {
      ...creds,
      getTicket: () => Promise.reject(new SkypeError(SkypeErrorCode.BadCredentials, "invalid_grant", false)),
    },
  });
  t.after(() => c2.stop());
  c2.start();
  const s2 = await waitState(c2, "bad_credentials");
  assert.equal(s2.kind === "bad_credentials" && s2.error.code, SkypeErrorCode.BadCredentials);
});

test("OUT with OTH → logged_out; a dropped connection → transient_disconnect then reconnect", async (t) => {
  const server = new ScriptServer();
  loginScript(server);
  const port = await server.listen();
  let now = 1_000_000;
  const client = new MsnpClient({
    host: "127.0.0.1",
    port,
    credentials: creds,
    backoff: { initialMs: 10, maxMs: 20 },
    random: () => 0,
    clock: {
      now: () => now,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
  });
  t.after(async () => {
    await client.stop();
    await server.close();
  });
  client.start();
  await waitState(client, "connected");
  await new Promise((r) => client.once("caughtUp", r));
  now = 2_000_000;
  const transient = waitState(client, "transient_disconnect");
  server.dropAll();
  const s = await transient;
  assert.equal(s.kind === "transient_disconnect" && s.retryAt, 2_000_005);
  await waitState(client, "connected");
  await new Promise((r) => client.once("caughtUp", r));
  const out = waitState(client, "logged_out");
  server.broadcast({ command: "OUT", trid: 0, type: "CON", body: "OTH" });
  const s2 = await out;
  assert.equal(s2.kind === "logged_out" && s2.reason, "OTH");
});

test("reconnect gate: not asked for the first connect; each reconnect waits for it, holds it until caught up, and a stop while waiting gives it back", async (t) => {
  const server = new ScriptServer();
  loginScript(server);
  const port = await server.listen();
  const log: string[] = [];
  let grant: (() => void) | undefined;
  const client = new MsnpClient({
    host: "127.0.0.1",
    port,
    credentials: creds,
    backoff: { initialMs: 10, maxMs: 20 },
    random: () => 0,
    reconnectGate: () => {
      log.push("asked");
      return new Promise((resolve) => {
        grant = () => resolve(() => log.push("given back"));
      });
    },
  });
  t.after(async () => {
    await client.stop();
    await server.close();
  });
  client.on("state", (s) => log.push(s.kind));
  client.on("caughtUp", () => log.push("caught up"));
  client.start();
  await waitState(client, "connected");
  await new Promise((r) => client.once("caughtUp", r));
  assert.deepEqual(log, ["connecting", "connected", "caught up"], "the first connect does not ask");

  log.length = 0;
  const asked = until(() => grant !== undefined);
  server.dropAll();
  await asked;
  // Waiting for the gate: no connect until it answers.
  assert.deepEqual(log, ["transient_disconnect", "asked"]);
  const caughtUp = new Promise((r) => client.once("caughtUp", r));
  grant!();
  await caughtUp;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, [
    "transient_disconnect",
    "asked",
    "connecting",
    "connected",
    "caught up",
    "given back",
  ]);

  // A stop while waiting: the wait ends, and the slot that comes later goes straight back.
  log.length = 0;
  grant = undefined;
  const askedAgain = until(() => grant !== undefined);
  server.dropAll();
  await askedAgain;
  await client.stop();
  assert.equal(client.state.kind, "logged_out");
  grant!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    log.filter((e) => e === "asked" || e === "given back" || e === "connecting"),
    ["asked", "given back"],
  );
});

test("XFR redirect: reconnect to the target and send its state in CNT", async (t) => {
  const target = new ScriptServer();
  loginScript(target);
  const targetPort = await target.listen();
  const first = new ScriptServer((f, reply) => {
    if (f.command === "CNT")
      reply({
        command: "XFR",
        body: `<xfr><target>127.0.0.1:${targetPort}</target><state>ST&amp;1</state></xfr>`,
      });
  });
  const port = await first.listen();
  const client = new MsnpClient({ host: "127.0.0.1", port, credentials: creds });
  t.after(async () => {
    await client.stop();
    await first.close();
    await target.close();
  });
  client.start();
  await waitState(client, "connected");
  const cnt = await target.waitFor((f) => f.command === "CNT", "CNT at the target");
  assert.ok(cnt.body.toString().startsWith("<connect><xfr><state>ST&amp;1</state></xfr><ver>2</ver>"));
});

test("the CONTACTS document is built for each publish and never kept (~8 KB per session for 50 contacts)", async (t) => {
  let current = ["8:live:bob_1", "1:carol@example.com"];
  const { server, client } = await scriptedLogin(t, {
    backoff: { initialMs: 10, maxMs: 20 },
    getContacts: () => Promise.resolve(current),
  });
  const contactFrames = () => server.frames.filter((f) => f.type === "MSGR\\CONTACTS");
  client.start();
  await waitState(client, "connected");
  await server.waitFor((f) => f.command === "PNG", "first PNG");
  const login = contactFrames()[0]!.body.toString();
  assert.ok(login.includes('<c n="live:bob_1" t="8">') && login.includes('<d n="example.com"><c n="carol"'));
  // The client's own state holds no copy of what it sent (the probe finds one when it is kept).
  assert.deepEqual(stringsUnder(client, '<ml l="1">'), []);
  assert.equal(stringsUnder({ kept: { doc: login } }, '<ml l="1">').length, 1);

  current = ["8:live:bob_1", "8:live:dave_1"];
  await client.setContacts(current);
  assert.equal(contactFrames().length, 2);
  assert.ok(contactFrames()[1]!.body.toString().includes('<c n="live:dave_1" t="8">'));
  assert.deepEqual(stringsUnder(client, '<ml l="1">'), []);

  // The next login publishes the list of the moment, built again.
  server.dropAll();
  await until(() => contactFrames().length === 3);
  const relogin = contactFrames()[2]!.body.toString();
  assert.ok(relogin.includes('<c n="live:dave_1" t="8">') && !relogin.includes("carol"));
  await waitState(client, "connected");
  assert.deepEqual(stringsUnder(client, '<ml l="1">'), []);
});

test("a contact list set during a login's catch-up is published once the session is ready, and kept nowhere", async (t) => {
  let current = ["8:live:bob_1"];
  const { server, client } = await scriptedLogin(t, { getContacts: () => Promise.resolve(current) });
  const contactFrames = () => server.frames.filter((f) => f.type === "MSGR\\CONTACTS");
  // caughtUp fires before the session is ready: the bridge's first contact sync often ends there.
  let during: Promise<void> | undefined;
  client.once("caughtUp", () => {
    current = ["8:live:bob_1", "8:live:dave_1"];
    during = client.setContacts(current);
  });
  client.start();
  await waitState(client, "connected");
  await until(() => contactFrames().length === 2, "the list set during catch-up to be published");
  await during;
  assert.ok(!contactFrames()[0]!.body.toString().includes("dave"), "the login's own PUT had the older list");
  assert.ok(contactFrames()[1]!.body.toString().includes('<c n="live:dave_1" t="8">'));
  // With getContacts the client keeps no list of its own (it asks at each login).
  assert.ok(![...valuesUnder(client, 3)].includes(current));
});
