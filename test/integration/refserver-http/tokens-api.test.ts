// SPDX-License-Identifier: Apache-2.0
// The token endpoint (PROFILE §2.4, §5), /rps/me, usermap (§2.2, §2.3) and the UIC (§2.5) over raw HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { SCOPES } from "../../../refserver/world.js";
import { CLIENT_ID, dig, signIn, startEnv, tokenRequest, type Env } from "./harness.js";

const refresh = (rt: string, scope: string): Record<string, string> => ({
  grant_type: "refresh_token",
  client_id: CLIENT_ID,
  scope,
  refresh_token: rt,
});

async function get(
  env: Env,
  path: string,
  query: Record<string, string>,
): Promise<{ status: number; text: string; type: string }> {
  const r = await request(`${env.url}${path}?${new URLSearchParams(query).toString()}`);
  return { status: r.statusCode, text: await r.body.text(), type: String(r.headers["content-type"]) };
}

test("token rotation: every reply has a new refresh token, the old one keeps working", async (t) => {
  const env = await startEnv(t);
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  const rt0 = f.get("refresh_token") ?? "";
  const a = await tokenRequest(env, refresh(rt0, SCOPES.contacts));
  assert.equal(a.status, 200);
  assert.deepEqual(Object.keys(a.json).sort(), [
    "access_token",
    "expires_in",
    "refresh_token",
    "scope",
    "token_type",
    "user_id",
  ]);
  assert.equal(a.json.scope, SCOPES.contacts);
  assert.equal(a.json.user_id, f.get("user_id"));
  assert.equal(typeof a.json.expires_in, "number");
  assert.notEqual(a.json.refresh_token, rt0);
  const b = await tokenRequest(env, refresh(a.json.refresh_token, SCOPES.activesync));
  assert.equal(b.status, 200);
  assert.notEqual(b.json.refresh_token, a.json.refresh_token);
  const old = await tokenRequest(env, refresh(rt0, SCOPES.ath));
  assert.equal(old.status, 200);
  for (const scope of [SCOPES.uic, SCOPES.ath, SCOPES.contacts, SCOPES.activesync]) {
    const r = await tokenRequest(env, refresh(rt0, scope));
    assert.equal(env.world.checkAccess(r.json.access_token, scope).ok, true, scope);
  }
});

test("token errors: invalid_grant, unsupported_grant_type, invalid_client, invalid_scope", async (t) => {
  const env = await startEnv(t);
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  const rt = f.get("refresh_token") ?? "";
  const cases: [Record<string, string>, string][] = [
    [refresh("M.not-a-token", SCOPES.contacts), "invalid_grant"],
    [{ ...refresh(rt, SCOPES.contacts), grant_type: "password" }, "unsupported_grant_type"],
    [{ ...refresh(rt, SCOPES.contacts), client_id: "000000004C12AE6F" }, "invalid_client"],
    [refresh(rt, "service::example.com::MBI_SSL"), "invalid_scope"],
  ];
  for (const [fields, error] of cases) {
    const r = await tokenRequest(env, fields);
    assert.equal(r.status, 400, error);
    assert.equal(r.json.error, error);
    assert.equal(typeof r.json.error_description, "string");
  }
  // Revoked through the control API: invalid_grant.
  const revoke = await env.control("POST", "/http/tokens/revoke", { user: "8:live:alice_1" });
  assert.equal(revoke.status, 200);
  const r = await tokenRequest(env, refresh(rt, SCOPES.contacts));
  assert.equal(r.json.error, "invalid_grant");
});

test("expiry follows world.tokenLifetime and world.now", async (t) => {
  const env = await startEnv(t);
  env.world.tokenLifetime = 60;
  let now = Date.now();
  env.world.now = () => now;
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  assert.equal(f.get("expires_in"), "60");
  const at = f.get("access_token") ?? "";
  assert.equal((await get(env, "/rps/me", { access_token: at })).status, 200);
  now += 61_000;
  assert.equal((await get(env, "/rps/me", { access_token: at })).status, 401);
  // Refresh tokens live longer.
  const r = await tokenRequest(env, refresh(f.get("refresh_token") ?? "", SCOPES.skype));
  assert.equal(r.status, 200);
  now += env.world.refreshLifetime * 1000;
  assert.equal(
    (await tokenRequest(env, refresh(f.get("refresh_token") ?? "", SCOPES.skype))).json.error,
    "invalid_grant",
  );
});

