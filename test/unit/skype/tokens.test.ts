import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { MockAgent } from "undici";
import { TokenManager, TokenScope } from "../../../src/skype/tokens.js";
import { AuthError, SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

const LOGIN = "http://login.test";
const RT0 = "M.R0+/=";

function setup(t: TestContext, extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  t.after(() => agent.close());
  const pool = agent.get(LOGIN);
  const bodies: URLSearchParams[] = [];
  const saved: string[] = [];
  let clock = 1_000_000;
  let n = 0;
  const reply = (status = 200, json?: Record<string, unknown>, times = 1) =>
    pool
      .intercept({ path: "/oauth20_token.srf", method: "POST" })
      .reply(status, (opts) => {
        bodies.push(new URLSearchParams(opts.body as string));
        n++;
        return (
          json ?? {
            access_token: `AT${n}+/=`,
            token_type: "bearer",
            expires_in: 3600,
            scope: "s",
            refresh_token: `RT${n}+/=`,
            user_id: "0123456789abcdef",
          }
        );
      })
      .times(times);
  const tm = new TokenManager({
    endpoints: { login: LOGIN, skype_login: "http://skype.test" },
    refreshToken: RT0,
    dispatcher: agent,
    now: () => clock,
    onRefreshToken: (rt) => void saved.push(rt),
    ...extra,
  });
  return { agent, tm, bodies, saved, reply, advance: (ms: number) => (clock += ms) };
}

test("the refresh request is PROFILE §2.4's form, tokens URL-encoded", async (t) => {
  const { tm, bodies, reply } = setup(t);
  reply();
  assert.equal(await tm.getToken(TokenScope.Contacts), "AT1+/=");
  const b = bodies[0]!;
  assert.deepEqual([...b.keys()], ["grant_type", "client_id", "scope", "refresh_token"]);
  assert.equal(b.get("grant_type"), "refresh_token");
  assert.equal(b.get("client_id"), "00000000480BC46C");
  assert.equal(b.get("scope"), "service::contacts.msn.com::MBI_SSL");
  assert.equal(b.get("refresh_token"), RT0);
});

test("tokens are cached per scope and renewed before expiry with a margin", async (t) => {
  const { tm, reply, advance } = setup(t);
  reply(200, undefined, 3);
  const a = await tm.getToken(TokenScope.Ath);
  assert.equal(await tm.getToken(TokenScope.Ath), a);
  const b = await tm.getToken(TokenScope.ActiveSync);
  assert.notEqual(a, b);
  advance(3600_000 - 300_001); // just before the 5-minute margin
  assert.equal(await tm.getToken(TokenScope.Ath), a);
  advance(2); // inside the margin, still before expiry: renewed now
  assert.notEqual(await tm.getToken(TokenScope.Ath), a);
});

test("concurrent callers share one request", async (t) => {
  const { tm, reply, bodies } = setup(t);
  reply();
  const all = await Promise.all([1, 2, 3].map(() => tm.getToken(TokenScope.Uic)));
  assert.deepEqual(all, ["AT1+/=", "AT1+/=", "AT1+/="]);
  assert.equal(bodies.length, 1);
});

test("each new refresh token replaces the old one and is handed to onRefreshToken", async (t) => {
  const { tm, reply, bodies, saved } = setup(t);
  reply(200, undefined, 2);
  await tm.getToken(TokenScope.Ath);
  await tm.getToken(TokenScope.Contacts);
  assert.deepEqual(saved, ["RT1+/=", "RT2+/="]);
  assert.equal(bodies[1]!.get("refresh_token"), "RT1+/=");
  assert.equal(tm.refreshToken, "RT2+/=");
});

test("invalid_grant → BadCredentials, not retryable, and no further requests", async (t) => {
  const { tm, reply, bodies } = setup(t);
  reply(400, { error: "invalid_grant", error_description: "The token was revoked." });
  const check = (e: unknown) =>
    e instanceof AuthError && e.code === SkypeErrorCode.BadCredentials && !e.retryable;
  await assert.rejects(tm.getToken(TokenScope.Ath), check);
  await assert.rejects(tm.getToken(TokenScope.Contacts), check);
  assert.equal(bodies.length, 1);
});

test("other OAuth errors are typed; 5xx is a retryable network error", async (t) => {
  const { tm, reply } = setup(t);
  reply(400, { error: "invalid_scope" });
  await assert.rejects(
    tm.getToken("service::nope::MBI_SSL"),
    (e: unknown) =>
      e instanceof AuthError && e.code === SkypeErrorCode.OAuth && e.message.includes("invalid_scope"),
  );
  reply(503, { oops: 1 });
  await assert.rejects(
    tm.getToken(TokenScope.Ath),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.Network && e.retryable,
  );
  reply();
  assert.equal(await tm.getToken(TokenScope.Ath), "AT3+/=", "recovers after a retryable error");
});

test("a caller's abort stops its wait without breaking the shared request", async (t) => {
  const { tm, agent } = setup(t);
  agent
    .get(LOGIN)
    .intercept({ path: "/oauth20_token.srf", method: "POST" })
    .reply(200, { access_token: "X", expires_in: 60, refresh_token: "Y" })
    .delay(50);
  const ac = new AbortController();
  const first = tm.getToken(TokenScope.Ath, { signal: ac.signal });
  const second = tm.getToken(TokenScope.Ath);
  ac.abort();
  await assert.rejects(first, (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.Aborted);
  assert.equal(await second, "X");
});

test("getUic posts the login.skype.com token and the nonce", async (t) => {
  const { tm, reply, agent } = setup(t);
  reply();
  let form: URLSearchParams | undefined;
  agent
    .get("http://skype.test")
    .intercept({ path: "/login/uic", method: "POST" })
    .reply(200, (opts) => {
      form = new URLSearchParams(opts.body as string);
      return { uic: "UIC+/=", skypename: "live:alice_1" };
    });
  assert.deepEqual(await tm.getUic("{nonce-1}"), { uic: "UIC+/=", skypename: "live:alice_1" });
  assert.equal(form?.get("access_token"), "AT1+/=");
  assert.equal(form?.get("nonce"), "{nonce-1}");
});

test("errors never contain the refresh token", async (t) => {
  const { tm, reply } = setup(t);
  reply(400, { error: "invalid_grant", error_description: `bad ${RT0}` });
  await assert.rejects(tm.getToken(TokenScope.Ath), (e: unknown) => !(e as Error).message.includes(RT0));
});
