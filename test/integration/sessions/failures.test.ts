// What a session does when things go wrong: revoked tokens, dropped connections, expired tickets,
// unlinking; and the start-up concurrency limit.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Fixtures } from "../../../refserver/world.js";
import type { SessionState } from "../../../src/sessions/types.js";
import { defaultConnect } from "../../../src/skype/msnp/support.js";
import {
  endpointsOf,
  kinds,
  nextEvent,
  recordStates,
  startSessionEnv,
  stateOf,
  subscribed,
  until,
} from "./helpers.js";

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";

/** `count` reference-server accounts named `<name><i>` (e-mail, Skype name, display name, password). */
function testAccounts(name: string, count: number) {
  const title = name[0]!.toUpperCase() + name.slice(1);
  return Array.from({ length: count }, (_, i) => ({
    email: `${name}${i}@example.com`,
    skypename: `live:${name}_${i}`,
    display_name: `${title} ${i}`,
    password: `pass${i}`,
  }));
}

/** Signs each account in and stores it linked to `@<prefix><i>:example.org`, as a finished login does. */
async function linkAccounts(
  env: Awaited<ReturnType<typeof startSessionEnv>>,
  accounts: readonly { email: string; skypename: string; password: string }[],
  prefix: string,
): Promise<void> {
  for (const [i, a] of accounts.entries()) {
    const login = await env.login(a.email, a.password);
    const mxid = `@${prefix}${i}:example.org`;
    env.store.users.upsert(mxid, {
      accountEmail: a.email,
      skypeName: a.skypename,
      liveMri: `1:${a.email}`,
      skypeMri: `8:${a.skypename}`,
    });
    env.store.users.setRefreshToken(mxid, login.refreshToken);
  }
}

test("revoked tokens: bad_credentials once for that user; another linked user stays connected", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  const bob = await manager.link(BOB, await env.login("bob@outlook.com", "canwefixit"));
  await stateOf(alice, "connected");
  await stateOf(bob, "connected");
  await until(
    () => subscribed(env, "alice@hotmail.co.uk") && subscribed(env, "bob@outlook.com"),
    "both online",
  );

  env.ref.world.revokeAll(env.ref.world.mustFind("alice@hotmail.co.uk"));
  const refused = stateOf(alice, "bad_credentials");
  // Both paths notice it at once: the reconnect (ATH ticket refused, tokens refresh refused) and
  // a contact refresh (ActiveSync refuses the token, the refresh is refused).
  env.ref.msnp.dropUser({ user: "alice@hotmail.co.uk" });
  await assert.rejects(alice.resyncContacts(), { code: "SKYPE_BAD_CREDENTIALS" });
  await refused;
  await until(() => endpointsOf(env, "alice@hotmail.co.uk").length === 0, "alice's connection gone");
  await assert.rejects(alice.resyncContacts(), { code: "SKYPE_BAD_CREDENTIALS" });
  assert.equal(kinds(states, ALICE).filter((k) => k === "bad_credentials").length, 1);
  assert.equal(kinds(states, ALICE).at(-1), "bad_credentials");
  const last = states.get(ALICE)!.at(-1) as Extract<SessionState, { kind: "bad_credentials" }>;
  assert.equal(last.error?.code, "SKYPE_BAD_CREDENTIALS");
  assert.equal(env.store.users.get(ALICE)!.loginState, "bad_credentials");
  assert.ok(env.store.users.get(ALICE)!.hasRefreshToken, "kept until the user signs in again");
  const refusedSend = alice.sendText("8:live:bob_1", "x");
  await assert.rejects(refusedSend.delivered, { code: "SKYPE_NOT_CONNECTED" });

  // Bob is untouched and still receives messages.
  assert.equal(bob.state.kind, "connected");
  assert.deepEqual(kinds(states, BOB), ["connected"]);
  const got = nextEvent(bob, "message", (m) => m.body === "still here?");
  env.ref.msnp.sendMessage({ from: "carol@live.com", to: "8:live:bob_1", text: "still here?" });
  await got;
});

