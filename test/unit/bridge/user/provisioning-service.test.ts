// SPDX-License-Identifier: Apache-2.0
/**
 * The provisioning API's switch and its wiring on an express app: off without a secret or with a
 * short one (saying why), JSON errors for bad tokens, the library's rate limit in front of auth.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import express from "express";
import { ProvisioningService } from "../../../../src/bridge/provisioning/api.js";
import type { ProvisioningDeps } from "../../../../src/bridge/provisioning/types.js";
import { parseConfig } from "../../../../src/config/index.js";
import { setLogWriter } from "../../../../src/util/logger.js";

const SECRET = "0123456789abcdef-provisioning";

function deps(provisioning: Record<string, unknown> | undefined): ProvisioningDeps {
  const config = parseConfig(
    JSON.stringify({
      homeserver: { url: "http://127.0.0.1:8008", domain: "localhost" },
      appservice: { url: "http://127.0.0.1:29330" },
      skype: {
        endpoints: {
          login: "http://127.0.0.1:1",
          api: "http://127.0.0.1:1",
          skype_login: "http://127.0.0.1:1",
          abch: "http://127.0.0.1:1",
          activesync: "http://127.0.0.1:1",
          msnp: "127.0.0.1:1",
        },
      },
      permissions: { localhost: "user" },
      ...(provisioning ? { provisioning } : {}),
    }),
    { SKYPE_BRIDGE_TOKEN_KEY: "a passphrase for the unit tests" },
  );
  return {
    config,
    store: { users: { get: () => undefined } },
    sessions: { get: () => undefined },
    bridge: { botUserId: "@skypebot:localhost" },
    states: {},
    endpoints: {},
    permission: (mxid: string) => (mxid.endsWith(":localhost") ? "user" : "none"),
  } as unknown as ProvisioningDeps;
}

function logLines(t: TestContext): string[] {
  const lines: string[] = [];
  t.after(setLogWriter((l) => lines.push(l)));
  return lines;
}

async function serve(t: TestContext, service: ProvisioningService): Promise<string> {
  const app = express();
  app.use(express.json());
  service.mount(app);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/_matrix/provision`;
}

async function get(url: string, auth?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, auth ? { headers: { authorization: `Bearer ${auth}` } } : {});
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

void test("off without a secret, and off with a short one, with a log line saying why", (t) => {
  const lines = logLines(t);
  assert.equal(ProvisioningService.fromConfig(deps(undefined)), undefined);
  assert.ok(lines.some((l) => l.includes("provisioning API off (no provisioning.shared_secret")));
  assert.equal(ProvisioningService.fromConfig(deps({ shared_secret: "short" })), undefined);
  assert.ok(lines.some((l) => l.includes("provisioning.shared_secret is shorter than 16 characters")));
  assert.ok(ProvisioningService.fromConfig(deps({ shared_secret: SECRET })));
});

void test("tokens: missing, wrong, a session token nobody issued, the secret for a user and for a stranger", async (t) => {
  logLines(t);
  const base = await serve(t, ProvisioningService.fromConfig(deps({ shared_secret: SECRET }))!);
  assert.deepEqual(await get(`${base}/v3/whoami`), {
    status: 401,
    body: { errcode: "M_MISSING_TOKEN", error: "Missing auth token" },
  });
  for (const wrong of [`${SECRET}x`, SECRET.slice(1), "skype-provision-session-abc"]) {
    assert.deepEqual(await get(`${base}/v3/whoami?user_id=@a:localhost`, wrong), {
      status: 401,
      body: { errcode: "M_UNKNOWN_TOKEN", error: "Invalid auth token" },
    });
  }
  const ok = await get(`${base}/v3/whoami?user_id=@a:localhost`, SECRET);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.bridge_bot, "@skypebot:localhost");
  const stranger = await get(`${base}/v3/whoami?user_id=@a:elsewhere.org`, SECRET);
  assert.deepEqual(stranger, {
    status: 403,
    body: { errcode: "M_FORBIDDEN", error: "This user is not allowed to use this bridge" },
  });
  assert.deepEqual(await get(`${base}/v3/nowhere?user_id=@a:localhost`, SECRET), {
    status: 404,
    body: { errcode: "M_UNRECOGNIZED", error: "Unrecognized endpoint" },
  });
});

void test("the rate limit answers 429 before any token is checked; OpenID can be turned off", async (t) => {
  logLines(t);
  const service = ProvisioningService.fromConfig(
    deps({ shared_secret: SECRET, rate_limit_per_minute: 2, allow_matrix_auth: false }),
  )!;
  const base = await serve(t, service);
  assert.equal((await get(`${base}/v3/login/flows?user_id=@a:localhost`, SECRET)).status, 200);
  assert.equal((await get(`${base}/v3/login/flows?user_id=@a:localhost`, "guess")).status, 401);
  const limited = await get(`${base}/v3/login/flows?user_id=@a:localhost`, "another-guess");
  assert.equal(limited.status, 429);
  assert.equal(limited.body.errcode, "M_AS_LIMIT_EXCEEDED");
  const res = await fetch(`${base}/v1/exchange_openid`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ openIdToken: "x", matrixServer: "localhost" }),
  });
  assert.equal(res.status, 403);
});
