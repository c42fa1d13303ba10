// SPDX-License-Identifier: Apache-2.0
/**
 * Metrics and health against a real Synapse, the bridge process and the reference server: with
 * `metrics.enabled`, `GET /metrics` on the appservice port answers in the Prometheus text format
 * (parsed strictly), and after a message each way, a dropped Skype connection and the bridge's
 * Matrix calls, the counters have moved; `/health` and `/ready` answer JSON.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";
import { parsePrometheus, sampleValue, type Exposition } from "../unit/bridge/metrics/prom-text.js";

const ALICE = "alice@hotmail.co.uk";
const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";

describe("metrics and health", () => {
  let env: E2EEnv;
  let human: HumanClient;
  let dm: string;

  const get = async (path: string): Promise<{ status: number; type: string; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${env.bridgePort}${path}`);
    return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
  };
  const scrape = async (): Promise<Exposition> => {
    const res = await get("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain/);
    return parsePrometheus(res.body);
  };
  /** Scrapes until `check` passes (counters move asynchronously); returns that scrape. */
  const scrapeUntil = (what: string, check: (exp: Exposition) => boolean): Promise<Exposition> =>
    waitFor(
      async () => {
        const exp = await scrape();
        return check(exp) ? exp : undefined;
      },
      { timeoutMs: 30_000, what },
    );
  const messages = (exp: Exposition, direction: string, outcome: string): number =>
    sampleValue(exp, "bridge_messages_total", { direction, outcome }) ?? 0;

  before(async () => {
    env = await E2EEnv.create({ config: { metrics: { enabled: true } } });
    human = await env.human("alice");
  });
  after(async () => {
    await env?.close();
  });

  test("/health and /ready answer JSON; the bridge is ready once Synapse answers and sessions started", async () => {
    const health = await get("/health");
    assert.equal(health.status, 200);
    assert.match(health.type, /^application\/json/);
    assert.equal((JSON.parse(health.body) as { status: string }).status, "ok");
    const ready = await waitFor(
      async () => {
        const r = await get("/ready");
        return r.status === 200 ? r : undefined;
      },
      { what: "/ready to answer 200" },
    );
    assert.deepEqual(JSON.parse(ready.body), {
      status: "ready",
      checks: { store: "ok", homeserver: "ok", sessions: "ok" },
    });
  });

  test("a message each way moves the counters and the latency histograms", async () => {
    const baseline = await scrape();
    assert.equal(sampleValue(baseline, "bridge_sessions", { state: "connected" }), 0);
    assert.equal(messages(baseline, "skype_to_matrix", "delivered"), 0);
    assert.equal(baseline.types.get("bridge_app_version"), "counter");

    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    ({ room: dm } = await env.dmFromContact(human, {
      from: BOB,
      to: ALICE_SKYPE,
      text: "Hi Alice, it's Bob",
      senderPattern: /bob/,
    }));
    const sent = env.skype.msnp.receivedMessages({ user: ALICE }).length;
    await human.sendMessage(dm, { msgtype: "m.text", body: "Hi Bob" });
    await waitFor(
      () => env.skype.msnp.receivedMessages({ user: ALICE }).some((m, i) => i >= sent && m.body === "Hi Bob"),
      { what: "Skype to receive the Matrix message" },
    );

    const exp = await scrapeUntil(
      "both directions counted as delivered",
      (e) =>
        messages(e, "skype_to_matrix", "delivered") >= 1 && messages(e, "matrix_to_skype", "delivered") >= 1,
    );
    assert.equal(messages(exp, "skype_to_matrix", "failed"), 0);
    assert.equal(messages(exp, "matrix_to_skype", "failed"), 0);
    for (const direction of ["skype_to_matrix", "matrix_to_skype"]) {
      const count = sampleValue(exp, "bridge_message_delivery_seconds_count", { direction }) ?? 0;
      assert.ok(count >= 1, `${direction} latency observed`);
      const inf = sampleValue(exp, "bridge_message_delivery_seconds_bucket", { direction, le: "+Inf" });
      assert.equal(inf, count);
    }
    assert.equal(sampleValue(exp, "bridge_sessions", { state: "connected" }), 1);
    const sends = { method: "PUT", endpoint: "/rooms/{}/send/{}/{}", outcome: "ok" };
    assert.ok((sampleValue(exp, "bridge_matrix_requests_total", sends) ?? 0) >= 1, "puppet sends counted");
    assert.ok((sampleValue(exp, "bridge_matrix_configured_rooms") ?? 0) >= 1, "the DM portal counted");
    assert.ok((sampleValue(exp, "bridge_matrix_ghosts") ?? 0) >= 1, "bob's puppet counted");
    assert.equal(sampleValue(exp, "bridge_remote_ghosts"), 1);
    assert.equal(sampleValue(exp, "bridge_outbox_depth"), 0);
    assert.equal(sampleValue(exp, "bridge_inbox_depth"), 0);
  });

  test("a dropped Skype connection counts as one reconnect", async () => {
    const earlier = sampleValue(await scrape(), "bridge_skype_reconnects_total") ?? 0;
    env.skype.msnp.dropUser({ user: ALICE });
    const exp = await scrapeUntil(
      "the reconnect to be counted",
      (e) => (sampleValue(e, "bridge_skype_reconnects_total") ?? 0) > earlier,
    );
    assert.equal(sampleValue(exp, "bridge_skype_reconnects_total"), earlier + 1);
    await scrapeUntil("the session to be connected again", (e) => {
      return sampleValue(e, "bridge_sessions", { state: "connected" }) === 1;
    });
  });
});