test("a dropped connection: transient_disconnect, then connected again, one event per change", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  const contactEvents: number[] = [];
  manager.onSession((s) => s.on("contacts", (c) => contactEvents.push(c.length)));
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await until(() => contactEvents.length === 1 && subscribed(env, "alice@hotmail.co.uk"), "first sync");
  const firstConnection = endpointsOf(env, "alice@hotmail.co.uk")[0]!.connection;

  // The row keeps the settled state: a drop, and the reconnect back to it, write nothing.
  const writes: string[] = [];
  const update = env.store.users.update.bind(env.store.users);
  env.store.users.update = (mxid, patch) => {
    if (mxid === ALICE && patch.loginState !== undefined) writes.push(patch.loginState);
    return update(mxid, patch);
  };
  let rowDuringDrop: string | undefined;
  alice.on("state", (s) => {
    if (s.kind === "transient_disconnect") rowDuringDrop = env.store.users.get(ALICE)!.loginState;
  });
  const back = nextEvent(alice, "state", (s) => s.kind === "connected");
  env.ref.msnp.dropUser({ user: "alice@hotmail.co.uk" });
  await back;
  assert.deepEqual(kinds(states, ALICE), ["connected", "transient_disconnect", "connected"]);
  assert.equal(rowDuringDrop, "connected", "the drop was seen, and not written");
  assert.deepEqual(writes, [], "neither the drop nor the reconnect wrote the state");
  const transient = states.get(ALICE)![1] as Extract<SessionState, { kind: "transient_disconnect" }>;
  assert.equal(typeof transient.retryAt, "number");
  await until(() => contactEvents.length === 2, "contacts re-read after the reconnect");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice back online");
  assert.notEqual(endpointsOf(env, "alice@hotmail.co.uk")[0]!.connection, firstConnection);
  assert.equal(env.store.users.get(ALICE)!.loginState, "connected");
});

test("an access token that expired early: the ticket is renewed and the session reconnects", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice online");
  env.ref.world.expireAccess(env.ref.world.mustFind("alice@hotmail.co.uk"));
  const back = nextEvent(alice, "state", (s) => s.kind === "connected");
  env.ref.msnp.dropUser({ user: "alice@hotmail.co.uk" });
  await back;
  assert.deepEqual(kinds(states, ALICE), ["connected", "transient_disconnect", "connected"]);
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice back online");
  const got = nextEvent(alice, "message", (m) => m.body === "after expiry");
  env.ref.msnp.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "after expiry" });
  await got;
  await alice.resyncContacts(); // ActiveSync and ABCH renew their expired tokens too
});

test("short-lived tokens: the ATH ticket is renewed on the live connection before it expires", async (t) => {
  const env = await startSessionEnv(t, { ref: { tokenLifetime: 3 } });
  const manager = env.manager();
  const states = recordStates(manager);
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice online");
  const connection = endpointsOf(env, "alice@hotmail.co.uk")[0]!.connection;
  const athTickets = (): number =>
    env.issued.filter(
      (i) => i.person === "alice@hotmail.co.uk" && i.scope === "service::ssl.live.com::MBI_SSL",
    ).length;
  const before = athTickets();
  await until(() => athTickets() >= before + 2, "two re-authentications", 20_000);
  assert.equal(endpointsOf(env, "alice@hotmail.co.uk")[0]!.connection, connection, "same connection");
  assert.deepEqual(kinds(states, ALICE), ["connected"]);
  const got = nextEvent(alice, "message", (m) => m.body === "still fine");
  env.ref.msnp.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "still fine" });
  await got;
});

