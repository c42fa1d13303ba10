// The contact refresher with scripted sources: coalescing, retry after failure, refused
// credentials, stopping; and session listeners that fail without harming anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ContactRefresher, type ContactRefreshHooks } from "../../../src/sessions/contact-refresh.js";
import type { ContactRequest } from "../../../src/sessions/types.js";
import { AuthError, SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";
import type { Contact } from "../../../src/skype/model.js";
import type { PendingRequest } from "../../../src/skype/soap/parse.js";
import { Logger } from "../../../src/util/logger.js";
import { nextEvent, startSessionEnv, stateOf, until } from "./helpers.js";
import { valuesUnder } from "../../helpers/object-graph.js";

const log = new Logger("test.refresh");
const BOB: Contact = { identities: ["1:bob@outlook.com", "8:live:bob_1"], displayName: "Bob" };

interface Script {
  contacts: Array<() => Promise<Contact[]>>;
  requests: Array<() => Promise<PendingRequest[]>>;
}

function fakes(script: Script) {
  const calls = { contacts: 0, requests: 0 };
  const out = {
    contacts: [] as Contact[][],
    routine: [] as boolean[],
    requests: [] as ContactRequest[][],
    persisted: 0,
    refused: [] as SkypeError[],
  };
  const next = <T>(list: Array<() => Promise<T>>, i: number): Promise<T> =>
    list[Math.min(i, list.length - 1)]!();
  const source = {
    syncAll: () => next(script.contacts, calls.contacts++),
    contacts: () => [] as Contact[],
  };
  const book = { findPendingRequests: () => next(script.requests, calls.requests++) };
  const hooks: ContactRefreshHooks = {
    contacts: (c, info) => {
      out.contacts.push(c);
      out.routine.push(info.routine);
    },
    requests: (r) => out.requests.push(r),
    persist: () => out.persisted++,
    badCredentials: (e) => out.refused.push(e),
  };
  return { calls, out, source, book, hooks };
}

const ok =
  <T>(v: T) =>
  () =>
    Promise.resolve(v);
const fail = (e: SkypeError) => () => Promise.reject(e);

test("calls during a run queue exactly one more run", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const f = fakes({
    contacts: [() => gate.then(() => [BOB]), ok([BOB])],
    requests: [ok([{ mri: "1:carol@live.com", displayName: "Carol", message: "hi" }])],
  });
  const r = new ContactRefresher(f.source, f.book, f.hooks, log);
  t.after(() => r.stop());
  const first = r.refresh("a");
  const second = r.refresh("b");
  const third = r.refresh("c");
  assert.equal(second, third, "one queued run serves every later caller");
  release();
  await Promise.all([first, second, third]);
  assert.equal(f.calls.contacts, 2);
  assert.equal(f.calls.requests, 2);
  assert.deepEqual(f.out.contacts, [[BOB], [BOB]]);
  assert.deepEqual(f.out.requests[0], [{ mri: "1:carol@live.com", displayName: "Carol", message: "hi" }]);
  assert.equal(f.out.persisted, 2, "saved once per run, after both reads");
  assert.deepEqual(r.contacts(), [BOB]);
});

test("a run is routine only when every caller was (connect, interval, retry); a change survives a failure", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const f = fakes({
    contacts: [
      ok([BOB]),
      () => gate.then(() => [BOB]),
      ok([BOB]),
      fail(new SkypeError(SkypeErrorCode.Network, "down", true)),
      ok([BOB]),
    ],
    requests: [ok([])],
  });
  const r = new ContactRefresher(f.source, f.book, f.hooks, log, { retryInitialMs: 5, retryMaxMs: 20 });
  t.after(() => r.stop());
  await r.refresh("connected");
  const running = r.refresh("interval");
  const queued = r.refresh("address book changed"); // joins a queued run: that run is a change
  release();
  await Promise.all([running, queued]);
  await r.refresh("requested").catch(() => undefined); // fails; the retry carries the change
  await until(() => f.out.contacts.length === 4, "the retried run");
  assert.deepEqual(f.out.routine, [true, true, false, false]);
});

test("a failure is reported to the caller, requests are still read, and a retry follows", async (t) => {
  const f = fakes({
    contacts: [fail(new SkypeError(SkypeErrorCode.Network, "down", true)), ok([BOB])],
    requests: [ok([])],
  });
  const r = new ContactRefresher(f.source, f.book, f.hooks, log, { retryInitialMs: 5, retryMaxMs: 20 });
  t.after(() => r.stop());
  await assert.rejects(r.refresh("first"), { code: "SKYPE_NETWORK" });
  assert.deepEqual(f.out.requests, [[]], "requests were read despite the contacts failure");
  await until(() => f.out.contacts.length === 1, "the retry");
  assert.deepEqual(f.out.contacts, [[BOB]]);
  assert.equal(f.out.refused.length, 0);
});

