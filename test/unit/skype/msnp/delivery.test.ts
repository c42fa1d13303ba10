import { test } from "node:test";
import assert from "node:assert/strict";
import { Receiver } from "../../../../src/skype/msnp/receiver.js";
import { chronological, planCatchUp } from "../../../../src/skype/msnp/catchup.js";
import { Outbox } from "../../../../src/skype/msnp/outbox.js";
import { backoffDelay } from "../../../../src/skype/msnp/backoff.js";
import { compareIds } from "../../../../src/skype/msnp/identity.js";
import type { RawMessage } from "../../../../src/skype/msnp/messages.js";
import type { Frame } from "../../../../src/skype/msnp/framing.js";
import { MsnpHeaders } from "../../../../src/skype/msnp/headers.js";
import { silentLogger } from "../../../../src/skype/log.js";
import { MsnpError } from "../../../../src/skype/errors.js";

function msg(id: string | undefined, extra: Partial<RawMessage> = {}): RawMessage {
  return {
    conversation: "8:live:bob_1",
    from: "8:live:bob_1",
    to: "8:live:alice_1",
    fromMe: false,
    messageType: "Text",
    content: `m${id}`,
    messageId: id,
    clientMessageId: id ? `c${id}` : undefined,
    ...extra,
  };
}

function collect() {
  const events: [string, unknown][] = [];
  const r = new Receiver((ev, ...args) => events.push([ev, args[0]]), silentLogger);
  return { r, events };
}

test("receiver: duplicates by Message-ID, cursor and Client-Message-ID; cursors advance", () => {
  const { r, events } = collect();
  assert.equal(r.deliver(msg("10"), "live"), true);
  assert.equal(r.deliver(msg("10"), "catchup"), false, "same Message-ID");
  assert.equal(r.deliver(msg("9"), "catchup"), false, "at or below the cursor");
  assert.equal(
    r.deliver(msg("11", { clientMessageId: "c10" }), "live"),
    false,
    "same sender and Client-Message-ID",
  );
  assert.equal(r.deliver(msg("12"), "live"), true);
  assert.deepEqual(Object.fromEntries(r.cursors), { "8:live:bob_1": "12" });
  assert.equal(events.length, 2);
  // Edits that repeat the original's Client-Message-ID are told apart by Message-ID only.
  const first = events[0]![1] as { cursor: unknown; body: string; source: string };
  assert.deepEqual(first.cursor, { conversation: "8:live:bob_1", messageId: "10" });
  assert.equal(
    r.deliver(msg("14", { clientMessageId: "c12", editedId: "c12", content: "e1" }), "live"),
    true,
  );
  assert.equal(
    r.deliver(msg("15", { clientMessageId: "c12", editedId: "c12", content: "e2" }), "live"),
    true,
  );
  r.rememberSent("8:live:bob_1", "mine");
  assert.equal(
    r.deliver(msg("13", { fromMe: true, from: "8:live:alice_1", clientMessageId: "mine" }), "catchup"),
    false,
  );
});

test("receiver: emote, edit, delete, typing, thread activity, unhandled", () => {
  const { r, events } = collect();
  r.deliver(msg("1", { content: "Zoë 😀 waves", emoteOffset: '"5"' }), "live");
  r.deliver(msg("2", { content: "new", editedId: "c1" }), "live");
  r.deliver(msg("3", { content: "", editedId: "c1" }), "live");
  r.deliver(msg(undefined, { messageType: "Control/Typing", content: "" }), "live");
  r.deliver(
    msg("4", {
      conversation: "19:x@thread.skype",
      messageType: "ThreadActivity/TopicUpdate",
      content: "<topicupdate><initiator>8:live:bob_1</initiator><value>T</value></topicupdate>",
    }),
    "live",
  );
  r.deliver(msg("5", { messageType: "Nudge" }), "live");
  assert.deepEqual(
    events.map(([e]) => e),
    ["message", "edit", "delete", "typing", "threadActivity", "unhandledMessage"],
  );
  const emote = events[0]![1] as { emote: boolean; body: string };
  assert.equal(emote.emote, true);
  assert.equal(emote.body, "waves");
  assert.equal((events[2]![1] as { editedId: string }).editedId, "c1");
  assert.equal((events[4]![1] as { value: string }).value, "T");
});

test("catch-up plan: cursors, unknown conversations above the watermark, must-read", () => {
  const plan = planCatchUp({
    cursors: new Map([
      ["8:a", "100"],
      ["8:b", "200"],
    ]),
    watermark: "200",
    recent: [
      { id: "8:a", lastMessageId: "100" },
      { id: "8:b", lastMessageId: "250" },
      { id: "8:c", lastMessageId: "260" },
      { id: "8:d", lastMessageId: "150" },
    ],
    mustRead: new Set(["8:a", "8:e"]),
  });
  assert.deepEqual(Object.fromEntries(plan), { "8:a": "100", "8:b": "200", "8:c": "200", "8:e": "200" });
  const first = planCatchUp({
    cursors: new Map(),
    recent: [{ id: "8:c", lastMessageId: "1" }],
    mustRead: new Set(),
  });
  assert.equal(first.size, 0, "nothing is back-filled on a first start");
});

test("chronological order, numeric ids beyond 2^53", () => {
  const out = chronological([msg("9007199254740993"), msg(undefined), msg("9007199254740992"), msg("100")]);
  assert.deepEqual(
    out.map((m) => m.messageId),
    ["100", "9007199254740992", "9007199254740993", undefined],
  );
  assert.equal(compareIds("0099", "100"), -1);
});

function reply(trid: number, command = "PNG"): Frame {
  return { command, trid, type: "CON", headers: new MsnpHeaders(), body: Buffer.from("nope"), length: 4 };
}

test("outbox: a reply to a later frame confirms; an error reply refuses; unknown fate is reconciled", async () => {
  const ob = new Outbox();
  let trid = 10;
  const writes: string[] = [];
  const write = (b: Buffer) => {
    writes.push(b.toString());
    return { trid: ++trid, connectionId: 1 };
  };
  const a = ob.add("1", "8:b", () => Buffer.from("a"));
  const b = ob.add("2", "8:b", () => Buffer.from("b"));
  assert.equal(ob.flush(write), 2);
  assert.equal(ob.flush(write), 0, "never written twice");
  ob.onReply(1, reply(12, "217"));
  await a;
  await assert.rejects(b, (e: unknown) => e instanceof MsnpError && e.msnpCode === 217);
  const c = ob.add("3", "8:b", () => Buffer.from("c"));
  const d = ob.add("4", "8:c", () => Buffer.from("d"));
  ob.flush(write);
  ob.onDisconnect(1);
  assert.deepEqual([...ob.unknownConversations()].sort(), ["8:b", "8:c"]);
  const e = ob.add("5", "8:b", () => Buffer.from("e"));
  assert.equal(ob.flush(write), 0, "unknown-fate messages hold back later ones");
  ob.reconcile((conv, id) => conv === "8:b" && id === "3");
  await c;
  writes.length = 0;
  assert.equal(ob.flush(write), 2);
  assert.deepEqual(writes, ["d", "e"]);
  ob.rejectAll("stopped");
  await assert.rejects(d);
  await assert.rejects(e);
});

test("backoff: exponential, capped, jittered by the injected random", () => {
  const o = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
  assert.equal(
    backoffDelay(0, o, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(0, o, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, o, () => 1),
    800,
  );
  assert.equal(
    backoffDelay(10, o, () => 0.5),
    750,
  );
});
