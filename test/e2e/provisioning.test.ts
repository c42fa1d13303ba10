// SPDX-License-Identifier: Apache-2.0
/**
 * The provisioning API through a real Synapse: auth (shared secret with `user_id`, or a Matrix
 * OpenID token exchanged for a session token that acts only for its own user), a password login
 * driven to completion, the contact list, and `create_dm` making a portal the user is invited to.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { puppetMxid } from "../../src/bridge/ghosts/ids.js";
import { E2EEnv } from "./harness/env.js";
import type { HumanClient } from "./harness/human.js";
import { waitFor } from "./harness/util.js";

const SECRET = "a-provisioning-secret-for-the-tests-0123456789";

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe("the provisioning API against a real Synapse", () => {
  let env: E2EEnv;
  let alice: HumanClient;
  let bob: HumanClient;
  let base: string;
  let aliceToken: string;
  const dave = puppetMxid("skype_{id}", "8:dave.lister", "localhost");

  /** A request; `auth` is the Bearer token (none when undefined), `user` the user_id query. */
  async function call(
    method: "GET" | "POST",
    path: string,
    opts: { auth?: string; user?: string; body?: unknown } = {},
  ): Promise<Answer> {
    const url = new URL(`${base}${path}`);
    if (opts.user) url.searchParams.set("user_id", opts.user);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.auth !== undefined) headers.authorization = `Bearer ${opts.auth}`;
    const res = await fetch(url, {
      method,
      headers,
      ...(opts.body !== undefined || method === "POST" ? { body: JSON.stringify(opts.body ?? {}) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const asAlice = (method: "GET" | "POST", path: string, body?: unknown) =>
    call(method, path, { auth: SECRET, user: alice.mxid, body });

  before(async () => {
    env = await E2EEnv.create({
      config: { provisioning: { shared_secret: SECRET, rate_limit_per_minute: 10000 } },
    });
    base = `http://127.0.0.1:${env.bridgePort}/_matrix/provision`;
    alice = await env.human("alice");
    bob = await env.human("bob");
  });
  after(async () => {
    await env?.close();
  });

  test("requests without the secret, with a wrong one or without user_id are refused", async () => {
    assert.deepEqual(await call("GET", "/v3/whoami"), {
      status: 401,
      body: { errcode: "M_MISSING_TOKEN", error: "Missing auth token" },
    });
    assert.deepEqual(
      await call("GET", "/v3/whoami", { auth: "not-the-secret-at-all-0000", user: alice.mxid }),
      {
        status: 401,
        body: { errcode: "M_UNKNOWN_TOKEN", error: "Invalid auth token" },
      },
    );
    const noUser = await call("GET", "/v3/whoami", { auth: SECRET });
    assert.equal(noUser.status, 400);
    assert.equal(noUser.body.errcode, "M_MISSING_PARAM");
    const unknownRoute = await asAlice("GET", "/v3/nothing-here");
    assert.deepEqual(unknownRoute, {
      status: 404,
      body: { errcode: "M_UNRECOGNIZED", error: "Unrecognized endpoint" },
    });
    assert.ok(env.bridgeLines.some((l) => l.includes("provisioning API on")));
  });

  test("whoami and the login flows", async () => {
    const who = await asAlice("GET", "/v3/whoami");
    assert.equal(who.status, 200);
    assert.equal(who.body.bridge_bot, env.botUserId);
    assert.equal(who.body.homeserver, "localhost");
    assert.equal(who.body.command_prefix, "!skype");
    assert.deepEqual(who.body.logins, []);
    const flows = await asAlice("GET", "/v3/login/flows");
    assert.deepEqual(
      (flows.body.flows as { id: string }[]).map((f) => f.id),
      ["password", "browser"],
    );
    assert.equal((await asAlice("POST", "/v3/login/start/qr")).status, 404);
  });

  test("a password login driven to completion links the account", async () => {
    const start = await asAlice("POST", "/v3/login/start/password");
    assert.equal(start.status, 200);
    assert.equal(start.body.type, "user_input");
    assert.equal(start.body.step_id, "skype.credentials");
    const fields = (start.body.user_input as { fields: { id: string; type: string }[] }).fields;
    assert.deepEqual(
      fields.map((f) => [f.id, f.type]),
      [
        ["login", "email"],
        ["password", "password"],
      ],
    );
    const process = String(start.body.login_id);
    const step = `/v3/login/step/${process}/skype.credentials/user_input`;
    const wrong = await asAlice("POST", step, { login: "alice@hotmail.co.uk", password: "not-it" });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.errcode, "SKYPE_WRONG_PASSWORD");
    const done = await asAlice("POST", step, { login: "alice@hotmail.co.uk", password: "wonderland" });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.type, "complete");
    assert.deepEqual(done.body.complete, { user_login_id: "8:live:alice_1" });
    await waitFor(() => env.skypeOnline("8:live:alice_1"), { what: "alice's session", timeoutMs: 30_000 });
    assert.equal(
      (await asAlice("POST", step, { login: "x", password: "y" })).status,
      404,
      "the process is over",
    );
    const logins = await waitFor(
      async () => {
        const r = await asAlice("GET", "/v3/logins");
        const list = r.body.logins as { state: { state_event: string } }[];
        return list[0]?.state.state_event === "CONNECTED" ? r : undefined;
      },
      { what: "the login to show CONNECTED", intervalMs: 300 },
    );
    assert.deepEqual(logins.body.login_ids, ["8:live:alice_1"]);
    assert.ok(!env.bridgeLines.join("\n").includes("wonderland"), "no password in the log");
  });

  test("a cancelled login is gone", async () => {
    const start = await asAlice("POST", "/v3/login/start/browser");
    assert.equal(start.body.step_id, "skype.redirect");
    assert.match(String(start.body.instructions), /oauth20_authorize\.srf/);
    const id = String(start.body.login_id);
    assert.deepEqual(await asAlice("POST", `/v3/login/cancel/${id}`), { status: 200, body: {} });
    assert.equal(
      (await asAlice("POST", `/v3/login/step/${id}/skype.redirect/user_input`, { redirect_url: "x" })).status,
      404,
    );
  });

  test("contacts lists the Skype contacts with their puppets; resolve_identifier finds one", async () => {
    const contacts = await waitFor(
      async () => {
        const r = await asAlice("GET", "/v3/contacts");
        const list = r.body.contacts as unknown[] | undefined;
        return list?.length === 3 ? (list as Record<string, unknown>[]) : undefined;
      },
      { what: "three contacts", timeoutMs: 30_000, intervalMs: 500 },
    );
    const bobContact = contacts.find((c) => c.name === "Bob Builder")!;
    assert.deepEqual(bobContact.identifiers, ["mailto:bob@outlook.com", "skype:live:bob_1"]);
    assert.equal(bobContact.id, "8:live:bob_1");
    const daveContact = await asAlice("GET", "/v3/resolve_identifier/dave.lister");
    assert.equal(daveContact.status, 200);
    assert.equal(daveContact.body.mxid, dave);
    assert.equal(
      (await asAlice("GET", `/v3/resolve_identifier/${encodeURIComponent(dave)}`)).body.id,
      "8:dave.lister",
    );
    const none = await asAlice("GET", "/v3/resolve_identifier/nobody-here");
    assert.equal(none.status, 404);
    assert.equal(none.body.errcode, "M_NOT_FOUND");
    const bobNotLinked = await call("GET", "/v3/contacts", { auth: SECRET, user: bob.mxid });
    assert.deepEqual(bobNotLinked, {
      status: 400,
      body: { errcode: "FI.MAU.NOT_LOGGED_IN", error: "Not logged in" },
    });
  });

  test("create_dm makes a portal the user is invited to; asking again gives the same room", async () => {
    const created = await asAlice("POST", "/v3/create_dm/dave");
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const room = String(created.body.dm_room_mxid);
    assert.match(room, /^!/);
    await alice.waitForInvite((r, e) => r === room && e.sender === dave, "the invite to the new DM");
    const again = await asAlice("POST", "/v3/create_dm/dave.lister");
    assert.equal(again.status, 200);
    assert.equal(again.body.dm_room_mxid, room);
  });

  test("a Matrix OpenID token acts for its own user only", async () => {
    const openid = (await alice.doRequest(
      "POST",
      `/_matrix/client/v3/user/${encodeURIComponent(alice.mxid)}/openid/request_token`,
      null,
      {},
    )) as {
      access_token: string;
      matrix_server_name: string;
    };
    const exchanged = await call("POST", "/v1/exchange_openid", {
      body: { openIdToken: openid.access_token, matrixServer: openid.matrix_server_name },
    });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body.userId, alice.mxid);
    aliceToken = String(exchanged.body.token);
    const mine = await call("GET", "/v3/logins", { auth: aliceToken });
    assert.deepEqual(mine.body.login_ids, ["8:live:alice_1"]);
    const sameUser = await call("GET", "/v3/logins", { auth: aliceToken, user: alice.mxid });
    assert.equal(sameUser.status, 200);
    const other = await call("GET", "/v3/whoami", { auth: aliceToken, user: bob.mxid });
    assert.deepEqual(other, {
      status: 403,
      body: { errcode: "M_FORBIDDEN", error: "A Matrix token may only act for its own user" },
    });
    const otherLogout = await call("POST", "/v3/logout/all", { auth: aliceToken, user: bob.mxid });
    assert.equal(otherLogout.status, 403);
    // A token the homeserver does not know: the library answers with its own code.
    const bogus = await call("POST", "/v1/exchange_openid", {
      body: { openIdToken: "bogus", matrixServer: "localhost" },
    });
    assert.equal(bogus.body.errcode, "M_AS_BAD_OPENID");
    assert.equal(
      (await call("GET", "/v3/whoami", { auth: "skype-provision-session-0000" })).body.errcode,
      "M_UNKNOWN_TOKEN",
    );
  });

  test("logout unlinks the account; a second logout finds nothing", async () => {
    assert.equal((await asAlice("POST", "/v3/logout/8:live:bob_1")).status, 404, "not alice's login");
    assert.deepEqual(await call("POST", "/v3/logout/8:live:alice_1", { auth: aliceToken }), {
      status: 200,
      body: {},
    });
    await waitFor(() => !env.skypeOnline("8:live:alice_1"), { what: "alice's session to stop" });
    assert.deepEqual((await asAlice("GET", "/v3/logins")).body.login_ids, []);
    assert.equal((await asAlice("POST", "/v3/logout/all")).status, 404);
  });
});
