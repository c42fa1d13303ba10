// SPDX-License-Identifier: Apache-2.0
/** `contacts` pages, `sync` progress notes, `presence` and `reconnect`, on a fake session. */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { BlockingCommands, blockingOf } from "../../../../src/bridge/user/commands/blocking.js";
import { ConnectionCommands } from "../../../../src/bridge/user/commands/connection.js";
import { CONTACTS_PAGE_SIZE, ContactCommands } from "../../../../src/bridge/user/commands/contacts.js";
import { CommandError, UsageError, type CommandContext } from "../../../../src/bridge/user/commands/types.js";
import { SkypeError } from "../../../../src/skype/errors.js";
import type { Contact } from "../../../../src/skype/model.js";
import type { Session, SessionState } from "../../../../src/sessions/types.js";

class FakeSession extends EventEmitter {
  readonly mxid = "@alice:x";
  state: SessionState = { kind: "connected" };
  presence: string[] = [];
  resyncMs = 0;
  constructor(private readonly list: Contact[]) {
    super();
  }
  contacts(): Contact[] {
    return this.list;
  }
  setPresence(s: string): Promise<void> {
    if (this.state.kind !== "connected") {
      return Promise.reject(new SkypeError("SKYPE_NOT_CONNECTED", "not running", false));
    }
    this.presence.push(s);
    return Promise.resolve();
  }
  resyncContacts(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.resyncMs));
  }
}

const people = (n: number): Contact[] =>
  Array.from({ length: n }, (_, i) => ({
    identities: [`8:person${String(i).padStart(2, "0")}`],
    displayName: `Person ${String(i).padStart(2, "0")}`,
  }));

function ctx(): CommandContext & { replies: string[] } {
  const replies: string[] = [];
  return {
    sender: "@alice:x",
    roomId: "!m:x",
    eventId: "$e",
    isAdmin: false,
    replies,
    reply: (text) => {
      replies.push(text);
      return Promise.resolve();
    },
  };
}

const asSession = (s: FakeSession) => s as unknown as Session;
const users = { get: () => ({ hasRefreshToken: true, skypeName: "live:alice_1", accountEmail: null }) };
const requests = { list: () => [] };

void test("contacts shows 25 a page and says how to get the next one", async () => {
  const session = new FakeSession(people(CONTACTS_PAGE_SIZE + 5));
  const cmds = new ContactCommands({
    sessions: { get: () => asSession(session) },
    bridge: { puppets: { personFor: (id: string) => ({ id }), mxidOf: (id: string) => `@skype_${id}:x` } },
  } as unknown as ConstructorParameters<typeof ContactCommands>[0]).commands();
  const list = cmds.find((c) => c.name === "contacts")!;
  const c = ctx();
  await list.run(c, []);
  const first = c.replies[0]!.split("\n");
  assert.equal(first[0], "Your Skype contacts (30), page 1 of 2; send `pm <name>` to chat:");
  assert.equal(first.length, 1 + CONTACTS_PAGE_SIZE + 1);
  assert.equal(first.at(-1), "Send `contacts page 2` for more.");
  await list.run(c, ["page", "2"]);
  const second = c.replies[1]!.split("\n");
  assert.equal(second.length, 1 + 5);
  assert.match(second[1]!, /^• Person 25 — 8:person25 — @skype_8:person25:x$/);
  await list.run(c, ["person", "1", "page", "1"]);
  assert.match(c.replies[2]!, /^Your Skype contacts matching "person 1" \(10\); /);
});

void test("a long sync says it is still working, then how it ended", async () => {
  const session = new FakeSession(people(3));
  session.resyncMs = 80;
  let applied = 0;
  const cmds = new ConnectionCommands({
    sessions: { get: () => asSession(session) },
    store: { users, pendingRequests: requests } as never,
    contactsApplied: () => {
      applied++;
      return Promise.resolve();
    },
    progressAfterMs: 10,
    progressEveryMs: 20,
  });
  const c = ctx();
  await cmds.sync(c, "@alice:x");
  assert.equal(c.replies[0], "Re-reading the Skype contacts and address book…");
  assert.ok(c.replies.slice(1, -1).length >= 1, "at least one progress note");
  for (const r of c.replies.slice(1, -1)) assert.equal(r, "Still syncing: 3 contacts read so far…");
  assert.match(c.replies.at(-1)!, /^Sync done in [\d.]+ s: 3 contacts, 0 contact requests waiting\.$/);
  assert.equal(applied, 1, "waited for the bridge to apply the contacts");
});

void test("presence takes four words and says when Skype is not connected", async () => {
  const session = new FakeSession([]);
  const cmds = new ConnectionCommands({
    sessions: { get: () => asSession(session) },
    store: { users, pendingRequests: requests } as never,
    contactsApplied: () => Promise.resolve(),
  }).commands();
  const presence = cmds.find((c) => c.name === "presence")!;
  const c = ctx();
  await presence.run(c, ["Away"]);
  assert.deepEqual(session.presence, ["AWY"]);
  assert.equal(c.replies[0], "Your Skype status is now away. Your Matrix presence is unchanged.");
  await assert.rejects(presence.run(c, ["invisible"]), UsageError);
  session.state = { kind: "transient_disconnect", retryAt: 0 };
  await assert.rejects(
    presence.run(c, ["busy"]),
    (e: unknown) =>
      e instanceof CommandError && /your Skype connection is not up right now/.test(e.humanMessage),
  );
});

void test("reconnect waits for the new session and tells how it went; without the capability it says so", async () => {
  const fresh = new FakeSession([]);
  fresh.state = { kind: "connecting" };
  const manager = {
    get: () => undefined,
    reconnect: () => {
      setTimeout(() => {
        fresh.state = { kind: "connected" };
        fresh.emit("state", fresh.state);
      }, 10);
      return Promise.resolve(asSession(fresh));
    },
  };
  const cmds = new ConnectionCommands({
    sessions: manager,
    store: { users, pendingRequests: requests } as never,
    contactsApplied: () => Promise.resolve(),
  });
  const c = ctx();
  await cmds.reconnect(c, "@alice:x");
  assert.deepEqual(c.replies, ["Reconnecting to Skype…", "Connected to Skype as live:alice_1."]);
  assert.equal(fresh.listenerCount("state"), 0, "the waiter stopped listening");
  const without = new ConnectionCommands({
    sessions: { get: () => undefined },
    store: { users, pendingRequests: requests } as never,
    contactsApplied: () => Promise.resolve(),
  });
  await assert.rejects(
    without.reconnect(ctx(), "@alice:x"),
    (e: unknown) =>
      e instanceof CommandError &&
      e.humanMessage === "Reconnecting is not available in this version of the bridge yet.",
  );
});

void test("blocking on a session without block operations says so instead of failing", async () => {
  const session = new FakeSession([]);
  assert.equal(blockingOf(asSession(session)), undefined);
  const block = new BlockingCommands({
    sessions: { get: () => asSession(session) },
    store: { pendingRequests: requests } as never,
  })
    .commands()
    .find((c) => c.name === "block")!;
  await assert.rejects(
    block.run(ctx(), ["dave"]),
    (e: unknown) =>
      e instanceof CommandError &&
      e.humanMessage === "Blocking is not available in this version of the bridge yet.",
  );
});
