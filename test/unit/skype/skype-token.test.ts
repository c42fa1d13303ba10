import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { MockAgent } from "undici";
import { TokenManager, TokenScope } from "../../../src/skype/tokens.js";
import { type SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

const LOGIN = "http://login.test";
const API = "http://api.test";

function setup(t: TestContext, withApi = true) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  t.after(() => agent.close());
  const login = agent.get(LOGIN);
  const api = agent.get(API);
  const scopes: string[] = [];
  const forms: URLSearchParams[] = [];
  let clock = 1_000_000;
  let n = 0;
  login
    .intercept({ path: "/oauth20_token.srf", method: "POST" })
    .reply(200, (opts) => {
      scopes.push(new URLSearchParams(opts.body as string).get("scope") ?? "");
      n++;
      return { access_token: `AT${n}+/=`, expires_in: 3600, refresh_token: `RT${n}` };
    })
    .persist();
  const tm = new TokenManager({
    endpoints: withApi
      ? { login: LOGIN, skype_login: "http://skype.test", api: API }
      : { login: LOGIN, skype_login: "x" },
    refreshToken: "RT0",
    dispatcher: agent,
    now: () => clock,
  });
  const skypetoken = (status: number, json: unknown, times = 1) =>
    api
      .intercept({ path: "/rps/skypetoken", method: "POST" })
      .reply(status, (opts) => {
        forms.push(new URLSearchParams(opts.body as string));
        return JSON.stringify(json);
      })
      .times(times);
  return { tm, scopes, forms, skypetoken, advance: (ms: number) => (clock += ms) };
}

test("the Skype token is bought with the skype.com MBI_SSL token in PROFILE §7.1's form", async (t) => {
  const { tm, scopes, forms, skypetoken } = setup(t);
  skypetoken(200, { skypetoken: "ST-1", expiresIn: 86400 });
  assert.equal(await tm.skypeToken(), "ST-1");
  assert.deepEqual(scopes, [TokenScope.Skype]);
  assert.equal(TokenScope.Skype, "service::skype.com::MBI_SSL");
  const f = forms[0]!;
  assert.deepEqual([...f.keys()], ["scopes", "clientVersion", "partner", "access_token"]);
  assert.equal(f.get("scopes"), "client");
  assert.equal(f.get("clientVersion"), "0/6.16.0.105/259/");
  assert.equal(f.get("partner"), "999");
  assert.equal(f.get("access_token"), "AT1+/=");
});

test("the Skype token is cached, shared by concurrent callers and renewed before expiresIn", async (t) => {
  const { tm, forms, skypetoken, advance } = setup(t);
  skypetoken(200, { skypetoken: "ST-1", expiresIn: 3600 });
  skypetoken(200, { skypetoken: "ST-2", expiresIn: 3600 });
  const all = await Promise.all([tm.skypeToken(), tm.skypeToken(), tm.skypeToken()]);
  assert.deepEqual(all, ["ST-1", "ST-1", "ST-1"]);
  assert.equal(forms.length, 1);
  advance(3600_000 - 300_001);
  assert.equal(await tm.skypeToken(), "ST-1");
  advance(2); // inside the 5-minute margin, before expiry
  assert.equal(await tm.skypeToken(), "ST-2");
  assert.equal(forms.length, 2);
});

test("a 401 renews the access token once and asks again; invalidate forgets the token", async (t) => {
  const { tm, forms, skypetoken } = setup(t);
  skypetoken(401, {});
  skypetoken(200, { skypetoken: "ST-1", expiresIn: 3600 });
  assert.equal(await tm.skypeToken(), "ST-1");
  assert.deepEqual(
    forms.map((f) => f.get("access_token")),
    ["AT1+/=", "AT2+/="],
  );
  skypetoken(200, { skypetoken: "ST-2", expiresIn: 3600 });
  tm.invalidateSkypeToken();
  assert.equal(await tm.skypeToken(), "ST-2");
});

test("refusals and bad answers are typed errors that never carry the token", async (t) => {
  const { tm, skypetoken } = setup(t);
  skypetoken(401, {}, 2);
  await assert.rejects(tm.skypeToken(), (e: SkypeError) => e.code === SkypeErrorCode.HttpStatus);
  skypetoken(503, {});
  await assert.rejects(tm.skypeToken(), (e: SkypeError) => e.code === SkypeErrorCode.Network && e.retryable);
  skypetoken(200, { expiresIn: 60 });
  await assert.rejects(tm.skypeToken(), (e: SkypeError) => e.code === SkypeErrorCode.Parse);
  skypetoken(200, { skypetoken: "SECRET", expiresIn: "soon" });
  await assert.rejects(
    tm.skypeToken(),
    (e: SkypeError) => e.code === SkypeErrorCode.Parse && !e.message.includes("SECRET"),
  );
});

test("without an api endpoint the Skype token is an InvalidArgument error", async (t) => {
  const { tm } = setup(t, false);
  await assert.rejects(tm.skypeToken(), (e: SkypeError) => e.code === SkypeErrorCode.InvalidArgument);
});
