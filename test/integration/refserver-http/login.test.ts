// SPDX-License-Identifier: Apache-2.0
// The sign-in server (PROFILE §2.1, §5 "Sign-in") over raw HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { SCOPES } from "../../../refserver/world.js";
import { authorize, authorizeQuery, formOf, postLogin, signIn, startEnv } from "./harness.js";

test("password flow: 302 to the desktop page with every fragment field", async (t) => {
  const env = await startEnv(t);
  const page = await authorize(env);
  assert.match(page.cookie, /^MSPOK=.+/);
  // The form action is HTML-escaped and carries the same query as the authorize request.
  assert.ok(page.rawAction.includes("&amp;"), page.rawAction);
  assert.equal(page.action, `${env.url}/ppsecure/post.srf?${authorizeQuery(env).toString()}`);
  const r = await postLogin(
    page.action,
    { login: "alice@hotmail.co.uk", passwd: "wonderland", PPFT: page.ppft },
    page.cookie,
  );
  assert.equal(r.status, 302);
  const loc = r.location ?? "";
  assert.ok(loc.startsWith(`${env.url}/oauth20_desktop.srf#`), loc);
  const f = new URLSearchParams(loc.slice(loc.indexOf("#") + 1));
  const alice = env.person("alice@hotmail.co.uk");
  assert.equal(f.get("token_type"), "bearer");
  assert.equal(f.get("scope"), SCOPES.skype);
  assert.equal(f.get("state"), "999");
  assert.equal(f.get("user_id"), alice.cid);
  assert.match(f.get("user_id") ?? "", /^[0-9a-f]{16}$/);
  assert.equal(f.get("expires_in"), String(env.world.tokenLifetime));
  const at = f.get("access_token") ?? "";
  assert.ok(at && f.get("refresh_token"));
  // Tokens carry + / = and survive the fragment's encoding.
  assert.match(at, /[+/=]/);
  assert.equal(env.world.checkAccess(at, SCOPES.skype).ok, true);
  const landing = await request(loc.slice(0, loc.indexOf("#")));
  assert.equal(landing.statusCode, 200);
  await landing.body.text();
});

test("the state is echoed as sent, and omitted when none was sent", async (t) => {
  const env = await startEnv(t);
  const q = authorizeQuery(env, { state: "abc 123" });
  const page = await authorize(env, q);
  const r = await postLogin(
    page.action,
    { login: "bob@outlook.com", passwd: "canwefixit", PPFT: page.ppft },
    page.cookie,
  );
  const loc = r.location ?? "";
  assert.equal(new URLSearchParams(loc.slice(loc.indexOf("#") + 1)).get("state"), "abc 123");
  const q2 = authorizeQuery(env);
  q2.delete("state");
  const page2 = await authorize(env, q2);
  const r2 = await postLogin(
    page2.action,
    { login: "bob@outlook.com", passwd: "canwefixit", PPFT: page2.ppft },
    page2.cookie,
  );
  const loc2 = r2.location ?? "";
  assert.equal(new URLSearchParams(loc2.slice(loc2.indexOf("#") + 1)).has("state"), false);
});

test("a reused PPFT is refused with 400, not sErrTxt", async (t) => {
  const env = await startEnv(t);
  const page = await authorize(env);
  const fields = { login: "alice@hotmail.co.uk", passwd: "wonderland", PPFT: page.ppft };
  assert.equal((await postLogin(page.action, fields, page.cookie)).status, 302);
  const again = await postLogin(page.action, fields, page.cookie);
  assert.equal(again.status, 400);
  assert.doesNotMatch(again.html, /sErrTxt:'[^']/);
  const bogus = await postLogin(page.action, { ...fields, PPFT: "made-up" }, page.cookie);
  assert.equal(bogus.status, 400);
});

test("a missing MSPOK cookie or a different query is a 400", async (t) => {
  const env = await startEnv(t);
  const page = await authorize(env);
  const fields = { login: "alice@hotmail.co.uk", passwd: "wonderland", PPFT: page.ppft };
  assert.equal((await postLogin(page.action, fields)).status, 400);
  const p2 = await authorize(env);
  const otherQuery = `${env.url}/ppsecure/post.srf?${authorizeQuery(env, { state: "1000" }).toString()}`;
  assert.equal((await postLogin(otherQuery, { ...fields, PPFT: p2.ppft }, p2.cookie)).status, 400);
  // The same query re-ordered and re-encoded is still the same query.
  const p3 = await authorize(env);
  const reordered = [...authorizeQuery(env)]
    .reverse()
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&");
  const ok = await postLogin(
    `${env.url}/ppsecure/post.srf?${reordered}`,
    { ...fields, PPFT: p3.ppft },
    p3.cookie,
  );
  assert.equal(ok.status, 302);
});