test("refused credentials: reported once, no retry, later calls refused", async () => {
  const f = fakes({
    contacts: [fail(new AuthError(SkypeErrorCode.BadCredentials, "invalid_grant"))],
    requests: [ok([])],
  });
  const r = new ContactRefresher(f.source, f.book, f.hooks, log, { retryInitialMs: 1 });
  await assert.rejects(r.refresh("x"), { code: "SKYPE_BAD_CREDENTIALS" });
  assert.equal(f.out.refused.length, 1);
  assert.equal(f.calls.requests, 0, "nothing else is tried with a dead sign-in");
  await assert.rejects(r.refresh("y"), { code: "SKYPE_BAD_CREDENTIALS" });
  assert.equal(f.calls.contacts, 1);
  r.trigger("z"); // never throws
});

test("the interval triggers refreshes until stopped", async () => {
  const f = fakes({ contacts: [ok([BOB])], requests: [ok([])] });
  const r = new ContactRefresher(f.source, f.book, f.hooks, log, { intervalMs: 5 });
  r.start();
  await until(() => f.calls.contacts >= 2, "two interval runs");
  r.stop();
  const n = f.calls.contacts;
  await assert.rejects(r.refresh("after stop"), { code: "SKYPE_NOT_CONNECTED" });
  assert.equal(f.calls.contacts, n);
});

test("listeners that throw or reject never crash the session", async (t) => {
  const env = await startSessionEnv(t);
  const manager = env.manager();
  const seen: string[] = [];
  manager.onSession((s) => {
    s.on("state", () => {
      throw new Error("sync listener failure");
    });
    // A listener that returns a rejecting promise, on purpose.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    s.on("contacts", async () => {
      await Promise.resolve();
      throw new Error("async listener failure");
    });
    s.on("contacts", (c) => seen.push(`contacts:${c.length}`));
  });
  manager.onSession(() => {
    throw new Error("onSession listener failure");
  });
  const alice = await manager.link(
    "@alice:example.org",
    await env.login("alice@hotmail.co.uk", "wonderland"),
  );
  await stateOf(alice, "connected");
  await until(() => seen.length > 0, "contacts");
  await until(
    () =>
      env.logLines.some(
        (l) => l.includes("a session listener failed") && l.includes("async listener failure"),
      ),
    "the rejection logged",
  );
  assert.ok(env.logLines.some((l) => l.includes("a session listener threw")));
  assert.ok(env.logLines.some((l) => l.includes("an onSession listener threw")));
  const again = nextEvent(alice, "contacts");
  await alice.resyncContacts();
  await again;
});

test("the sync bookkeeping is saved once a run read anything: after contacts alone, not after nothing", async (t) => {
  const f = fakes({
    contacts: [ok([BOB]), fail(new SkypeError(SkypeErrorCode.Network, "down", true))],
    requests: [fail(new SkypeError(SkypeErrorCode.Network, "down", true))],
  });
  const r = new ContactRefresher(f.source, f.book, f.hooks, log, { retryInitialMs: 60_000 });
  t.after(() => r.stop());
  await assert.rejects(r.refresh("sync"), { code: SkypeErrorCode.Network });
  assert.equal(f.out.persisted, 1, "the contacts were read: saved, although the requests failed");
  await assert.rejects(r.refresh("sync"), { code: SkypeErrorCode.Network });
  assert.equal(f.calls.requests, 2);
  assert.equal(f.out.persisted, 1, "nothing read: nothing saved");
});

test("stop aborts the run in flight; no abort controller is kept between runs", async (t) => {
  let signal: AbortSignal | undefined;
  const f = fakes({ contacts: [ok([BOB])], requests: [ok([])] });
  const source = {
    ...f.source,
    syncAll: (s?: AbortSignal) => {
      signal = s;
      return f.source.syncAll();
    },
  };
  const r = new ContactRefresher(source, f.book, f.hooks, log);
  t.after(() => r.stop());
  await r.refresh("first");
  assert.ok(signal && !signal.aborted);
  // Idle, the refresher holds no controller or signal (~1 KB per session when it did).
  const held = [...valuesUnder(r, 3)];
  assert.ok(!held.some((v) => v instanceof AbortController || v instanceof AbortSignal));

  let release!: () => void;
  const gate = new Promise<void>((res) => (release = res));
  const slow = { ...source, syncAll: (s?: AbortSignal) => ((signal = s), gate.then(() => [BOB])) };
  const r2 = new ContactRefresher(slow, f.book, f.hooks, log);
  signal = undefined;
  const running = r2.refresh("second");
  await until(() => signal !== undefined, "the run started");
  const inFlight = signal!;
  r2.stop();
  assert.ok(inFlight.aborted, "stopping aborts the run in flight");
  release();
  await running.catch(() => undefined);
});
