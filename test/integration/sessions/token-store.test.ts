// Rotated refresh tokens and a store that refuses to write them, against the reference server
// in-process and a real SQLite store. Each refresh rotates the token, so one lost write means a new
// sign-in after the next restart: writes are retried, and what cannot be stored is reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { LoginResult } from "../../../src/skype/auth/login-process.js";
import { nextEvent, startSessionEnv, stateOf, until, type SessionEnv } from "./helpers.js";

const ALICE = "@alice:example.org";
const ALICE_EMAIL = "alice@hotmail.co.uk";
const FAST_RETRY = { attempts: 3, backoff: { initialMs: 5, maxMs: 20 } };

/**
 * Makes the store refuse writes of rotated tokens while `refuse(token, failedSoFar)` says so;
 * returns the failed attempts per token. The token of the sign-in itself is always written.
 */
function flakyTokenWrites(
  env: SessionEnv,
  signIn: () => LoginResult | undefined,
  refuse: (token: string, failed: number) => boolean,
): Map<string, number> {
  const failed = new Map<string, number>();
  const users = env.store.users;
  const write = users.setRefreshToken.bind(users);
  users.setRefreshToken = (mxid, token) => {
    if (token !== null && token !== signIn()?.refreshToken && refuse(token, failed.get(token) ?? 0)) {
      failed.set(token, (failed.get(token) ?? 0) + 1);
      throw new Error("database is locked");
    }
    write(mxid, token);
  };
  return failed;
}

function newestToken(env: SessionEnv): string | undefined {
  return env.issued.filter((i) => i.person === ALICE_EMAIL).at(-1)?.refreshToken;
}

test("a rotated refresh token whose write fails is written again until it is stored", async (t) => {
  const env = await startSessionEnv(t);
  const signIn: { login?: LoginResult } = {};
  // Every rotated token fails twice before the store takes it.
  const failed = flakyTokenWrites(
    env,
    () => signIn.login,
    (_token, n) => n < 2,
  );
  const manager = env.manager({ tokenStore: FAST_RETRY });
  const reports: unknown[] = [];
  manager.onSession((s) => s.on("refreshTokenStore", (r) => reports.push(r)));
  const login = (signIn.login = await env.login(ALICE_EMAIL, "wonderland"));
  const alice = await manager.link(ALICE, login);
  await stateOf(alice, "connected");
  await until(() => env.store.users.getRefreshToken(ALICE) === newestToken(env), "the newest token stored");
  assert.ok(failed.size >= 1, "rotated tokens were refused at first");
  assert.equal(failed.get(newestToken(env)!), 2);
  assert.deepEqual(reports, [], "nothing to tell the user");
});

test("a token that cannot be stored after the retries is reported once; a later stored one is reported too", async (t) => {
  const env = await startSessionEnv(t);
  const signIn: { login?: LoginResult } = {};
  let broken = true;
  const failed = flakyTokenWrites(
    env,
    () => signIn.login,
    () => broken,
  );
  const manager = env.manager({ tokenStore: FAST_RETRY });
  const reports: { saved: boolean }[] = [];
  manager.onSession((s) => s.on("refreshTokenStore", (r) => reports.push(r)));
  const login = (signIn.login = await env.login(ALICE_EMAIL, "wonderland"));
  const alice = await manager.link(ALICE, login);
  await until(() => reports.length > 0, "the failure reported");
  await stateOf(alice, "connected");
  assert.deepEqual(reports, [{ saved: false }]);
  assert.equal(env.store.users.getRefreshToken(ALICE), login.refreshToken, "nothing newer was stored");
  assert.ok(Math.max(...failed.values()) <= FAST_RETRY.attempts, "bounded");
  assert.ok([...failed.values()].includes(FAST_RETRY.attempts), "retried");

  // The store recovers; the next rotation (fresh tokens for a reconnect) is stored and reported.
  broken = false;
  env.ref.world.expireAccess(env.ref.world.mustFind(ALICE_EMAIL));
  const back = nextEvent(alice, "state", (s) => s.kind === "connected");
  env.ref.msnp.dropUser({ user: ALICE_EMAIL });
  await back;
  await until(() => reports.length === 2, "the recovery reported");
  assert.deepEqual(reports[1], { saved: true });
  await until(() => env.store.users.getRefreshToken(ALICE) === newestToken(env), "the newest token stored");
});
