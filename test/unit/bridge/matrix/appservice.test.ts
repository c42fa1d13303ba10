import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SkypeAppService,
  sameToken,
  type MatrixEventJson,
} from "../../../../src/bridge/matrix/appservice.js";
import { configureLogging, setLogWriter } from "../../../../src/util/logger.js";

async function withService(fn: (url: string, as: SkypeAppService) => Promise<void>): Promise<void> {
  const as = new SkypeAppService("hs-secret");
  await as.listen(0, "127.0.0.1", 10);
  const server = (as as unknown as { server: { address(): { port: number } } }).server;
  try {
    await fn(`http://127.0.0.1:${server.address().port}`, as);
  } finally {
    await as.close();
  }
}

function put(url: string, txn: string, body: unknown, token = "hs-secret"): Promise<Response> {
  return fetch(`${url}/_matrix/app/v1/transactions/${txn}`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

test("ephemeral events arrive under the stable and the unstable key", async () => {
  await withService(async (url, as) => {
    const seen: unknown[] = [];
    as.on("ephemeral", (e) => seen.push(e.type));
    assert.equal((await put(url, "1", { events: [], ephemeral: [{ type: "m.typing" }] })).status, 200);
    assert.equal(
      (await put(url, "2", { events: [], "de.sorunome.msc2409.ephemeral": [{ type: "m.receipt" }] })).status,
      200,
    );
    assert.deepEqual(seen, ["m.typing", "m.receipt"]);
  });
});

test("a wrong or missing token is refused", async () => {
  await withService(async (url) => {
    assert.equal((await put(url, "1", { events: [] }, "nope")).status, 403);
    const res = await fetch(`${url}/_matrix/app/v1/transactions/1`, { method: "PUT", body: "{}" });
    assert.equal(res.status, 401);
  });
});

test("events are dispatched only after the accept hook stored them; a failure asks Synapse to retry", async () => {
  await withService(async (url, as) => {
    const dispatched: string[] = [];
    as.on("event", (e: MatrixEventJson) => dispatched.push(String(e.event_id)));
    let fail = true;
    const seenTxns = new Set<string>();
    as.accept = (txn, events) => {
      if (fail) throw new Error("disk full");
      if (seenTxns.has(txn)) return [];
      seenTxns.add(txn);
      return events;
    };
    const body = { events: [{ event_id: "$a", type: "m.room.message" }] };
    assert.equal((await put(url, "t1", body)).status, 500);
    assert.deepEqual(dispatched, []);
    fail = false;
    assert.equal((await put(url, "t1", body)).status, 200);
    assert.equal((await put(url, "t1", body)).status, 200);
    assert.deepEqual(dispatched, ["$a"]);
  });
});

test("the MSC2659 ping route answers with the token and records the transaction id", async () => {
  await withService(async (url, as) => {
    const res = await fetch(`${url}/_matrix/app/v1/ping`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer hs-secret" },
      body: JSON.stringify({ transaction_id: "ping-1" }),
    });
    assert.equal(res.status, 200);
    assert.equal(as.lastPing, "ping-1");
  });
});

test("tokens are compared in constant time on every route, the library's query routes included", async () => {
  assert.equal(sameToken("hs-secret", "hs-secret"), true);
  for (const wrong of ["hs-secreT", "hs-secret ", "hs", "", "x".repeat(1000)]) {
    assert.equal(sameToken(wrong, "hs-secret"), false, wrong);
  }
  await withService(async (url) => {
    const query = (token?: string): Promise<Response> =>
      fetch(`${url}/_matrix/app/v1/users/${encodeURIComponent("@x:example.org")}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    // Our check (not the library's `!==`) answers these: 401 without a token, 403 with a wrong one.
    assert.equal((await query()).status, 401);
    assert.equal((await query("hs-secreX")).status, 403);
    assert.notEqual((await query("hs-secret")).status, 403);
  });
});

test("morgan's access log is replaced: one debug line per request, built only when debug is on", async () => {
  const lines: string[] = [];
  const restore = setLogWriter((line) => lines.push(line));
  try {
    await withService(async (url, as) => {
      const stack = (as.expressApp as unknown as { _router: { stack: { name: string }[] } })._router.stack;
      assert.equal(
        stack.some((l) => l.name === "logger"),
        false,
      );
      assert.equal(stack.filter((l) => l.name === "accessLog").length, 1);
      configureLogging({ level: "info" });
      assert.equal((await put(url, "10", { events: [] })).status, 200);
      assert.equal(lines.filter((l) => l.includes("appservice request")).length, 0);
      configureLogging({ level: "debug" });
      const res = await fetch(`${url}/_matrix/app/v1/transactions/11?access_token=hs-secret`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ events: [] }),
      });
      assert.equal(res.status, 200);
      const logged = await waitForLine(lines, "appservice request");
      assert.match(logged, /method=PUT path=\/_matrix\/app\/v1\/transactions\/11 status=200 ms=/);
      assert.doesNotMatch(logged, /hs-secret/);
    });
  } finally {
    configureLogging({ level: "info" });
    restore();
  }
});

async function waitForLine(lines: string[], text: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const found = lines.find((l) => l.includes(text));
    if (found) return found;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`no log line with ${text}`);
}
