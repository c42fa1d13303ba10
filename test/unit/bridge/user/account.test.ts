// SPDX-License-Identifier: Apache-2.0
/** A waiting login: survives a restart, never lets a secret be read as a command, times out. */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { AccountCommands } from "../../../../src/bridge/user/commands/account.js";
import type { CommandContext } from "../../../../src/bridge/user/commands/types.js";
import type { SessionManager } from "../../../../src/sessions/types.js";
import { openStore, type SqliteStore } from "../../../../src/store/index.js";

const ALICE = "@alice:example.org";
const ROOM = "!mgmt:example.org";
/** Nothing listens there: a sign-in attempt fails fast with a network error. */
const NOWHERE = "http://127.0.0.1:1";

interface Bed {
  store: SqliteStore;
  replies: string[];
  redacted: string[];
  notices: string[];
  clock: { now: number };
  commands(timeoutMs?: number): AccountCommands;
  ctx(eventId: string): CommandContext;
}

function bed(t: TestContext): Bed {
  const store = openStore({ path: ":memory:" });
  t.after(() => store.close());
  const replies: string[] = [];
  const redacted: string[] = [];
  const notices: string[] = [];
  const clock = { now: 1_000_000 };
  const made: AccountCommands[] = [];
  t.after(() => made.forEach((c) => c.stop()));
  return {
    store,
    replies,
    redacted,
    notices,
    clock,
    commands: (timeoutMs) => {
      const c = new AccountCommands({
        endpoints: {
          login: NOWHERE,
          api: NOWHERE,
          skype_login: NOWHERE,
          abch: NOWHERE,
          activesync: NOWHERE,
          msnp: "127.0.0.1:1",
          msnpTls: false,
        },
        sessions: { get: () => undefined } as unknown as SessionManager,
        store,
        redact: (_room, eventId) => {
          redacted.push(eventId);
          return Promise.resolve();
        },
        isCommand: (name) => ["help", "login", "cancel", "whoami"].includes(name),
        notice: (_room, text) => {
          notices.push(text);
          return Promise.resolve();
        },
        now: () => clock.now,
        ...(timeoutMs === undefined ? {} : { loginTimeoutMs: timeoutMs }),
      });
      made.push(c);
      return c;
    },
    ctx: (eventId) => ({
      sender: ALICE,
      roomId: ROOM,
      eventId,
      isAdmin: false,
      reply: (text) => {
        replies.push(text);
        return Promise.resolve();
      },
    }),
  };
}

async function runLogin(c: AccountCommands, b: Bed, args: string[]): Promise<void> {
  const login = c.commands().find((x) => x.name === "login")!;
  await login.run(b.ctx("$login"), args);
}

void test("after a restart the password a login waited for is still taken as the password, never as a command", async (t) => {
  const b = bed(t);
  await runLogin(b.commands(), b, ["alice@hotmail.co.uk"]);
  assert.match(b.replies[0]!, /^Send the password of alice@hotmail\.co\.uk/);
  // A new process (the bridge restarted, or the inbox replays the message after a crash).
  const again = b.commands();
  assert.equal(await again.intercept(b.ctx("$pw"), "hunter2"), true, "the message is consumed");
  assert.deepEqual(b.redacted, ["$pw"]);
  const last = b.replies.at(-1)!;
  assert.match(last, /^Login failed: the Skype sign-in servers could not be reached/);
  assert.ok(
    b.replies.every((r) => !r.includes("hunter2")),
    "no reply quotes the password",
  );
  // The login is over: a later message is a command again.
  assert.equal(await again.intercept(b.ctx("$next"), "whoami"), false);
});

void test("the record of a waiting login holds no secret", async (t) => {
  const b = bed(t);
  await runLogin(b.commands(), b, ["alice@hotmail.co.uk"]);
  const raw = b.store.meta.get(`login.pending.${ALICE}`)!;
  assert.deepEqual(Object.keys(JSON.parse(raw) as object).sort(), ["email", "expiresTs", "flow", "roomId"]);
});

void test("an expired login lets a command through and removes anything else as a late secret", async (t) => {
  const b = bed(t);
  const c = b.commands();
  await runLogin(c, b, ["alice@hotmail.co.uk"]);
  b.clock.now += 10 * 60_000;
  assert.equal(await c.intercept(b.ctx("$cmd"), "help"), false, "a command is not swallowed");
  await runLogin(c, b, ["alice@hotmail.co.uk"]);
  b.clock.now += 10 * 60_000;
  assert.equal(await c.intercept(b.ctx("$late"), "hunter2"), true);
  assert.deepEqual(b.redacted, ["$late"]);
  assert.match(b.replies.at(-1)!, /^That looked like an answer to a login that had timed out/);
  assert.ok(b.replies.every((r) => !r.includes("hunter2")));
  assert.equal(b.store.meta.get(`login.pending.${ALICE}`), undefined);
});

void test("a login that times out says so in the room", async (t) => {
  const b = bed(t);
  const c = b.commands(20);
  await runLogin(c, b, []);
  assert.match(b.replies[0]!, /^Open this address and sign in/);
  b.clock.now += 1000;
  const deadline = Date.now() + 5000;
  while (b.notices.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.deepEqual(b.notices, ["The login timed out. Send `login` to start again."]);
});

void test("cancel ends a waiting login; forget drops it when the room stops being private", async (t) => {
  const b = bed(t);
  const c = b.commands();
  await runLogin(c, b, ["alice@hotmail.co.uk"]);
  assert.equal(await c.intercept(b.ctx("$c"), "cancel"), false, "cancel is a command");
  const cancel = c.commands().find((x) => x.name === "cancel")!;
  await cancel.run(b.ctx("$c"), []);
  assert.equal(b.replies.at(-1), "Login cancelled.");
  await runLogin(c, b, ["alice@hotmail.co.uk"]);
  c.forget(ALICE);
  assert.equal(await c.intercept(b.ctx("$x"), "whoami"), false);
  assert.deepEqual(b.redacted, []);
});
