import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoSecrets, startRef } from "./helpers.js";
import { loginWithPassword } from "../../../src/skype/auth/login-process.js";
import { TokenManager, TokenScope } from "../../../src/skype/tokens.js";
import { AuthError, SkypeErrorCode } from "../../../src/skype/errors.js";
import { AddressBookClient } from "../../../src/skype/soap/address-book.js";

test("tokens rotate and are renewed before they expire", async (t) => {
  const env = await startRef(t);
  let clock = Date.now();
  env.world.now = () => clock;
  env.world.tokenLifetime = 100;
  const http = { dispatcher: env.dispatcher, logger: env.logger };
  const login = await loginWithPassword(env.endpoints, "alice@hotmail.co.uk", "wonderland", http);
  const saved: string[] = [];
  const tm = new TokenManager({
    ...http,
    endpoints: env.endpoints,
    refreshToken: login.refreshToken,
    now: () => clock,
    onRefreshToken: (rt) => void saved.push(rt),
  });
  const t1 = await tm.getToken(TokenScope.Contacts);
  assert.equal(saved.length, 1, "the first refresh already brought a new refresh token");
  assert.notEqual(saved[0], login.refreshToken);
  const book = new AddressBookClient(env.endpoints, tm, http);
  assert.equal((await book.findPendingRequests()).length, 1);

  clock += 70_000; // inside the lifetime, outside the margin (a quarter of 100 s)
  assert.equal(await tm.getToken(TokenScope.Contacts), t1);
  clock += 10_000; // 80 s: inside the margin, 20 s before expiry
  const t2 = await tm.getToken(TokenScope.Contacts);
  assert.notEqual(t2, t1);
  assert.equal(
    env.world.checkAccess(t1, TokenScope.Contacts).ok,
    true,
    "renewed while the old token still worked",
  );
  assert.equal(saved.length, 2);
  assert.equal(tm.refreshToken, saved[1]);

  // The old refresh token keeps working until it expires (PROFILE §2.4).
  const old = new TokenManager({
    ...http,
    endpoints: env.endpoints,
    refreshToken: login.refreshToken,
    now: () => clock,
  });
  assert.ok(await old.getToken(TokenScope.Ath));
  assertNoSecrets(env.logLines, [login.refreshToken, ...saved, t1, t2]);
});

test("a revoked refresh token is invalid_grant: BadCredentials, not retryable", async (t) => {
  const env = await startRef(t);
  const http = { dispatcher: env.dispatcher };
  const login = await loginWithPassword(env.endpoints, "bob@outlook.com", "canwefixit", http);
  const tm = new TokenManager({ ...http, endpoints: env.endpoints, refreshToken: login.refreshToken });
  await tm.getToken(TokenScope.Ath);
  env.world.revokeAll(env.world.find("bob@outlook.com")!);
  await assert.rejects(
    tm.getToken(TokenScope.Ath, { forceRefresh: true }),
    (e: unknown) => e instanceof AuthError && e.code === SkypeErrorCode.BadCredentials && !e.retryable,
  );
});

test("an unknown scope is a typed OAuth error", async (t) => {
  const env = await startRef(t);
  const http = { dispatcher: env.dispatcher };
  const login = await loginWithPassword(env.endpoints, "bob@outlook.com", "canwefixit", http);
  const tm = new TokenManager({ ...http, endpoints: env.endpoints, refreshToken: login.refreshToken });
  await assert.rejects(
    tm.getToken("service::nowhere.example::MBI_SSL"),
    (e: unknown) =>
      e instanceof AuthError && e.code === SkypeErrorCode.OAuth && e.message.includes("invalid_scope"),
  );
});

test("the UIC is issued for the CNT nonce with the login.skype.com token", async (t) => {
  const env = await startRef(t);
  const http = { dispatcher: env.dispatcher, logger: env.logger };
  const login = await loginWithPassword(env.endpoints, "alice@hotmail.co.uk", "wonderland", http);
  const tm = new TokenManager({ ...http, endpoints: env.endpoints, refreshToken: login.refreshToken });
  const { uic, skypename } = await tm.getUic("{5c4e1a0b-nonce}");
  assert.equal(skypename, "live:alice_1");
  assert.equal(env.world.checkUic(uic, "{5c4e1a0b-nonce}")?.key, "alice@hotmail.co.uk");
  assert.equal(env.world.checkUic(uic, "{other}"), undefined);
  assertNoSecrets(env.logLines, [uic]);
});
