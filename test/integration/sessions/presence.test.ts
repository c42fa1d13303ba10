// What a session tells the bridge about presence and its own end, against the reference server
// in-process: the bridge keeps a contact online only while some session vouches for it, so every
// end of a session must be announced, and a reconnect must re-announce what is true now.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PresenceEvent, Session, SessionState } from "../../../src/sessions/types.js";
import { nextEvent, recordStates, startSessionEnv, stateOf, until, type SessionEnv } from "./helpers.js";

const ALICE = "@alice:example.org";
const BOB_MX = "@bob:example.org";
const ALICE_EMAIL = "alice@hotmail.co.uk";

/** Everything a session emits about presence and its connection, in order. */
function timeline(session: Session): string[] {
  const out: string[] = [];
  session.on("state", (s) => out.push(`state ${s.kind}`));
  session.on("caughtUp", () => out.push("caughtUp"));
  session.on("presence", (p) => out.push(`presence ${p.identity} ${p.status} ${p.endpoints}`));
  return out;
}

function isBob(p: PresenceEvent): boolean {
  return p.identity.includes("bob");
}

async function aliceOnline(env: SessionEnv): Promise<{ alice: Session; events: string[] }> {
  const manager = env.manager();
  let events: string[] = [];
  manager.onSession((s) => {
    if (s.mxid === ALICE) events = timeline(s);
  });
  const alice = await manager.link(ALICE, await env.login(ALICE_EMAIL, "wonderland"));
  await until(() => events.includes("caughtUp"), "alice's first catch-up");
  return { alice, events };
}

test("every end of a session is announced: stop on re-link, shutdown, logout; only a logout is stored", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const ended: SessionState[] = [];
  manager.onSession((s) =>
    s.on("state", (st) => {
      if (st.kind === "logged_out") ended.push(st);
    }),
  );
  const s1 = await manager.link(ALICE, await env.login(ALICE_EMAIL, "wonderland"));
  await stateOf(s1, "connected");
  const s2 = await manager.link(ALICE, await env.login(ALICE_EMAIL, "wonderland"));
  assert.deepEqual(ended, [{ kind: "logged_out", reason: "stopped" }], "the replaced session ended");
  assert.deepEqual(s1.state, { kind: "logged_out", reason: "stopped" });
  await stateOf(s2, "connected");
  await manager.stopAll();
  assert.deepEqual(ended.at(-1), { kind: "logged_out", reason: "shutdown" });
  assert.equal(env.store.users.get(ALICE)!.loginState, "connected", "a shutdown is not a logout");

  const again = env.manager();
  const states = recordStates(again);
  await again.startAll();
  await stateOf(again.get(ALICE)!, "connected");
  await again.unlink(ALICE);
  assert.deepEqual(states.get(ALICE)!.at(-1), { kind: "logged_out", reason: "logout" });
  assert.equal(env.store.users.get(ALICE)!.loginState, "logged_out");
});

test("after a server-dropped connection every contact online is re-announced before caughtUp", async (t) => {
  const env = await startSessionEnv(t);
  const { alice, events } = await aliceOnline(env);
  env.ref.msnp.setPresence({ user: "bob@outlook.com", status: "NLN" });
  env.ref.msnp.setPresence({ user: "dave.lister", status: "AWY" });
  await until(() => events.some((e) => e.includes("dave") && e.includes("AWY")), "dave away");
  assert.ok(events.some((e) => e.includes("bob") && e.includes("NLN")));

  const from = events.length;
  const reconnected = nextEvent(alice, "caughtUp");
  env.ref.msnp.dropUser({ user: ALICE_EMAIL });
  await reconnected;
  const after = events.slice(from);
  const connected = after.indexOf("state connected");
  const caughtUp = after.indexOf("caughtUp");
  assert.ok(connected >= 0 && caughtUp > connected, after.join("\n"));
  const between = after.slice(connected, caughtUp);
  assert.ok(
    between.some(
      (e) => e.startsWith("presence 8:live:bob_1 NLN") || e.startsWith("presence 1:bob@outlook.com NLN"),
    ),
    between.join("\n"),
  );
  assert.ok(
    between.some((e) => e.includes("dave.lister AWY")),
    between.join("\n"),
  );
});

test("an endpoint a contact left while the connection was down is not counted after the reconnect", async (t) => {
  const env = await startSessionEnv(t);
  const { alice, events } = await aliceOnline(env);
  // Bob online twice: through the control API and with a session of his own.
  env.ref.msnp.setPresence({ user: "bob@outlook.com", status: "NLN" });
  const bobs = env.manager();
  const bob = await bobs.link(BOB_MX, await env.login("bob@outlook.com", "canwefixit"));
  await stateOf(bob, "connected");
  await until(() => events.some((e) => /presence \S*bob\S* NLN 2$/.test(e)), "bob on two endpoints");

  // Alice's connection drops; while it is down, one of bob's endpoints leaves.
  const reconnected = nextEvent(alice, "caughtUp");
  env.ref.msnp.dropUser({ user: ALICE_EMAIL });
  env.ref.msnp.setPresence({ user: "bob@outlook.com", status: "offline" });
  await reconnected;
  const last = (): string | undefined =>
    events.filter((e) => e.startsWith("presence") && e.includes("bob")).at(-1);
  assert.match(last() ?? "", / NLN 1$/, "the re-announced document counts one endpoint");

  // Bob's last endpoint leaves: he is offline.
  const gone = nextEvent(alice, "presence", (p) => isBob(p));
  await bobs.unlink(BOB_MX);
  const [p] = await gone;
  assert.deepEqual([p.status, p.endpoints], ["FLN", 0]);
});
