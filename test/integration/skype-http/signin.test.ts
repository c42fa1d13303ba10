import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { assertNoSecrets, browserSignIn, startRef } from "./helpers.js";
import { LoginProcess, loginWithPassword, loginWithRedirect } from "../../../src/skype/auth/login-process.js";
import { passwordSignIn } from "../../../src/skype/auth/password.js";
import { fetchProfile, fetchUserMap } from "../../../src/skype/api/account.js";
import { AuthError, SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

const isAuth = (code: string) => (e: unknown) => e instanceof AuthError && e.code === code && !e.retryable;

test("password sign-in through the step machine yields profile and both identities", async (t) => {
  const env = await startRef(t);
  const lp = new LoginProcess(env.endpoints, { dispatcher: env.dispatcher, logger: env.logger });
  const first = lp.start("password");
  assert.equal(first.type, "user_input");
  assert.deepEqual(first.type === "user_input" && first.fields.map((f) => f.id), ["login", "password"]);
  const done = await lp.submitUserInput({ login: "alice@hotmail.co.uk", password: "wonderland" });
  assert.equal(done.type, "complete");
  if (done.type !== "complete") return;
  const r = done.result;
  const alice = env.world.find("alice@hotmail.co.uk")!;
  assert.equal(r.cid, alice.cid);
  assert.equal(r.skypename, "live:alice_1");
  assert.equal(r.email, "alice@hotmail.co.uk");
  assert.deepEqual(r.identities, { msa: "1:alice@hotmail.co.uk", skype: "8:live:alice_1" });
  assert.equal(r.profile.displayName, "Alice Liddell");
  assert.equal(r.profile.firstName, "Alice");
  assert.ok(r.refreshToken.length > 10);
  assertNoSecrets(env.logLines, [r.refreshToken, "wonderland"]);
});

test("wrong password shows the server's message and leaves the step open for a retry", async (t) => {
  const env = await startRef(t);
  const lp = new LoginProcess(env.endpoints, { dispatcher: env.dispatcher, logger: env.logger });
  lp.start("password");
  let message = "";
  await assert.rejects(
    lp.submitUserInput({ login: "alice@hotmail.co.uk", password: "wrong-pw" }),
    (e: unknown) => {
      message = (e as Error).message;
      return isAuth(SkypeErrorCode.WrongPassword)(e);
    },
  );
  assert.match(message, /the sign-in failed: \S+/);
  assert.ok(!message.includes("wrong-pw"));
  assert.equal(lp.current?.type, "user_input");
  const ok = await lp.submitUserInput({ login: "alice@hotmail.co.uk", password: "wonderland" });
  assert.equal(ok.type, "complete");
  assertNoSecrets(env.logLines, ["wrong-pw", "wonderland"]);
});

test("an account with a second factor is told to use the browser flow", async (t) => {
  const env = await startRef(t);
  await assert.rejects(
    passwordSignIn(env.endpoints, "zed@outlook.com", "zedpass", { dispatcher: env.dispatcher }),
    (e: unknown) => isAuth(SkypeErrorCode.SecondFactor)(e) && /browser/.test((e as Error).message),
  );
});

test("an account without a Skype name fails with its usermap status", async (t) => {
  const env = await startRef(t);
  await assert.rejects(
    loginWithPassword(env.endpoints, "nolink@outlook.com", "nolinkpass", { dispatcher: env.dispatcher }),
    (e: unknown) => isAuth(SkypeErrorCode.AccountNotActive)(e) && (e as Error).message.includes("NOT_LINKED"),
  );
});

test("pasted-URL flow: the whole URL, the fragment with # and without", async (t) => {
  const env = await startRef(t);
  const finalUrl = await browserSignIn(env, "alice@hotmail.co.uk", "wonderland", "999");
  const fragment = finalUrl.slice(finalUrl.indexOf("#"));
  for (const pasted of [finalUrl, fragment, fragment.slice(1)]) {
    const lp = new LoginProcess(env.endpoints, { dispatcher: env.dispatcher });
    const step = lp.start("browser");
    assert.ok(
      step.type === "user_input" && step.url?.includes("/oauth20_authorize.srf?client_id=00000000480BC46C"),
    );
    const done = await lp.submitUserInput({ redirect_url: pasted });
    assert.ok(done.type === "complete" && done.result.skypename === "live:alice_1");
  }
});

test("a URL from another login attempt (state mismatch) and a URL without tokens are refused", async (t) => {
  const env = await startRef(t);
  const foreign = await browserSignIn(env, "bob@outlook.com", "canwefixit", "12345");
  const lp = new LoginProcess(env.endpoints, { dispatcher: env.dispatcher });
  lp.start("browser");
  await assert.rejects(lp.submitUserInput({ redirect_url: foreign }), isAuth(SkypeErrorCode.StateMismatch));
  await assert.rejects(
    lp.submitUserInput({ redirect_url: `${env.url}/oauth20_desktop.srf` }),
    isAuth(SkypeErrorCode.BadRedirect),
  );
  // The same process still accepts the right answer.
  const good = await browserSignIn(env, "bob@outlook.com", "canwefixit", "999");
  const done = await lp.submitUserInput({ redirect_url: good });
  assert.ok(done.type === "complete" && done.result.email === "bob@outlook.com");
  // A process with its own state accepts only that state.
  const own = await loginWithRedirect(env.endpoints, foreign, { dispatcher: env.dispatcher, state: "12345" });
  assert.equal(own.skypename, "live:bob_1");
});

test("rps/me answers JSONP when asked, and a non-identifier callback is never sent", async (t) => {
  const env = await startRef(t);
  const finalUrl = await browserSignIn(env, "carol@live.com", "carolpass", "999");
  const at = new URLSearchParams(finalUrl.split("#")[1]).get("access_token")!;
  const opts = { dispatcher: env.dispatcher, logger: env.logger };
  const viaJsonp = await fetchProfile(env.endpoints, at, { ...opts, jsonCallback: "skypeCb_1" });
  const viaJson = await fetchProfile(env.endpoints, at, opts);
  assert.deepEqual(viaJsonp, viaJson);
  assert.equal(viaJson.firstName, "Carol");
  // The server really answered JSONP (checked on the wire, outside the client).
  const raw = await request(
    `${env.url}/rps/me?access_token=${encodeURIComponent(at)}&jsoncallback=skypeCb_1&_=1`,
    {
      dispatcher: env.dispatcher,
    },
  );
  assert.match(await raw.body.text(), /^\s*skypeCb_1\(/);
  await assert.rejects(
    fetchProfile(env.endpoints, at, { ...opts, jsonCallback: "alert(1)//" }),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.InvalidArgument,
  );
  const map = await fetchUserMap(env.endpoints, at, opts);
  assert.deepEqual(map.identities, { msa: "1:carol@live.com", skype: "8:live:carol_7" });
  assertNoSecrets(env.logLines, [at]);
});

test("a refused access token on rps/me is a typed error without the token", async (t) => {
  const env = await startRef(t);
  await assert.rejects(
    fetchProfile(env.endpoints, "EwA+not/a=token", { dispatcher: env.dispatcher }),
    (e: unknown) => e instanceof SkypeError && !e.retryable && !e.message.includes("EwA+not/a=token"),
  );
});

test("cancel() aborts the process", async (t) => {
  const env = await startRef(t);
  const lp = new LoginProcess(env.endpoints, { dispatcher: env.dispatcher });
  lp.start("password");
  lp.cancel();
  await assert.rejects(
    lp.submitUserInput({ login: "alice@hotmail.co.uk", password: "wonderland" }),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.Aborted,
  );
});