test("unlink: clean sign-out, no endpoint left on the server, token and account forgotten", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  env.store.users.upsert(ALICE, { managementRoomId: "!mgmt:example.org" });
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice online");
  await manager.unlink(ALICE);
  await until(() => endpointsOf(env, "alice@hotmail.co.uk").length === 0, "no endpoint left");
  assert.equal(manager.get(ALICE), undefined);
  assert.deepEqual(manager.all(), []);
  assert.equal(env.store.users.getRefreshToken(ALICE), undefined);
  const row = env.store.users.get(ALICE)!;
  assert.equal(row.managementRoomId, "!mgmt:example.org", "the user row stays");
  assert.equal(row.hasRefreshToken, false);
  assert.equal(row.accountEmail, null);
  assert.equal(row.skypeMri, null);
  assert.equal(row.liveMri, null);
  assert.equal(row.loginState, "logged_out");
  assert.deepEqual(states.get(ALICE)!.at(-1), { kind: "logged_out", reason: "logout" });
  assert.deepEqual(kinds(states, ALICE), ["connected", "logged_out"]);
  const sent = alice.sendText("8:live:bob_1", "too late");
  await assert.rejects(sent.delivered, { code: "SKYPE_NOT_CONNECTED" });
  // A restart does not bring it back.
  const again = env.manager();
  await again.startAll();
  assert.equal(again.get(ALICE), undefined);
});

test("startAll: at most session_start_concurrency sessions connect at once; a failing one harms no other", async (t) => {
  const accounts = testAccounts("user", 6);
  const fixtures: Fixtures = { accounts };
  const env = await startSessionEnv(t, {
    ref: { fixtures, msnp: { replyDelayMs: 15 } },
    config: (c) => (c.limits.session_start_concurrency = 2),
  });
  await linkAccounts(env, accounts, "u");
  env.store.users.upsert("@broken:example.org", {
    accountEmail: "user0@example.com",
    skypeName: "live:user_0",
  });
  env.store.users.setRefreshToken("@broken:example.org", "M.not-a-valid-token");
  env.store.users.upsert("@nobody:example.org", { managementRoomId: "!x:example.org" });

  let connecting = 0;
  let peak = 0;
  const manager = env.manager({
    msnp: {
      backoff: { initialMs: 20, maxMs: 200 },
      connect: (target) => {
        connecting++;
        peak = Math.max(peak, connecting);
        return defaultConnect(target);
      },
    },
  });
  const settled = new Set<string>();
  const states = recordStates(manager);
  manager.onSession((s) =>
    s.on("state", (st) => {
      if (st.kind !== "connecting" && !settled.has(s.mxid)) {
        settled.add(s.mxid);
        connecting--;
      }
    }),
  );
  await manager.startAll();
  assert.equal(manager.all().length, 7, "every user with a refresh token, and only those");
  assert.equal(peak, 2, "two at once, never more");
  for (let i = 0; i < 6; i++) assert.deepEqual(kinds(states, `@u${i}:example.org`), ["connected"]);
  assert.deepEqual(kinds(states, "@broken:example.org"), ["bad_credentials"]);
  assert.equal(env.store.users.get("@broken:example.org")!.loginState, "bad_credentials");
  assert.equal(manager.get("@nobody:example.org"), undefined);
});

test("a server dropping everyone at once: at most reconnect_concurrency reconnect at a time, and all come back", async (t) => {
  const accounts = testAccounts("storm", 8);
  const env = await startSessionEnv(t, {
    ref: { fixtures: { accounts }, msnp: { replyDelayMs: 15 } },
    config: (c) => {
      c.limits.session_start_concurrency = 8;
      c.limits.reconnect_concurrency = 2;
    },
  });
  await linkAccounts(env, accounts, "s");
  // Attempts in progress: a connect counts from the socket until its session reports connected
  // (the slot is held a little longer, until caught up, so this never over-counts).
  let inProgress = 0;
  let peak = 0;
  let storm = false;
  const manager = env.manager({
    msnp: {
      backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
      connect: (target) => {
        if (storm) peak = Math.max(peak, ++inProgress);
        return defaultConnect(target);
      },
    },
  });
  const reconnected = new Set<string>();
  manager.onSession((s) =>
    s.on("state", (st) => {
      if (!storm || st.kind !== "connected") return;
      inProgress--;
      reconnected.add(s.mxid);
    }),
  );
  await manager.startAll();
  await until(() => accounts.every((a) => subscribed(env, a.email)), "all online");

  storm = true;
  env.ref.msnp.dropEveryone({});
  await until(() => reconnected.size === accounts.length, "all reconnected");
  await until(() => accounts.every((a) => subscribed(env, a.email)), "all online again");
  // Every retry fell due after 20 ms, so without the bound all eight would have been in progress.
  assert.equal(peak, 2, "two reconnects at a time, never more");
  await manager.stopAll();
});

