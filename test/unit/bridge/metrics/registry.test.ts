// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's metric registry: what each hook counts, what the scrape-time gauges read (and that
 * they fall back to 0), and the library's bridge gauges with its two bugs worked around.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { PrometheusMetrics, type Bridge as LibBridge } from "matrix-appservice-bridge";
import { libraryMetrics } from "../../../../src/bridge/metrics/library.js";
import { BridgeMetrics, endpointOf } from "../../../../src/bridge/metrics/registry.js";
import type { Session, SessionEvents, SessionState } from "../../../../src/sessions/types.js";
import { ALICE, DM_ROOM, GROUP_ROOM, seededStore } from "../portal/from-matrix/fakes.js";
import { parsePrometheus, sampleValue, type Exposition } from "./prom-text.js";

class FakeSession extends EventEmitter<SessionEvents> {
  state: SessionState = { kind: "connecting" };
  constructor(readonly mxid: string) {
    super();
  }
  contacts(): { identities: string[] }[] {
    return [];
  }
  set(state: SessionState): void {
    this.state = state;
    this.emit("state", state);
  }
}

async function scrape(metrics: BridgeMetrics, prom?: PrometheusMetrics): Promise<Exposition> {
  await prom?.refresh();
  return parsePrometheus(await metrics.registry.metrics());
}

const messages = (direction: string, outcome: string) => ({ direction, outcome });

void test("message hooks count by direction and outcome and time the delivery", async (t) => {
  const store = seededStore(t);
  let now = 1_000_000;
  const metrics = new BridgeMetrics({ store, sessions: { all: () => [] } }, () => now);
  const routed: string[] = [];
  const route = metrics.timed((conversation) => routed.push(conversation));
  const event = { conversation: "8:live:bob_1" };
  route("8:live:bob_1", { kind: "message", event } as never);
  assert.deepEqual(routed, ["8:live:bob_1"]);
  now += 250;
  metrics.skypeDelivered(event);
  metrics.skypeFailed({ kind: "message", event: {} } as never, { statusCode: 413 });
  metrics.skypeFailed({ kind: "edit", event: {} } as never, new Error("database closed"));
  metrics.skypeFailed({ kind: "threadActivity", event: {} } as never, new Error("not a message"));

  store.inbox.accept("t1", [{ eventId: "$m1", roomId: DM_ROOM, event: { type: "m.room.message" } }]);
  const received = store.inbox.get("$m1")!.receivedTs;
  now = received + 1500;
  metrics.matrixToSkype({ eventId: "$m1", createdTs: received + 10 }, "delivered");
  metrics.matrixToSkype({ eventId: "$gone", createdTs: now - 3000 }, "delivered");
  metrics.matrixToSkype({ eventId: "$m2", createdTs: now }, "refused");
  metrics.matrixToSkype({ eventId: "$m3", createdTs: now }, "failed");

  const exp = await scrape(metrics);
  const v = (name: string, labels: Record<string, string>) => sampleValue(exp, name, labels);
  assert.equal(v("bridge_messages_total", messages("skype_to_matrix", "delivered")), 1);
  assert.equal(v("bridge_messages_total", messages("skype_to_matrix", "refused")), 1);
  assert.equal(v("bridge_messages_total", messages("skype_to_matrix", "failed")), 1);
  assert.equal(v("bridge_messages_total", messages("matrix_to_skype", "delivered")), 2);
  assert.equal(v("bridge_messages_total", messages("matrix_to_skype", "refused")), 1);
  assert.equal(v("bridge_messages_total", messages("matrix_to_skype", "failed")), 1);
  const s2m = { direction: "skype_to_matrix" };
  assert.equal(v("bridge_message_delivery_seconds_count", s2m), 1);
  assert.equal(v("bridge_message_delivery_seconds_sum", s2m), 0.25);
  const m2s = { direction: "matrix_to_skype" };
  assert.equal(v("bridge_message_delivery_seconds_count", m2s), 2);
  // From the inbox's arrival (1.5 s), and from the outbox entry's creation when the inbox row is gone (3 s).
  assert.equal(v("bridge_message_delivery_seconds_sum", m2s), 4.5);
  assert.equal(v("bridge_message_delivery_seconds_bucket", { ...m2s, le: "1" }), 0);
  assert.equal(v("bridge_message_delivery_seconds_bucket", { ...m2s, le: "2.5" }), 1);
  assert.equal(v("bridge_message_delivery_seconds_bucket", { ...m2s, le: "5" }), 2);
  assert.equal(exp.types.get("bridge_message_delivery_seconds"), "histogram");
});