test("wrong password: 200 with sErrTxt and a fresh single-use PPFT that works", async (t) => {
  const env = await startEnv(t);
  const page = await authorize(env);
  const r = await postLogin(
    page.action,
    { login: "alice@hotmail.co.uk", passwd: "nope", PPFT: page.ppft },
    page.cookie,
  );
  assert.equal(r.status, 200);
  assert.match(r.html, /sErrTxt:'[^']+'/);
  const again = formOf(r.status, r.html, page.cookie);
  assert.notEqual(again.ppft, page.ppft);
  assert.equal(again.action, page.action);
  const unknown = await postLogin(
    again.action,
    { login: "nobody@example.com", passwd: "x", PPFT: again.ppft },
    page.cookie,
  );
  assert.equal(unknown.status, 200);
  assert.match(unknown.html, /sErrTxt:'[^']+'/);
  const third = formOf(unknown.status, unknown.html, page.cookie);
  const ok = await postLogin(
    third.action,
    { login: "alice@hotmail.co.uk", passwd: "wonderland", PPFT: third.ppft },
    page.cookie,
  );
  assert.equal(ok.status, 302);
});

test("the [A] errorDiv variant shows the error in a div instead", async (t) => {
  const env = await startEnv(t, { wrongPasswordPage: "errorDiv" });
  const page = await authorize(env);
  const r = await postLogin(
    page.action,
    { login: "alice@hotmail.co.uk", passwd: "nope", PPFT: page.ppft },
    page.cookie,
  );
  assert.equal(r.status, 200);
  assert.match(r.html, /id="usernameError"/);
  assert.doesNotMatch(r.html, /sErrTxt/);
});

test("a second-factor account gets the idDiv_SAOTCC_Title page", async (t) => {
  const env = await startEnv(t);
  const page = await authorize(env);
  const r = await postLogin(
    page.action,
    { login: "zed@outlook.com", passwd: "zedpass", PPFT: page.ppft },
    page.cookie,
  );
  assert.equal(r.status, 200);
  assert.match(r.html, /id="idDiv_SAOTCC_Title"/);
  assert.equal(r.location, undefined);
});

test("authorize refuses a redirect_uri that is not exactly {login}/oauth20_desktop.srf", async (t) => {
  const env = await startEnv(t);
  for (const redirect_uri of [
    `${env.url}/oauth20_desktop.srf/`,
    "https://evil.example/oauth20_desktop.srf",
  ]) {
    const r = await request(
      `${env.url}/oauth20_authorize.srf?${authorizeQuery(env, { redirect_uri }).toString()}`,
    );
    assert.equal(r.statusCode, 400);
    await r.body.text();
  }
  const badClient = await request(
    `${env.url}/oauth20_authorize.srf?${authorizeQuery(env, { client_id: "1" }).toString()}`,
  );
  assert.equal(badClient.statusCode, 400);
  await badClient.body.text();
});

test("publicUrl sets the base the redirect_uri and form action use", async (t) => {
  const env = await startEnv(t, { publicUrl: "https://login.live.com" });
  const q = authorizeQuery(env, { redirect_uri: "https://login.live.com/oauth20_desktop.srf" });
  const page = await authorize(env, q);
  assert.ok(page.action.startsWith("https://login.live.com/ppsecure/post.srf?"));
});

test("a Skype-name-only account cannot use the password flow; NOT_LINKED accounts can", async (t) => {
  const env = await startEnv(t);
  const page = await authorize(env);
  const r = await postLogin(page.action, { login: "dave.lister", passwd: "", PPFT: page.ppft }, page.cookie);
  assert.equal(r.status, 200);
  assert.match(r.html, /sErrTxt:'[^']+'/);
  const f = await signIn(env, "nolink@outlook.com", "nolinkpass");
  assert.equal(f.get("user_id"), env.person("nolink@outlook.com").cid);
});
