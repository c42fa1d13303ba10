import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryLogger, next, online, startEnv, stateOf, until } from "./helpers.js";
import { SkypeErrorCode } from "../../../src/skype/errors.js";

test("server variants: challenge required, cookie rotated on every reply, zero-length PUT replies", async (t) => {
  const env = await startEnv(t, {
    requireChallenge: true,
    rotateCookie: "per-reply",
    emptyReplyStyle: "zero-length",
    threadActivityFrom: "initiator",
  });
  const alice = env.client("alice@hotmail.co.uk");
  const bob = env.client("bob@outlook.com");
  await online(alice);
  await online(bob);
  for (let i = 0; i < 5; i++) {
    const got = next(bob, "message");
    await alice.sendText("8:live:bob_1", `rotated ${i}`).delivered;
    assert.equal((await got)[0].body, `rotated ${i}`);
  }
  const thread = await alice.threads.create(["8:live:bob_1"]);
  const act = next(bob, "threadActivity", (a) => a.activity === "TopicUpdate");
  await alice.threads.setTopic(thread.id, "T");
  const [a] = await act;
  assert.equal(a.conversation, thread.id, "keyed by the thread even when From is the initiator");
  assert.equal(a.value, "T");
});

test("another endpoint of the same user: own messages arrive with fromMe; ABCH notifications", async (t) => {
  const env = await startEnv(t);
  const desk = env.client("alice@hotmail.co.uk");
  const phone = env.client("alice@hotmail.co.uk");
  await online(desk);
  await online(phone);
  assert.notEqual(desk.epid, phone.epid);
  const mine = next(phone, "message");
  const sent = desk.sendText("8:live:bob_1", "sent from the desk");
  await sent.delivered;
  const [m] = await mine;
  assert.equal(m.fromMe, true);
  assert.equal(m.conversation, "8:live:bob_1");
  assert.equal(m.clientMessageId, sent.clientMessageId);
  assert.equal(m.sender, "8:live:alice_1");

  const abch = next(desk, "addressBookChanged");
  env.world.touchAddressBook(env.world.mustFind("alice@hotmail.co.uk"));
  await abch;
});

test("keepalive: pings every <wait> seconds; two missed replies drop the connection", async (t) => {
  const env = await startEnv(t, { pingWait: 1 });
  const log = memoryLogger();
  const alice = env.client("alice@hotmail.co.uk", {
    logger: log,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  await online(alice);
  const frames = () => env.server.endpoints().find((e) => e.epid === alice.epid)?.framesReceived ?? 0;
  const before = frames();
  // The client's own default is 20 s; the server's <wait> of 1 s governs.
  await until(() => frames() >= before + 2, "two keepalive pings", 5000);
  env.server.setOptions({ replyDelayMs: 10_000 });
  const s = await stateOf(alice, "transient_disconnect", 8000);
  assert.equal(s.error?.code, SkypeErrorCode.Network);
  assert.match(s.error?.message ?? "", /stopped answering pings/);
  assert.ok(log.lines.some((l) => l.level === "warn" && l.message.includes("keepalive")));
  env.server.setOptions({ replyDelayMs: 0 });
});
