// SPDX-License-Identifier: Apache-2.0
// The HTTP side's control routes (/http/...) and the no-secrets rule for logs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { startHttpServer, type HttpServerOptions } from "../../../refserver/http/server.js";
import { SCOPES, World, type Person } from "../../../refserver/world.js";
import { CLIENT_ID, dig, list, signIn, soap, soapEnvelope, startEnv, tokenRequest } from "./harness.js";

test("contact-request makes `from` ask `to`, and completes when `to` had asked first", async (t) => {
  const env = await startEnv(t);
  const changed: string[] = [];
  env.world.on("abchChanged", (p: Person) => changed.push(p.key));
  const r = await env.control("POST", "/http/contact-request", {
    from: "8:live:mallory",
    to: "bob@outlook.com",
    message: "hey",
  });
  assert.deepEqual(r, { status: 200, json: { outcome: "requested" } });
  assert.equal(env.person("bob@outlook.com").pending.get("mallory@hotmail.com"), "hey");
  assert.deepEqual(changed, ["bob@outlook.com"]);
  // alice has a pending request from carol: carol asking again is a conflict, alice asking carol completes it.
  assert.equal(
    (
      await env.control("POST", "/http/contact-request", {
        from: "carol@live.com",
        to: "alice@hotmail.co.uk",
      })
    ).status,
    409,
  );
  const done = await env.control("POST", "/http/contact-request", {
    from: "alice@hotmail.co.uk",
    to: "carol@live.com",
  });
  assert.equal(dig(done.json, "outcome"), "completed");
  assert.ok(env.person("alice@hotmail.co.uk").contacts.has("carol@live.com"));
  // A blocked requester's request is dropped silently.
  const dropped = await env.control("POST", "/http/contact-request", {
    from: "mallory@hotmail.com",
    to: "alice@hotmail.co.uk",
  });
  assert.equal(dig(dropped.json, "outcome"), "dropped");
  assert.equal(env.person("alice@hotmail.co.uk").pending.has("mallory@hotmail.com"), false);
  assert.equal(
    (await env.control("POST", "/http/contact-request", { from: "nobody", to: "bob@outlook.com" })).status,
    404,
  );
  assert.equal((await env.control("POST", "/http/contact-request", { to: "bob@outlook.com" })).status, 400);
});

test("tokens/expire makes access tokens fail while refresh still works", async (t) => {
  const env = await startEnv(t);
  const f = await signIn(env, "bob@outlook.com", "canwefixit");
  assert.equal((await env.control("POST", "/http/tokens/expire", { user: "live:bob_1" })).status, 200);
  const me = await request(
    `${env.url}/rps/me?access_token=${encodeURIComponent(f.get("access_token") ?? "")}`,
  );
  assert.equal(me.statusCode, 401);
  await me.body.text();
  const r = await tokenRequest(env, {
    grant_type: "refresh_token",
    client_id: CLIENT_ID,
    scope: SCOPES.skype,
    refresh_token: f.get("refresh_token") ?? "",
  });
  assert.equal(r.status, 200);
  assert.equal((await env.control("POST", "/http/tokens/expire", { user: "ghost@nowhere" })).status, 404);
});

test("knobs can be read and changed; bad values are refused", async (t) => {
  const env = await startEnv(t);
  const k = await env.control("GET", "/http/knobs");
  assert.equal(dig(k.json, "wrongPasswordPage"), "sErrTxt");
  assert.equal(dig(k.json, "secondFactorPage"), "SAOTCC");
  assert.equal(dig(k.json, "uicPath"), "/login/uic");
  assert.equal((await env.control("POST", "/http/knobs", { secondFactorPage: "other" })).status, 400);
  assert.equal((await env.control("POST", "/http/knobs", { port: 1 })).status, 400);
  const set = await env.control("POST", "/http/knobs", { uicPath: "/v2/uic", imAddressFormat: "bare" });
  assert.equal(dig(set.json, "uicPath"), "/v2/uic");
  const r = await request(`${env.url}/v2/uic`, { method: "POST", body: "" });
  assert.equal(r.statusCode, 401);
  await r.body.text();
  await assert.rejects(startHttpServerWith({ wrongPasswordPage: "nope" as never }));
});

async function startHttpServerWith(options: Partial<HttpServerOptions>): Promise<void> {
  const s = await startHttpServer(new World({ accounts: [] }), undefined, options);
  await s.close();
}

test("the request log and the server log never hold a secret", async (t) => {
  const lines: string[] = [];
  const env = await startEnv(t, {
    logger: (level, msg, ctx) => lines.push(`${level} ${msg} ${JSON.stringify(ctx)}`),
  });
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  const at = f.get("access_token") ?? "";
  const rt = f.get("refresh_token") ?? "";
  const me = await request(`${env.url}/rps/me?access_token=${encodeURIComponent(at)}`);
  await me.body.text();
  const t2 = await tokenRequest(env, {
    grant_type: "refresh_token",
    client_id: CLIENT_ID,
    scope: SCOPES.contacts,
    refresh_token: rt,
  });
  const uicToken = env.world.issueTokens(env.person("alice@hotmail.co.uk"), SCOPES.uic).access_token;
  const u = await request(`${env.url}/login/uic`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ access_token: uicToken, nonce: "nonce-123" }).toString(),
  });
  const uic = ((await u.body.json()) as { uic: string }).uic;
  await soap(
    env,
    "ab",
    "FindAllBlockedContacts",
    soapEnvelope("FindAllBlockedContacts", t2.json.access_token, ""),
  );
  const log = JSON.stringify((await env.control("GET", "/http/requests")).json);
  assert.ok(log.includes("/oauth20_token.srf") && log.includes("FindAllBlockedContacts"));
  for (const secret of [
    at,
    rt,
    t2.json.access_token,
    t2.json.refresh_token,
    uicToken,
    uic,
    "wonderland",
    "nonce-123",
    "MSPOK",
  ]) {
    assert.ok(!log.includes(secret), "request log leaks a secret");
    assert.ok(!lines.join("\n").includes(secret), "server log leaks a secret");
  }
  assert.ok(lines.length > 0);
  const since = list((await env.control("GET", "/http/requests?since=3")).json, "requests");
  assert.ok(since.length > 0 && since.every((e) => Number(dig(e, "seq")) > 3));
  await env.control("POST", "/http/requests/clear");
  assert.deepEqual(list((await env.control("GET", "/http/requests")).json, "requests"), []);
});