test("after a server drops everyone, the contact re-reads wait their turn, one session's after another's", async (t) => {
  const accounts = testAccounts("reread", 6);
  // Slow contact reads: without the bridge-wide turn, six sessions' reads would overlap.
  const env = await startSessionEnv(t, {
    ref: { fixtures: { accounts }, http: { delays: { activesync: 25 } } },
    config: (c) => {
      c.limits.session_start_concurrency = 6;
      c.limits.reconnect_concurrency = 6;
    },
  });
  await linkAccounts(env, accounts, "r");
  const manager = env.manager({
    msnp: { backoff: { initialMs: 10, maxMs: 100, jitter: 0 } },
    reconnectRefreshConcurrency: 1,
  });
  const reads = new Map<string, number>();
  manager.onSession((s) => s.on("contacts", () => reads.set(s.mxid, (reads.get(s.mxid) ?? 0) + 1)));
  await manager.startAll();
  await until(() => accounts.every((a) => subscribed(env, a.email)), "all online");
  type Logged = { seq: number; endpoint: string; status: number; details: { user?: string } };
  const log = async (since = 0): Promise<Logged[]> =>
    ((await (await fetch(`${env.ref.controlUrl}/http/requests?since=${since}`)).json()) as { requests: [] })
      .requests;
  // A refresh reads the contacts, then the pending requests (ABCH sharing): the first refreshes are
  // over once every account's sharing read was answered.
  const firstDone = async (): Promise<boolean> => {
    const answered = (await log()).filter((e) => e.endpoint === "sharing" && e.status > 0);
    return accounts.every((a) => answered.some((e) => e.details.user === a.email));
  };
  for (const deadline = Date.now() + 15_000; !(reads.size === accounts.length && (await firstDone()));) {
    assert.ok(Date.now() < deadline, "every first contact read, requests included");
    await new Promise((r) => setTimeout(r, 20));
  }
  const before = Math.max(0, ...(await log()).map((e) => e.seq));

  env.ref.msnp.dropEveryone({});
  await until(() => [...reads.values()].every((n) => n === 2), "every session re-read its contacts");
  const order = (await log(before))
    .filter((e) => e.endpoint === "activesync" || e.endpoint === "sharing" || e.endpoint === "abservice")
    .map((e) => String(e.details.user ?? "?"));
  const runs = order.filter((u, i) => i === 0 || order[i - 1] !== u);
  assert.equal(new Set(runs).size, accounts.length, `each session re-read (${order.join(" ")})`);
  assert.equal(runs.length, accounts.length, `one session's re-read after another's (${order.join(" ")})`);
  await manager.stopAll();
});

test("signed in elsewhere (OUT OTH): logged_out with reason OTH, no reconnect", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const states = recordStates(manager);
  const alice = await manager.link(ALICE, await env.login("alice@hotmail.co.uk", "wonderland"));
  await stateOf(alice, "connected");
  await until(() => subscribed(env, "alice@hotmail.co.uk"), "alice online");
  const out = stateOf(alice, "logged_out");
  env.ref.msnp.dropUser({ user: "alice@hotmail.co.uk", out: "OTH" });
  await out;
  await until(() => endpointsOf(env, "alice@hotmail.co.uk").length === 0, "connection closed");
  assert.deepEqual(states.get(ALICE), [{ kind: "connected" }, { kind: "logged_out", reason: "OTH" }]);
  assert.equal(env.store.users.get(ALICE)!.loginState, "logged_out");
  assert.equal(env.store.users.get(ALICE)!.stateDetail, "OTH");
});