void test("Matrix calls are counted by method, endpoint and outcome", async (t) => {
  const store = seededStore(t);
  const metrics = new BridgeMetrics({ store, sessions: { all: () => [] } });
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(DM_ROOM)}/send/m.room.message/txn1`;
  assert.equal(endpointOf(path), "/rooms/{}/send/{}/{}");
  assert.equal(endpointOf("/_matrix/client/v3/profile/%40a%3Ab/displayname"), "/profile/{}/displayname");
  assert.equal(await metrics.matrixCall("PUT", path, () => Promise.resolve("$e")), "$e");
  const refusal = Object.assign(new Error("forbidden"), { statusCode: 403 });
  await assert.rejects(
    metrics.matrixCall("PUT", path, () => Promise.reject(refusal)),
    refusal,
  );
  const down = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  await assert.rejects(
    metrics.matrixCall("GET", "/_matrix/client/v3/capabilities", () => Promise.reject(down)),
  );
  const exp = await scrape(metrics);
  const send = { method: "PUT", endpoint: "/rooms/{}/send/{}/{}" };
  assert.equal(sampleValue(exp, "bridge_matrix_requests_total", { ...send, outcome: "ok" }), 1);
  assert.equal(sampleValue(exp, "bridge_matrix_requests_total", { ...send, outcome: "rejected" }), 1);
  const caps = { method: "GET", endpoint: "/capabilities", outcome: "failed" };
  assert.equal(sampleValue(exp, "bridge_matrix_requests_total", caps), 1);
});

void test("sessions by state, reconnects, token events and queue depths; gauges drop back to 0", async (t) => {
  const store = seededStore(t);
  const a = new FakeSession(ALICE);
  const b = new FakeSession("@bob:example.org");
  const sessions = [a, b];
  const metrics = new BridgeMetrics({ store, sessions: { all: () => sessions as unknown as Session[] } });
  metrics.attach(a as unknown as Session);
  metrics.attach(b as unknown as Session);
  a.set({ kind: "connected" });
  a.set({ kind: "transient_disconnect", retryAt: 0 });
  a.set({ kind: "connecting" });
  a.set({ kind: "connected" });
  b.set({ kind: "connected" }); // a first connection is no reconnect
  b.set({ kind: "bad_credentials" });
  b.emit("refreshTokenStore", { saved: false });
  b.emit("refreshTokenStore", { saved: true });
  store.inbox.accept("t1", [
    { eventId: "$a", roomId: DM_ROOM, event: {} },
    { eventId: "$b", roomId: GROUP_ROOM, event: {} },
  ]);
  const payload = { kind: "text", body: "hi" };
  const entry = { receiver: ALICE, conversation: "8:live:bob_1", roomId: DM_ROOM, payload };
  store.outbox.enqueue({ ...entry, clientMessageId: "c1", eventId: "$a" });

  let exp = await scrape(metrics);
  assert.equal(sampleValue(exp, "bridge_sessions", { state: "connected" }), 1);
  assert.equal(sampleValue(exp, "bridge_sessions", { state: "bad_credentials" }), 1);
  assert.equal(sampleValue(exp, "bridge_sessions", { state: "logged_out" }), 0);
  assert.equal(sampleValue(exp, "bridge_skype_reconnects_total"), 1);
  assert.equal(sampleValue(exp, "bridge_token_refreshes_total", { outcome: "refused" }), 1);
  assert.equal(sampleValue(exp, "bridge_token_refreshes_total", { outcome: "not_stored" }), 1);
  assert.equal(sampleValue(exp, "bridge_token_refreshes_total", { outcome: "stored_after_failure" }), 1);
  assert.equal(sampleValue(exp, "bridge_inbox_depth"), 2);
  assert.equal(sampleValue(exp, "bridge_outbox_depth"), 1);

  sessions.length = 0;
  store.inbox.markDone("$a");
  store.inbox.markDone("$b");
  store.outbox.complete(store.outbox.getByEventId("$a")!.id);
  exp = await scrape(metrics);
  assert.equal(sampleValue(exp, "bridge_sessions", { state: "connected" }), 0);
  assert.equal(sampleValue(exp, "bridge_sessions", { state: "bad_credentials" }), 0);
  assert.equal(sampleValue(exp, "bridge_inbox_depth"), 0);
  assert.equal(sampleValue(exp, "bridge_outbox_depth"), 0);
});

void test("the library's bridge gauges count portals and puppets, and drop to 0", async (t) => {
  const store = seededStore(t);
  const sessions = [new FakeSession(ALICE)];
  const src = { store, sessions: { all: () => sessions as unknown as Session[] } };
  const metrics = new BridgeMetrics(src);
  let asked: unknown[] = [];
  const lib = {
    getPrometheusMetrics: (...args: unknown[]) => {
      asked = args;
      return new PrometheusMetrics(args[1] as never);
    },
  } as unknown as LibBridge;
  const prom = libraryMetrics(lib, metrics, src, false);
  assert.deepEqual(asked, [false, metrics.registry]);

  let exp = await scrape(metrics, prom);
  assert.equal(sampleValue(exp, "bridge_matrix_configured_rooms"), 2);
  assert.equal(sampleValue(exp, "bridge_remote_configured_rooms"), 2);
  assert.equal(sampleValue(exp, "bridge_matrix_ghosts"), 1); // bob's puppet (the library's own count is always 0)
  assert.equal(sampleValue(exp, "bridge_remote_ghosts"), 1);
  assert.equal(exp.types.get("bridge_app_version"), "counter");
  assert.ok(exp.types.has("process_cpu_user_seconds_total"), "Node's process metrics are there");

  // The library leaves a gauge at its old value when the count drops to 0; ours must not.
  store.portals.delete(DM_ROOM);
  store.portals.delete(GROUP_ROOM);
  sessions.length = 0;
  exp = await scrape(metrics, prom);
  assert.equal(sampleValue(exp, "bridge_matrix_configured_rooms"), 0);
  assert.equal(sampleValue(exp, "bridge_remote_configured_rooms"), 0);
  assert.equal(sampleValue(exp, "bridge_matrix_ghosts"), 0);
  assert.equal(sampleValue(exp, "bridge_remote_ghosts"), 0);
});
