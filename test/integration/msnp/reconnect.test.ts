import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryLogger, next, online, startEnv, until, stateOf } from "./helpers.js";
import type { MessageEvent } from "../../../src/skype/msnp/index.js";

const N = 200;
const texts = Array.from({ length: N }, (_, i) => `burst ${i} — ✓`);

test("receiver dropped in the middle of a 200-message burst: reconnect and catch-up, nothing lost or repeated", async (t) => {
  const env = await startEnv(t, { pageSize: 25 });
  const alice = env.client("alice@hotmail.co.uk", { historyPageSize: 25 });
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(bob);
  const got: MessageEvent[] = [];
  let dropped = false;
  alice.on("message", (m) => {
    got.push(m);
    if (got.length === 60 && !dropped) {
      dropped = true;
      env.server.dropUser({ user: "alice@hotmail.co.uk" });
    }
  });
  const sends = texts.map((x) => bob.sendText("8:live:alice_1", x));
  await Promise.all(sends.map((s) => s.delivered));
  await until(() => got.length >= N, `${N} messages at alice`, 30_000);
  await new Promise((r) => setTimeout(r, 100)); // a late duplicate would show up here
  assert.ok(dropped);
  assert.equal(got.length, N);
  assert.deepEqual(
    got.map((m) => m.body),
    texts,
  );
  assert.deepEqual(
    got.map((m) => m.clientMessageId),
    sends.map((s) => s.clientMessageId),
  );
  assert.ok(
    got.some((m) => m.source === "catchup"),
    "some came through catch-up",
  );
  const ids = got.map((m) => BigInt(m.messageId!));
  assert.ok(
    ids.every((id, i) => i === 0 || id > ids[i - 1]!),
    "Message-IDs increase",
  );
  assert.equal(alice.cursors()["8:live:bob_1"], got[N - 1]!.messageId);
});

test("sender dropped in the middle of a 200-message burst: queued and unconfirmed sends go out exactly once", async (t) => {
  const env = await startEnv(t);
  const log = memoryLogger();
  const alice = env.client("alice@hotmail.co.uk", { logger: log });
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(bob);
  const got: MessageEvent[] = [];
  bob.on("message", (m) => got.push(m));
  env.server.dropUser({ user: "alice@hotmail.co.uk", afterFrames: 90 });
  const transient = stateOf(alice, "transient_disconnect");
  const sends = texts.map((x) => alice.sendText("8:live:bob_1", x));
  await transient;
  await Promise.all(sends.map((s) => s.delivered));
  await until(() => got.length >= N, `${N} messages at bob`, 30_000);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(
    got.map((m) => m.body),
    texts,
  );
  const stored = env.server.storedMessages({ user: "alice@hotmail.co.uk", conversation: "8:live:bob_1" });
  assert.equal(stored.length, N, "the server stored each message once");
  const fate = log.lines.find((l) => l.message.includes("unknown fate"))?.context as {
    delivered: number;
    resend: number;
  };
  assert.ok(fate.delivered > 0 && fate.resend > 0, `both paths taken: ${JSON.stringify(fate)}`);
  assert.equal(fate.delivered + fate.resend, N);
  // Sent while disconnected: queued, then flushed after the reconnect.
  const late = alice.sendText("8:live:bob_1", "after");
  await late.delivered;
  await until(() => got.length === N + 1, "the late message");
});

test("restart with saved cursors: messages sent while away arrive oldest first, across pages", async (t) => {
  const env = await startEnv(t, { pageSize: 7 });
  const epid = "5f2b3c4d-0000-4000-8000-000000000001";
  const first = env.client("alice@hotmail.co.uk", { epid, historyPageSize: 7 });
  await online(first);
  const seen = next(first, "message");
  env.server.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: "before" });
  const [m0] = await seen;
  const saved = first.cursors();
  assert.deepEqual(saved, { "8:live:bob_1": m0.messageId });
  await first.stop();

  for (let i = 0; i < 30; i++)
    env.server.sendMessage({ from: "bob@outlook.com", to: "8:live:alice_1", text: `away ${i}` });
  env.server.sendMessage({ from: "dave.lister", to: "8:live:alice_1", text: "new conversation" });

  const second = env.client("alice@hotmail.co.uk", {
    epid,
    historyPageSize: 7,
    getCursors: () => Promise.resolve(saved),
  });
  const got: MessageEvent[] = [];
  second.on("message", (m) => got.push(m));
  await online(second);
  assert.deepEqual(
    got.map((m) => m.body),
    [...Array.from({ length: 30 }, (_, i) => `away ${i}`), "new conversation"],
  );
  assert.ok(got.every((m) => m.source === "catchup"));
  assert.equal(got[30]!.conversation, "8:dave.lister");
});
