// SPDX-License-Identifier: Apache-2.0
// Threads (PROFILE §3 "Groups", §5 "Thread creation"): PUT/DEL MSGR\THREAD, the NFY/ThreadActivity
// order, permissions, 217/201, over raw sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { start } from "./fixture.js";
import { blocks, type RawFrame, type Session } from "./raw-client.js";

const THREAD = /^19:[0-9a-f]{32}@thread\.skype$/;
const relevant = (f: RawFrame): boolean => !(f.cmd === "NFY" && f.type !== "MSGR\\THREAD");

function label(f: RawFrame): string {
  if (f.cmd === "SDG") {
    const b = blocks(f.body);
    const type = b.content["message-type"]!;
    const target =
      /<target>(?:<id>)?([^<]+)</.exec(b.body)?.[1] ?? /<value>([^<]*)</.exec(b.body)?.[1] ?? b.body;
    return `${type} ${target}`;
  }
  return `${f.cmd} ${f.type}`;
}

async function create(
  s: Session,
  members: string,
  topic?: string,
): Promise<{ id: string; frames: RawFrame[] }> {
  const props = topic === undefined ? "" : `<properties><topic>${topic}</topic></properties>`;
  const trid = String(
    s.send("PUT", "MSGR\\THREAD", `<thread><id></id><members>${members}</members>${props}</thread>`),
  );
  const reply = await s.client.next((f) => f.trid === trid);
  const frames = s.client.frames.splice(0).filter(relevant);
  frames.push(reply);
  const nfy = frames.find((f) => f.type === "MSGR\\THREAD")!;
  return { id: /<id>([^<]+)<\/id>/.exec(nfy.body)![1]!, frames };
}

const member = (mri: string, role = "user"): string =>
  `<member><mri>${mri}</mri><role>${role}</role></member>`;

test("creation: NFY MSGR\\THREAD, AddMember per member (creator first), TopicUpdate, then the PUT reply", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com");
  const carol = await s.signIn("carol@live.com");
  await alice.barrier();
  alice.client.frames.splice(0);
  const { id, frames } = await create(
    alice,
    member("8:live:alice_1", "admin") + member("8:live:bob_1") + member("1:carol@live.com"),
    "Trip &amp; plans",
  );
  assert.match(id, THREAD);
  assert.deepEqual(frames.map(label), [
    "NFY MSGR\\THREAD",
    "ThreadActivity/AddMember 8:live:alice_1",
    "ThreadActivity/AddMember 8:live:bob_1",
    "ThreadActivity/AddMember 1:carol@live.com",
    "ThreadActivity/TopicUpdate Trip &amp; plans",
    "PUT MSGR",
  ]);
  const nfy = frames[0]!;
  assert.equal(nfy.trid, "0");
  assert.match(nfy.body, /^<thread><id>19:[0-9a-f]{32}@thread\.skype<\/id><members>/);
  assert.match(nfy.body, /<member><mri>8:live:alice_1<\/mri><role>admin<\/role><\/member>/);
  assert.match(nfy.body, /<topic>Trip &amp; plans<\/topic><creator>8:live:alice_1<\/creator>/);
  const add = blocks(frames[2]!.body);
  assert.equal(add.routing.to, id);
  assert.equal(add.routing.from, id);
  assert.match(
    add.body,
    /^<addmember><eventtime>\d+<\/eventtime><initiator>8:live:alice_1<\/initiator><target>8:live:bob_1<\/target><\/addmember>$/,
  );
  assert.ok(frames[1]!.headers["ack-id"]);

  for (const other of [bob, carol]) {
    const first = await other.client.next((f) => f.type === "MSGR\\THREAD" || f.cmd === "SDG");
    assert.equal(first.type, "MSGR\\THREAD", "members learn of the thread before its activity");
    await other.client.next(
      (f) => f.cmd === "SDG" && blocks(f.body).content["message-type"] === "ThreadActivity/TopicUpdate",
    );
  }
  const history = s.server.storedMessages({ user: "bob@outlook.com", conversation: id });
  assert.deepEqual(
    history.map((m) => m.messageType),
    [
      "ThreadActivity/AddMember",
      "ThreadActivity/AddMember",
      "ThreadActivity/AddMember",
      "ThreadActivity/TopicUpdate",
    ],
  );
});