test("failure injection: the next N token requests get 500, then it works again", async (t) => {
  const env = await startEnv(t);
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  const knobs = await env.control("POST", "/http/knobs", { failNext: { token: 2 } });
  assert.equal(knobs.status, 200);
  assert.deepEqual(dig(knobs.json, "failNext"), { token: 2 });
  const rt = f.get("refresh_token") ?? "";
  assert.equal((await tokenRequest(env, refresh(rt, SCOPES.contacts))).status, 500);
  assert.equal((await tokenRequest(env, refresh(rt, SCOPES.contacts))).status, 500);
  assert.equal((await tokenRequest(env, refresh(rt, SCOPES.contacts))).status, 200);
  assert.equal((await env.control("POST", "/http/knobs", { nope: 1 })).status, 400);
  assert.equal((await env.control("POST", "/http/knobs", { failNext: { nowhere: 1 } })).status, 400);
});

test("/rps/me: JSON, JSONP with an identifier, 400 for any other callback", async (t) => {
  const env = await startEnv(t);
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  const at = f.get("access_token") ?? "";
  const alice = env.person("alice@hotmail.co.uk");
  const json = await get(env, "/rps/me", { access_token: at, _: String(Date.now()) });
  assert.equal(json.status, 200);
  const me = JSON.parse(json.text);
  for (const k of [
    "gender",
    "siteId",
    "firstName",
    "lastName",
    "cid",
    "siteName",
    "country",
    "email",
    "birthdate",
  ]) {
    assert.ok(k in me, k);
  }
  assert.equal(me.cid, f.get("user_id"));
  assert.equal(me.email, alice.email);
  assert.equal(me.firstName, "Alice");
  const jsonp = await get(env, "/rps/me", { access_token: at, jsoncallback: "skypeCb_1", _: "1" });
  assert.equal(jsonp.status, 200);
  const m = /^skypeCb_1\((.*)\)$/s.exec(jsonp.text);
  assert.ok(m, jsonp.text);
  assert.deepEqual(JSON.parse(m[1] ?? ""), me);
  for (const cb of ["alert(1)//", "a.b", "x y", "1abc", ""]) {
    assert.equal((await get(env, "/rps/me", { access_token: at, jsoncallback: cb })).status, 400, cb);
  }
  // Another scope's token is not accepted.
  const contacts = env.world.issueTokens(alice, SCOPES.contacts).access_token;
  assert.equal((await get(env, "/rps/me", { access_token: contacts })).status, 401);
});

test("usermap: ACTIVE with both identities; NOT_LINKED without a Skype name", async (t) => {
  const env = await startEnv(t);
  const f = await signIn(env, "alice@hotmail.co.uk", "wonderland");
  const r = await get(env, "/partners/999/usermap", {
    access_token: f.get("access_token") ?? "",
    _accept: "1.0",
    _: "1",
  });
  assert.equal(r.status, 200);
  const m = JSON.parse(r.text);
  assert.equal(typeof m.uid, "string");
  assert.equal(m.username, "live:alice_1");
  assert.equal(m.status, "ACTIVE");
  assert.equal(m.partnerUsername, "alice@hotmail.co.uk");
  const n = await signIn(env, "nolink@outlook.com", "nolinkpass");
  const r2 = await get(env, "/partners/999/usermap", {
    access_token: n.get("access_token") ?? "",
    _accept: "1.0",
  });
  assert.equal(JSON.parse(r2.text).status, "NOT_LINKED");
});

test("UIC: bound to the nonce, needs the login.skype.com token", async (t) => {
  const env = await startEnv(t);
  const alice = env.person("alice@hotmail.co.uk");
  const post = async (
    fields: Record<string, string>,
  ): Promise<{ status: number; json: { uic?: string; skypename?: string } }> => {
    const r = await request(`${env.url}/login/uic`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: r.statusCode, json: (await r.body.json()) as { uic?: string; skypename?: string } };
  };
  const token = env.world.issueTokens(alice, SCOPES.uic).access_token;
  const r = await post({ access_token: token, nonce: "3d1f0e2a-nonce" });
  assert.equal(r.status, 200);
  assert.equal(r.json.skypename, "live:alice_1");
  const uic = r.json.uic ?? "";
  assert.match(uic, /^[A-Za-z0-9+/]+=*$/);
  assert.equal(env.world.checkUic(uic, "3d1f0e2a-nonce")?.key, alice.key);
  assert.equal(env.world.checkUic(uic, "another-nonce"), undefined);
  assert.equal((await post({ access_token: token })).status, 400);
  const wrong = env.world.issueTokens(alice, SCOPES.ath).access_token;
  assert.equal((await post({ access_token: wrong, nonce: "n" })).status, 401);
});

test("delays hold replies back; wrong methods get 405; unknown paths 404", async (t) => {
  const env = await startEnv(t, { delays: { usermap: 150 } });
  const started = Date.now();
  const r = await get(env, "/partners/999/usermap", { access_token: "x" });
  assert.equal(r.status, 401);
  assert.ok(Date.now() - started >= 140);
  const m = await request(`${env.url}/oauth20_token.srf`);
  assert.equal(m.statusCode, 405);
  await m.body.text();
  const n = await request(`${env.url}/nowhere`);
  assert.equal(n.statusCode, 404);
  await n.body.text();
});
