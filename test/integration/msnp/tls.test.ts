// SPDX-License-Identifier: Apache-2.0
// The client over TLS (as the real service used on 443), against the reference server's TLS mode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "../refserver-msnp/tls-fixture.js";
import { next, online, startEnv, stateOf } from "./helpers.js";

test("over TLS the client signs in and chats with the echo contact", async (t) => {
  const env = await startEnv(t, { tls: { key: TEST_TLS_KEY, cert: TEST_TLS_CERT } });
  const alice = env.client("alice@hotmail.co.uk", { tls: true, tlsCa: TEST_TLS_CERT });
  await online(alice);
  const reply = next(alice, "message", (m) => m.sender === "8:echo123");
  alice.sendText("8:echo123", "over TLS ✓");
  const [m] = await reply;
  assert.equal(m.body, "over TLS ✓");
});

test("over TLS a server certificate nobody vouches for is refused (transient error, no crash)", async (t) => {
  const env = await startEnv(t, { tls: { key: TEST_TLS_KEY, cert: TEST_TLS_CERT } });
  const alice = env.client("alice@hotmail.co.uk", { tls: true });
  alice.start();
  const s = await stateOf(alice, "transient_disconnect");
  assert.ok(s.retryAt > 0);
});
