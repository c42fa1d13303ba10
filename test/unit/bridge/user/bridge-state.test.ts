// SPDX-License-Identifier: Apache-2.0
/** Bridge state: bridgev2's names and JSON, and the push to the status endpoint. */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { bridgeStateOf, stateEventOf, type BridgeState } from "../../../../src/bridge/user/bridge-state.js";
import { StatusPush } from "../../../../src/bridge/user/status-push.js";
import { codeHtml, noticeContent } from "../../../../src/bridge/user/reply-format.js";
import { SkypeError } from "../../../../src/skype/errors.js";
import type { UserRow } from "../../../../src/store/types.js";

const row = (patch: Partial<UserRow> = {}): UserRow => ({
  mxid: "@alice:x",
  managementRoomId: null,
  accountEmail: "alice@hotmail.co.uk",
  skypeName: "live:alice_1",
  liveMri: "1:alice@hotmail.co.uk",
  skypeMri: "8:live:alice_1",
  epid: null,
  loginState: "connected",
  stateDetail: null,
  hasRefreshToken: true,
  contactSyncState: null,
  createdTs: 0,
  updatedTs: 0,
  ...patch,
});

void test("session states map to bridgev2's state events; without a session the store decides", () => {
  assert.equal(stateEventOf({ kind: "connecting" }, row()), "CONNECTING");
  assert.equal(stateEventOf({ kind: "connected" }, row()), "CONNECTED");
  assert.equal(stateEventOf({ kind: "transient_disconnect", retryAt: 0 }, row()), "TRANSIENT_DISCONNECT");
  assert.equal(stateEventOf({ kind: "bad_credentials" }, row()), "BAD_CREDENTIALS");
  assert.equal(stateEventOf({ kind: "logged_out", reason: "logout" }, row()), "LOGGED_OUT");
  assert.equal(stateEventOf(undefined, undefined), "LOGGED_OUT");
  assert.equal(stateEventOf(undefined, row({ hasRefreshToken: false })), "LOGGED_OUT");
  assert.equal(stateEventOf(undefined, row({ loginState: "bad_credentials" })), "BAD_CREDENTIALS");
  assert.equal(stateEventOf(undefined, row()), "UNKNOWN_ERROR");
});

void test("the JSON has bridgev2's fields; errors carry a stable code, a sentence and the shorter TTL", () => {
  const ok = bridgeStateOf("@alice:x", { kind: "connected" }, row(), 1_700_000_000_500, "Alice Liddell");
  assert.deepEqual(ok, {
    state_event: "CONNECTED",
    timestamp: 1_700_000_000,
    ttl: 21600,
    source: "bridge",
    message: "Connected to Skype as live:alice_1.",
    user_id: "@alice:x",
    remote_id: "8:live:alice_1",
    remote_name: "live:alice_1",
    remote_profile: { email: "alice@hotmail.co.uk", username: "live:alice_1", name: "Alice Liddell" },
  });
  const bad = bridgeStateOf(
    "@alice:x",
    { kind: "bad_credentials", error: new SkypeError("SKYPE_BAD_CREDENTIALS", "refused", false) },
    row(),
    0,
  );
  assert.equal(bad.error, "SKYPE_BAD_CREDENTIALS");
  assert.equal(bad.ttl, 3600);
  assert.equal(bad.user_action, "RELOGIN");
  assert.match(bad.message ?? "", /no longer accepts your sign-in/);
  const out = bridgeStateOf(
    "@alice:x",
    { kind: "logged_out", reason: "logout" },
    row({ skypeMri: null, liveMri: null }),
    0,
  );
  assert.equal(out.error, undefined);
  assert.equal(out.reason, "logout");
  assert.equal(out.remote_id, undefined);
});

interface Received {
  auth: string | undefined;
  body: BridgeState;
}

async function endpoint(t: TestContext, failFirst = 0): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  let failures = failFirst;
  const server = createServer((req: IncomingMessage, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      got.push({ auth: req.headers.authorization, body: JSON.parse(data) as BridgeState });
      res.writeHead(200).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`, got };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const state = (event: BridgeState["state_event"], user = "@alice:x"): BridgeState => ({
  state_event: event,
  timestamp: Math.floor(Date.now() / 1000),
  ttl: 21600,
  source: "bridge",
  user_id: user,
});

void test("states are POSTed with the appservice token; CONNECTING and repeats are not sent", async (t) => {
  const { url, got } = await endpoint(t);
  const push = new StatusPush({ endpoint: url, token: "as-token" });
  t.after(() => push.stop());
  push.push(state("CONNECTING"));
  push.push(state("CONNECTED"));
  await until(() => got.length === 1, "the first state");
  push.push(state("CONNECTED"));
  push.push(state("LOGGED_OUT"));
  await until(() => got.length === 2, "the second state");
  // A later state of another user is a positive signal that the queue moved on.
  push.push(state("CONNECTED", "@bob:x"));
  await until(() => got.length === 3, "bob's state");
  assert.deepEqual(
    got.map((g) => [g.auth, g.body.user_id, g.body.state_event]),
    [
      ["Bearer as-token", "@alice:x", "CONNECTED"],
      ["Bearer as-token", "@alice:x", "LOGGED_OUT"],
      ["Bearer as-token", "@bob:x", "CONNECTED"],
    ],
  );
});

void test("a refused POST is retried, and only the newest state of a user is sent", async (t) => {
  const { url, got } = await endpoint(t, 2);
  const push = new StatusPush({ endpoint: url, token: "as-token", retryMs: 5 });
  t.after(() => push.stop());
  push.push(state("TRANSIENT_DISCONNECT"));
  push.push(state("CONNECTED"));
  await until(() => got.length >= 1, "a state to get through");
  assert.equal(got.at(-1)!.body.state_event, "CONNECTED");
});

void test("replies that name commands get an HTML version with <code>, never literal backticks", () => {
  assert.equal(
    codeHtml("Send `login <e-mail>` or `login`.\nThen wait."),
    "Send <code>login &lt;e-mail&gt;</code> or <code>login</code>.<br>Then wait.",
  );
  assert.deepEqual(noticeContent("plain"), { msgtype: "m.notice", body: "plain" });
  assert.deepEqual(noticeContent("Send `help`", undefined, "m.text"), {
    msgtype: "m.text",
    body: "Send `help`",
    format: "org.matrix.custom.html",
    formatted_body: "Send <code>help</code>",
  });
  assert.equal(noticeContent("x", "<b>x</b>").formatted_body, "<b>x</b>");
});
