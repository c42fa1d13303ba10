import { test } from "node:test";
import assert from "node:assert/strict";
import { credentialsFor, memoryLogger, online, startEnv, stateOf, until } from "./helpers.js";
import { MsnpError, SkypeErrorCode } from "../../../src/skype/errors.js";
import type { MessageEvent, MsnpState } from "../../../src/skype/msnp/index.js";

test("token expiry: re-authentication on the live connection keeps the stream", async (t) => {
  const env = await startEnv(t);
  const log = memoryLogger();
  const alicePerson = env.world.mustFind("alice@hotmail.co.uk");
  const alice = env.client("alice@hotmail.co.uk", { logger: log, reauthIntervalMs: 40 });
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(bob);
  const states: MsnpState[] = [];
  alice.on("state", (s) => states.push(s));
  const got: MessageEvent[] = [];
  alice.on("message", (m) => got.push(m));
  const texts: string[] = [];
  for (let i = 0; i < 120; i++) {
    if (i === 60) {
      env.world.expireAccess(alicePerson); // the ticket used at login is now expired
      await alice.reauthenticate(); // a fresh ticket, ATH again on the same connection
    }
    texts.push(`stream ${i}`);
    await bob.sendText("8:live:alice_1", `stream ${i}`).delivered;
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 30)); // let the periodic re-auth run too
  }
  await until(() => got.length === texts.length, "the whole stream");
  assert.deepEqual(
    got.map((m) => m.body),
    texts,
  );
  assert.deepEqual(states, [], "never disconnected");
  assert.ok(log.lines.filter((l) => l.message === "msnp: re-authenticated").length >= 2);
  assert.ok(
    log.lines.every((l) => !JSON.stringify(l).includes("EwA")),
    "no token in any log line",
  );
});

test("911: refused credentials at login → bad_credentials, no retry loop", async (t) => {
  const env = await startEnv(t);
  const person = env.world.mustFind("alice@hotmail.co.uk");
  const c = env.client("alice@hotmail.co.uk", {
    credentials: {
      ...credentialsFor(env.world, person),
      getTicket: () => Promise.resolve("EwAnot-a-real-token+/="),
    },
  });
  const states: string[] = [];
  c.on("state", (s) => states.push(s.kind));
  c.start();
  const s = await stateOf(c, "bad_credentials");
  assert.ok(s.error instanceof MsnpError && s.error.msnpCode === 911);
  assert.ok(!s.error.message.includes("EwAnot"), "the ticket is not in the error");
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(states, ["connecting", "bad_credentials"]);
});

test("911 on re-authentication → bad_credentials; the caller gets the error", async (t) => {
  const env = await startEnv(t);
  const person = env.world.mustFind("alice@hotmail.co.uk");
  let good = true;
  const base = credentialsFor(env.world, person);
  const c = env.client("alice@hotmail.co.uk", {
    credentials: { ...base, getTicket: () => (good ? base.getTicket() : Promise.resolve("EwAstale+/=")) },
  });
  await online(c);
  good = false;
  const bad = stateOf(c, "bad_credentials");
  await assert.rejects(c.reauthenticate(), (e: unknown) => e instanceof MsnpError && e.msnpCode === 911);
  await bad;
  assert.throws(
    () => c.sendText("not an mri", "x"),
    (e: unknown) => (e as { code?: string }).code === SkypeErrorCode.InvalidArgument,
  );
  // Sends while not connected wait in the queue; stop() fails them.
  const queued = c.sendText("8:live:bob_1", "never sent");
  await c.stop();
  await assert.rejects(
    queued.delivered,
    (e: unknown) => (e as { code?: string }).code === SkypeErrorCode.NotConnected,
  );
});