test("thread messages reach all members; non-members get 201, unknown threads 217", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com");
  const carol = await s.signIn("carol@live.com");
  const { id } = await create(alice, member("8:live:bob_1"));
  bob.sdg(id, "hi all");
  const got = await alice.client.next((f) => f.cmd === "SDG" && blocks(f.body).body === "hi all");
  assert.equal(blocks(got.body).routing.to, id);
  assert.match(blocks(got.body).routing.from ?? "", /^8:live:bob_1;epid=/);
  carol.sdg(id, "let me in");
  assert.equal((await carol.client.next((f) => /^\d{3}$/.test(f.cmd))).cmd, "201");
  carol.sdg("19:00000000000000000000000000000000@thread.skype", "anyone?");
  assert.equal((await carol.client.next((f) => /^\d{3}$/.test(f.cmd))).cmd, "217");
  const page = await bob.call(
    "GET",
    "MSGR\\MESSAGESBYCONVERSATION",
    `<messagesbyconversation><id>${id}</id><start>0</start><pagesize>10</pagesize></messagesbyconversation>`,
  );
  assert.match(page.body, /<content>hi all<\/content>/);
  const threads = await bob.call(
    "GET",
    "MSGR\\THREADS",
    `<threads><thread><id>${id}</id></thread></threads>`,
  );
  assert.match(threads.body, new RegExp(`^<threads-response><threads><thread><id>${id}</id>`));
});

test("permissions: members add and set topics; only admins promote or kick; anyone leaves", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const bob = await s.signIn("bob@outlook.com");
  const { id } = await create(alice, member("8:live:bob_1") + member("8:live:carol_7"));
  const put = (who: Session, inner: string): Promise<RawFrame> =>
    who.call("PUT", "MSGR\\THREAD", `<thread><id>${id}</id>${inner}</thread>`);
  const del = (who: Session, mri: string): Promise<RawFrame> =>
    who.call(
      "DEL",
      "MSGR\\THREAD",
      `<thread><id>${id}</id><members><member><mri>${mri}</mri></member></members></thread>`,
    );

  assert.equal((await put(bob, `<members>${member("8:dave.lister")}</members>`)).cmd, "PUT");
  assert.equal((await put(bob, "<properties><topic>bob's topic</topic></properties>")).cmd, "PUT");
  assert.equal((await put(bob, `<members>${member("8:live:bob_1", "admin")}</members>`)).cmd, "201");
  assert.equal((await put(bob, `<members>${member("8:live:mallory", "admin")}</members>`)).cmd, "201");
  assert.equal((await del(bob, "8:live:carol_7")).cmd, "201");
  assert.equal((await put(bob, `<members>${member("8:no_such_person")}</members>`)).cmd, "217");
  assert.equal((await del(alice, "8:live:zed_2fa")).cmd, "217");
  assert.equal(
    (
      await alice.call(
        "PUT",
        "MSGR\\THREAD",
        `<thread><id>19:ffffffffffffffffffffffffffffffff@thread.skype</id></thread>`,
      )
    ).cmd,
    "217",
  );

  assert.equal((await put(alice, `<members>${member("8:live:bob_1", "admin")}</members>`)).cmd, "PUT");
  const role = await bob.client.next(
    (f) => f.cmd === "SDG" && blocks(f.body).content["message-type"] === "ThreadActivity/RoleUpdate",
  );
  assert.match(blocks(role.body).body, /<target><id>8:live:bob_1<\/id><role>admin<\/role><\/target>/);
  assert.equal((await del(bob, "8:live:carol_7")).cmd, "DEL", "an admin now");
  assert.equal((await del(bob, "8:live:bob_1")).cmd, "DEL", "leaving");
  const left = await alice.client.next(
    (f) =>
      f.cmd === "SDG" &&
      blocks(f.body).content["message-type"] === "ThreadActivity/DeleteMember" &&
      blocks(f.body).body.includes("<target>8:live:bob_1</target>"),
  );
  assert.match(blocks(left.body).body, /<initiator>8:live:bob_1<\/initiator>/);
  const members = s.server
    .threads()
    .find((x) => x.id === id)!
    .members.map((m) => m.mri);
  assert.deepEqual(members, ["8:live:alice_1", "8:dave.lister"]);
});

test("in-process control: a contact creates a thread, writes to it and changes the topic", async (t) => {
  const s = await start(t);
  const alice = await s.signIn("alice@hotmail.co.uk");
  const { id } = s.server.createThread({
    as: "8:dave.lister",
    members: [{ mri: "8:live:alice_1" }],
    topic: "Red Dwarf",
  });
  const nfy = await alice.client.next((f) => f.type === "MSGR\\THREAD");
  assert.match(nfy.body, /<creator>8:dave.lister<\/creator>/);
  s.server.sendMessage({ from: "8:dave.lister", to: id, text: "smeg" });
  const msg = await alice.client.next((f) => f.cmd === "SDG" && blocks(f.body).body === "smeg");
  assert.equal(blocks(msg.body).routing.from, "8:dave.lister");
  s.server.setTopic({ as: "8:dave.lister", thread: id, topic: "Starbug" });
  await alice.client.next((f) => f.cmd === "SDG" && blocks(f.body).body.includes("<value>Starbug</value>"));
  assert.throws(
    () => s.server.removeMembers({ as: "8:live:bob_1", thread: id, members: ["8:dave.lister"] }),
    /not a member/,
  );
});
