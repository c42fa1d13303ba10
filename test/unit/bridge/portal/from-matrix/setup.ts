// SPDX-License-Identifier: Apache-2.0
/** One Matrix → Skype bridge over fakes, for the unit tests (not a test file itself). */
import type { TestContext } from "node:test";
import { Bridge, type BridgeOptions } from "../../../../../src/bridge/bridge.js";
import type { RetryPolicy } from "../../../../../src/bridge/matrix/errors.js";
import type { DurableOutbox, OutboxOptions } from "../../../../../src/bridge/portal/outbox.js";
import { openStore, type SqliteStore } from "../../../../../src/store/index.js";
import { setLogWriter } from "../../../../../src/util/logger.js";
import { fakeContext, FakeMatrix, FakePortals, FakeSession, FakeSessions, KEY, seed } from "./fakes.js";

export interface Harness {
  store: SqliteStore;
  sessions: FakeSessions;
  matrix: FakeMatrix;
  portals: FakePortals;
  /** The bridge core as the Matrix → Skype side. */
  m2s: {
    onEvent(event: unknown): Promise<void>;
    onEphemeral(event: unknown): Promise<void>;
    drain(): Promise<void>;
    outbox: DurableOutbox;
  };
  session: FakeSession;
  /** Feeds events one by one, then waits until their sends settled. */
  feed(...events: Record<string, unknown>[]): Promise<void>;
  /** Waits until queued events, and the deliveries the test already settled, are handled. */
  settle(): Promise<void>;
  /** Log lines written during the test. */
  logs: string[];
}

export interface HarnessOptions {
  /** Database file (default in memory). */
  path?: string;
  /** Connect and finish catch-up at once (default true). */
  connected?: boolean;
  autoDeliver?: boolean;
  outbox?: OutboxOptions;
  /** Retries of Matrix calls, and the sleep every in-place retry uses (default: the bridge's). */
  retry?: RetryPolicy;
  /** SQLite busy timeout (default the store's); 0 makes a held lock fail at once. */
  busyTimeoutMs?: number;
}

/** A bridge with alice linked (DM with bob, one group) and her session attached. */
export function harness(t: TestContext, opts: HarnessOptions = {}): Harness {
  const logs: string[] = [];
  const restore = setLogWriter((l) => logs.push(l));
  t.after(restore);
  const store = openStore({
    path: opts.path ?? ":memory:",
    key: KEY,
    ...(opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs }),
  });
  t.after(() => store.close());
  seed(store);
  const sessions = new FakeSessions();
  const matrix = new FakeMatrix();
  const ctx = fakeContext(store, sessions, matrix);
  const portals = new FakePortals();
  const bridgeOpts: BridgeOptions = {};
  if (opts.outbox) bridgeOpts.outbox = opts.outbox;
  if (opts.retry) bridgeOpts.retry = opts.retry;
  const bridge = new Bridge(ctx, bridgeOpts);
  bridge.portals.adoptDmRoom = (receiver, roomId, puppet) => portals.adoptDmRoom(receiver, roomId, puppet);
  const m2s = {
    onEvent: (event: unknown) => bridge.handleMatrixEvent(event),
    onEphemeral: (event: unknown) => bridge.handleEphemeral(event),
    drain: () => bridge.drain(),
    outbox: bridge.outbox,
  };
  sessions.onSession((s) => bridge.outbox.attach(s));
  const session = new FakeSession();
  session.autoDeliver = opts.autoDeliver ?? true;
  sessions.add(session);
  if (opts.connected ?? true) session.connect();
  // Fakes answer in microtasks: after the queues drained, one macrotask turn settles every delivery
  // already resolved by the test and the bookkeeping (and notices) that follows it.
  const settle = async (): Promise<void> => {
    await m2s.drain();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    await m2s.drain();
  };
  return {
    store,
    sessions,
    matrix,
    portals,
    m2s,
    session,
    logs,
    settle,
    async feed(...events) {
      for (const e of events) await m2s.onEvent(e);
      await settle();
    },
  };
}
