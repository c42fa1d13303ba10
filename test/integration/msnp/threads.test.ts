import { test } from "node:test";
import assert from "node:assert/strict";
import { next, online, startEnv, until } from "./helpers.js";
import { MsnpError } from "../../../src/skype/errors.js";
import type { MessageEvent, ThreadActivityEvent, ThreadInfo } from "../../../src/skype/msnp/index.js";

test("a thread's whole life: create with topic, chat, add, topic, role, remove, list, leave", async (t) => {
  const env = await startEnv(t);
  const alice = env.client("alice@hotmail.co.uk");
  const bob = env.client("bob@outlook.com");
  const carol = env.client("carol@live.com");
  await online(alice);
  await online(bob);
  await online(carol);
  const bobActivity: ThreadActivityEvent[] = [];
  bob.on("threadActivity", (a) => bobActivity.push(a));
  const bobUpdates: ThreadInfo[] = [];
  bob.on("threadUpdate", (u) => bobUpdates.push(u));

  const thread = await alice.threads.create(["8:live:bob_1"], "Weekend plans");
  assert.match(thread.id, /^19:[0-9a-f]{32}@thread\.skype$/);
  assert.deepEqual(thread.members.map((m) => [m.mri, m.role]).sort(), [
    ["8:live:alice_1", "admin"],
    ["8:live:bob_1", "user"],
  ]);
  await until(
    () => bobActivity.filter((a) => a.conversation === thread.id).length >= 3,
    "bob sees the creation",
  );
  assert.ok(bobUpdates.some((u) => u.id === thread.id));
  const created = bobActivity.filter((a) => a.conversation === thread.id);
  assert.deepEqual(
    created.map((a) => a.activity),
    ["AddMember", "AddMember", "TopicUpdate"],
  );
  assert.equal(created[2]!.value, "Weekend plans");

  const inThread = next(bob, "message", (m: MessageEvent) => m.conversation === thread.id);
  await alice.sendText(thread.id, "Hiking?").delivered;
  const [m] = await inThread;
  assert.equal(m.sender, "8:live:alice_1");
  assert.equal(m.body, "Hiking?");

  const carolJoined = next(
    carol,
    "threadActivity",
    (a) => a.conversation === thread.id && a.activity === "AddMember",
  );
  await bob.threads.addMembers(thread.id, ["8:live:carol_7"]);
  const [join] = await carolJoined;
  assert.equal(join.initiator, "8:live:bob_1");
  assert.deepEqual(
    join.targets.map((x) => x.mri),
    ["8:live:carol_7"],
  );

  const topic = next(carol, "threadActivity", (a) => a.activity === "TopicUpdate");
  await carol.threads.setTopic(thread.id, "Hiking & picnic");
  assert.equal((await topic)[0].value, "Hiking & picnic");

  const role = next(bob, "threadActivity", (a) => a.activity === "RoleUpdate");
  await alice.threads.setRole(thread.id, "8:live:bob_1", "admin");
  const [ru] = await role;
  assert.deepEqual(ru.targets, [{ mri: "8:live:bob_1", role: "admin" }]);

  // Only admins remove others: carol (a user) may not remove bob.
  await assert.rejects(
    carol.threads.removeMember(thread.id, "8:live:bob_1"),
    (e: unknown) => e instanceof MsnpError && e.msnpCode === 201,
  );

  const kicked = next(carol, "threadActivity", (a) => a.activity === "DeleteMember");
  await bob.threads.removeMember(thread.id, "8:live:carol_7");
  const [k] = await kicked;
  assert.equal(k.initiator, "8:live:bob_1");
  assert.deepEqual(
    k.targets.map((x) => x.mri),
    ["8:live:carol_7"],
  );

  const [listed] = await alice.threads.list([thread.id]);
  assert.equal(listed!.topic, "Hiking & picnic");
  assert.deepEqual(listed!.members.map((x) => [x.mri, x.role]).sort(), [
    ["8:live:alice_1", "admin"],
    ["8:live:bob_1", "admin"],
  ]);
  const all = await bob.threads.list();
  assert.ok(all.some((x) => x.id === thread.id));

  const left = next(
    bob,
    "threadActivity",
    (a) => a.activity === "DeleteMember" && a.initiator === "8:live:alice_1",
  );
  await alice.threads.leave(thread.id);
  assert.deepEqual(
    (await left)[0].targets.map((x) => x.mri),
    ["8:live:alice_1"],
  );

  await assert.rejects(
    alice.threads.setTopic("19:00000000000000000000000000000000@thread.skype", "x"),
    (e: unknown) => e instanceof MsnpError && e.msnpCode === 217,
  );
});
