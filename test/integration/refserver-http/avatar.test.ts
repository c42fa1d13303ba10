// SPDX-License-Identifier: Apache-2.0
// Avatars on the reference server (PROFILE §7.6) over real sockets: GET {api}/users/{identity}/profile/avatar
// with a skypetoken, ETag and If-None-Match, 404 without one, and NFY MSGR\ABCH to the person's
// contacts when the control API changes or clears it.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { request } from "undici";
import { startReferenceServer, type RunningReferenceServer } from "../../../refserver/index.js";
import { signIn, type RawFrame, type Session } from "../refserver-msnp/raw-client.js";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]);

interface Env {
  server: RunningReferenceServer;
  token: string;
  control<T = Record<string, unknown>>(path: string, body: unknown): Promise<{ status: number; json: T }>;
  signIn(who: string): Promise<Session>;
}

async function start(t: TestContext): Promise<Env> {
  const server = await startReferenceServer();
  const sessions: Session[] = [];
  t.after(async () => {
    await Promise.all(sessions.map((s) => s.client.close()));
    await server.close();
  });
  const port = Number(server.msnpAddress.split(":")[1]);
  return {
    server,
    token: server.world.issueSkypetoken(server.world.mustFind("alice@hotmail.co.uk"), 600),
    async control<T>(path: string, body: unknown) {
      const r = await request(`${server.controlUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: r.statusCode, json: (await r.body.json()) as T };
    },
    async signIn(who) {
      const s = await signIn(server.world, port, who);
      sessions.push(s);
      return s;
    },
  };
}

async function avatar(env: Env, identity: string, headers: Record<string, string> = {}) {
  const r = await request(
    `${env.server.endpoints.api}/users/${encodeURIComponent(identity)}/profile/avatar`,
    {
      headers: { "x-skypetoken": env.token, ...headers },
    },
  );
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: r.headers, body };
}

const isAbch = (f: RawFrame): boolean => f.cmd === "NFY" && f.type === "MSGR\\ABCH";

test("GET /users/{identity}/profile/avatar: image with ETag, If-None-Match → 304, 404 without one, 401 without a token", async (t) => {
  const env = await start(t);
  // The fixture gives dave.lister an avatar.
  const dave = await avatar(env, "8:dave.lister");
  assert.equal(dave.status, 200);
  assert.equal(dave.headers["content-type"], "image/png");
  assert.deepEqual(dave.body, PNG);

  assert.equal((await avatar(env, "8:live:bob_1")).status, 404, "no avatar");
  assert.equal((await avatar(env, "8:nobody.here")).status, 404, "no person");

  const set = await env.control<{ etag: string }>("/http/avatar", {
    user: "bob@outlook.com",
    contentBase64: PNG.toString("base64"),
    mime: "image/png",
  });
  assert.equal(set.status, 200);
  const etag = set.json.etag;
  assert.match(etag, /^".+"$/);
  for (const id of ["8:live:bob_1", "1:bob@outlook.com"]) {
    const r = await avatar(env, id);
    assert.equal(r.status, 200, id);
    assert.equal(r.headers.etag, etag);
    assert.equal(r.headers["content-length"], String(PNG.length));
    assert.deepEqual(r.body, PNG);
  }
  const cached = await avatar(env, "8:live:bob_1", { "if-none-match": etag });
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0);
  assert.equal(cached.headers.etag, etag);
  // Authorization: skype_token works too; no or a bad token → 401.
  const viaAuth = await request(`${env.server.endpoints.api}/users/8%3Alive%3Abob_1/profile/avatar`, {
    headers: { authorization: `skype_token ${env.token}` },
  });
  await viaAuth.body.dump();
  assert.equal(viaAuth.statusCode, 200);
  const none = await request(`${env.server.endpoints.api}/users/8%3Alive%3Abob_1/profile/avatar`);
  await none.body.dump();
  assert.equal(none.statusCode, 401);
  assert.equal((await avatar(env, "8:live:bob_1", { "x-skypetoken": "nope" })).status, 401);

  // A change: a new ETag; the old one no longer matches.
  const changed = await env.control<{ etag: string }>("/http/avatar", {
    user: "bob@outlook.com",
    contentBase64: JPEG.toString("base64"),
  });
  assert.notEqual(changed.json.etag, etag);
  const r2 = await avatar(env, "8:live:bob_1", { "if-none-match": etag });
  assert.equal(r2.status, 200);
  assert.equal(r2.headers["content-type"], "image/jpeg");
  assert.equal(r2.headers.etag, changed.json.etag);

  // Cleared: 404.
  assert.equal((await env.control("/http/avatar/clear", { user: "bob@outlook.com" })).status, 200);
  assert.equal((await avatar(env, "8:live:bob_1")).status, 404);

  // Bad control input.
  assert.equal(
    (await env.control("/http/avatar", { user: "bob@outlook.com", contentBase64: "" })).status,
    400,
  );
  assert.equal(
    (await env.control("/http/avatar", { user: "bob@outlook.com", contentBase64: "%%" })).status,
    400,
  );
  assert.equal(
    (await env.control("/http/avatar", { user: "bob@outlook.com", contentBase64: "AA==", mime: "text/html" }))
      .status,
    400,
  );
  assert.equal((await env.control("/http/avatar", { user: "nobody@x", contentBase64: "AA==" })).status, 404);
  // The request log holds no skypetoken.
  const log = await request(`${env.server.controlUrl}/http/requests`);
  assert.ok(!(await log.body.text()).includes(env.token));
});

test("an avatar change sends NFY MSGR\\ABCH to the person's contacts, not to others", async (t) => {
  const env = await start(t);
  const alice = await env.signIn("alice@hotmail.co.uk");
  const carol = await env.signIn("carol@live.com");
  // Bob's contacts: alice (fixture). Carol is not one.
  await env.control("/http/avatar", { user: "bob@outlook.com", contentBase64: PNG.toString("base64") });
  const nfy = await alice.client.next(isAbch);
  assert.equal(nfy.trid, "0");
  assert.match(nfy.body, /ABCHInternal/);
  await carol.barrier();
  assert.equal(carol.client.frames.filter(isAbch).length, 0);

  await env.control("/http/avatar/clear", { user: "bob@outlook.com" });
  await alice.client.next(isAbch);
  await carol.barrier();
  assert.equal(carol.client.frames.filter(isAbch).length, 0);
});
