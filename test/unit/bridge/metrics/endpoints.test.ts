// SPDX-License-Identifier: Apache-2.0
/**
 * `/health`, `/ready` and `/metrics` of a whole BridgeApp (in this process, with a stand-in
 * homeserver): on the appservice listener, on a metrics listener of their own, and with metrics
 * off. `/ready` answers 503 with the reason while the homeserver is down.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { BridgeApp } from "../../../../src/bridge/app.js";
import { generateRegistration } from "../../../../src/bridge/matrix/registration.js";
import type { Config } from "../../../../src/config/schema.js";
import { openStore } from "../../../../src/store/index.js";
import { installLibraryLogging, setLogWriter } from "../../../../src/util/logger.js";
import { freePort, waitFor } from "../../../e2e/harness/util.js";
import { KEY, testConfig } from "../portal/from-matrix/fakes.js";
import { parsePrometheus, sampleValue } from "./prom-text.js";

/** A homeserver that answers only `/_matrix/client/versions`, with `status`. */
async function standInHomeserver(t: TestContext): Promise<{ url: string; status: { code: number } }> {
  const status = { code: 200 };
  const server: Server = createServer((req, res) => {
    const ok = req.url === "/_matrix/client/versions" && status.code === 200;
    res.writeHead(req.url === "/_matrix/client/versions" ? status.code : 404, {
      "content-type": "application/json",
    });
    res.end(JSON.stringify(ok ? { versions: ["v1.11"] } : { errcode: "M_UNRECOGNIZED", error: "no" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, status };
}

/** Starts a BridgeApp with `metrics` over an empty store; returns its appservice port. */
async function startApp(t: TestContext, hsUrl: string, metrics: Config["metrics"]): Promise<number> {
  installLibraryLogging(); // the Matrix libraries' lines go to the (silenced) log too
  const restoreLog = setLogWriter(() => undefined);
  const store = openStore({ path: ":memory:", key: KEY });
  const base = testConfig();
  const config: Config = { ...base, homeserver: { ...base.homeserver, url: hsUrl }, metrics };
  const registration = generateRegistration({
    id: "skype",
    url: null,
    botLocalpart: "skypebot",
    domain: config.homeserver.domain,
    localpartTemplate: config.puppets.localpart_template,
  });
  const app = new BridgeApp({ config, registration, store, version: "1.2.3-test" });
  t.after(async () => {
    await app.stop();
    store.close();
    restoreLog();
  });
  await app.start(0);
  const as = app.matrix.bridge.appService as unknown as { server?: { address(): AddressInfo } };
  return as.server!.address().port;
}

async function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

async function assertHealthAndReady(port: number): Promise<void> {
  const health = await get(port, "/health");
  assert.equal(health.status, 200);
  assert.match(health.type, /^application\/json/);
  const body = JSON.parse(health.body) as { status: string; version: string; uptime_seconds: number };
  assert.equal(body.status, "ok");
  assert.equal(body.version, "1.2.3-test");
  const ready = await waitFor(
    async () => {
      const r = await get(port, "/ready");
      return r.status === 200 ? r : undefined;
    },
    { what: "/ready to answer 200" },
  );
  assert.deepEqual(JSON.parse(ready.body), {
    status: "ready",
    checks: { store: "ok", homeserver: "ok", sessions: "ok" },
  });
}

void test("on the appservice listener: /metrics in Prometheus format, /health, and /ready with its reason", async (t) => {
  const hs = await standInHomeserver(t);
  hs.status.code = 502;
  const port = await startApp(t, hs.url, { enabled: true, bind_address: "127.0.0.1" });

  const notReady = await get(port, "/ready");
  assert.equal(notReady.status, 503);
  const report = JSON.parse(notReady.body) as { status: string; reason: string; checks: { store: string } };
  assert.equal(report.status, "not ready");
  assert.equal(report.reason, "homeserver: the homeserver answered HTTP 502");
  assert.equal(report.checks.store, "ok");
  hs.status.code = 200;
  await assertHealthAndReady(port);

  const metrics = await get(port, "/metrics");
  assert.equal(metrics.status, 200);
  assert.match(metrics.type, /^text\/plain/);
  const exp = parsePrometheus(metrics.body);
  assert.equal(sampleValue(exp, "bridge_sessions", { state: "connected" }), 0);
  assert.equal(sampleValue(exp, "bridge_inbox_depth"), 0);
  assert.equal(sampleValue(exp, "bridge_matrix_configured_rooms"), 0);
  assert.equal(exp.types.get("bridge_app_version"), "counter");
  assert.equal(exp.types.get("bridge_messages_total"), "counter");
  assert.equal(exp.types.get("bridge_message_delivery_seconds"), "histogram");
});

void test("on a metrics port of its own: all three there, and no /metrics on the appservice listener", async (t) => {
  const hs = await standInHomeserver(t);
  const metricsPort = await freePort();
  const port = await startApp(t, hs.url, { enabled: true, port: metricsPort, bind_address: "127.0.0.1" });
  await assertHealthAndReady(port);
  await assertHealthAndReady(metricsPort);
  const metrics = await get(metricsPort, "/metrics");
  assert.equal(metrics.status, 200);
  assert.ok(parsePrometheus(metrics.body).types.has("bridge_outbox_depth"));
  assert.equal((await get(port, "/metrics")).status, 404);
  assert.equal((await get(metricsPort, "/elsewhere")).status, 404);
});

void test("metrics off (the default): no /metrics, but /health and /ready", async (t) => {
  const hs = await standInHomeserver(t);
  const port = await startApp(t, hs.url, { enabled: false, bind_address: "127.0.0.1" });
  await assertHealthAndReady(port);
  assert.equal((await get(port, "/metrics")).status, 404);
});
