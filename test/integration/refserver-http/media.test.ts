// SPDX-License-Identifier: Apache-2.0
// The skypetoken (PROFILE §7.1) and the object service (§7.2) of the reference server, over real
// sockets: create, upload, status, download, access rules, readiness knobs and hostile input.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { request } from "undici";
import { startReferenceServer, type RunningReferenceServer } from "../../../refserver/index.js";
import { SCOPES } from "../../../refserver/world.js";

interface Env {
  server: RunningReferenceServer;
  api: string;
  ams: string;
  control<T = Record<string, unknown>>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }>;
  /** A fresh skypetoken for a person, through `POST /rps/skypetoken`. */
  skypetoken(who: string): Promise<string>;
}

async function start(t: TestContext): Promise<Env> {
  const server = await startReferenceServer();
  t.after(() => server.close());
  const env: Env = {
    server,
    api: server.endpoints.api,
    ams: server.endpoints.ams,
    async control<T>(method: "GET" | "POST", path: string, body?: unknown) {
      const r = await request(`${server.controlUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.statusCode, json: (await r.body.json()) as T };
    },
    async skypetoken(who) {
      const access = server.world.issueTokens(server.world.mustFind(who), SCOPES.skype).access_token;
      const r = await skypetokenRequest(env, access);
      assert.equal(r.status, 200);
      return (r.json as { skypetoken: string }).skypetoken;
    },
  };
  return env;
}

interface SkypetokenReply {
  skypetoken: string;
  expiresIn: number;
}

interface StatusReply {
  content_length: number;
  content_state: string;
  view_state: string;
  view_location: string;
  original_filename: string;
}

interface ObjectView {
  type: string;
  creator: string;
  filename: string | null;
  permissions: Record<string, string[]>;
  contentBase64: string;
  views: Record<string, { size: number } | undefined>;
}

async function skypetokenRequest(
  env: Env,
  accessToken: string | undefined,
): Promise<{ status: number; json: SkypetokenReply }> {
  const form = new URLSearchParams({ scopes: "client", clientVersion: "0/6.16.0.105/259/", partner: "999" });
  if (accessToken !== undefined) form.set("access_token", accessToken);
  const r = await request(`${env.api}/rps/skypetoken`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text.startsWith("{") ? JSON.parse(text) : {}) as SkypetokenReply };
}

type Auth = string | { header: string; value: string } | null;

function authHeaders(auth: Auth): Record<string, string> {
  if (auth === null) return {};
  if (typeof auth === "string") return { authorization: `skype_token ${auth}` };
  return { [auth.header]: auth.value };
}

async function createObject(
  env: Env,
  auth: Auth,
  body: unknown,
): Promise<{ status: number; json: { id: string } }> {
  const r = await request(`${env.ams}/v1/objects`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authHeaders(auth) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text.startsWith("{") ? JSON.parse(text) : {}) as { id: string } };
}

async function upload(env: Env, auth: Auth, id: string, slot: string, bytes: Buffer, contentType?: string) {
  const r = await request(`${env.ams}/v1/objects/${id}/content/${slot}`, {
    method: "PUT",
    headers: { "content-type": contentType ?? "application/octet-stream", ...authHeaders(auth) },
    body: bytes,
  });
  await r.body.dump();
  return r.statusCode;
}

async function status(
  env: Env,
  auth: Auth,
  id: string,
  view: string,
): Promise<{ status: number; json: StatusReply }> {
  const r = await request(`${env.ams}/v1/objects/${id}/views/${view}/status`, { headers: authHeaders(auth) });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text.startsWith("{") ? JSON.parse(text) : {}) as StatusReply };
}

async function download(env: Env, auth: Auth, id: string, view: string) {
  const r = await request(`${env.ams}/v1/objects/${id}/views/${view}`, { headers: authHeaders(auth) });
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: r.headers, body };
}

/** A tiny valid PNG header followed by some bytes. */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from("not really pixels", "utf8"),
]);

test("POST /rps/skypetoken: a skype.com token gets a skypetoken with expiresIn from the knob; others get 401", async (t) => {
  const env = await start(t);
  const alice = env.server.world.mustFind("alice@hotmail.co.uk");
  const good = env.server.world.issueTokens(alice, SCOPES.skype).access_token;
  assert.match(good, /[+/=]/, "the access token carries characters that must be form-encoded");
  const ok = await skypetokenRequest(env, good);
  assert.equal(ok.status, 200);
  assert.equal(typeof ok.json.skypetoken, "string");
  assert.ok(ok.json.skypetoken.length > 20);
  assert.equal(ok.json.expiresIn, 86400);

  const knobs = await env.control("POST", "/http/knobs", { skypetoken_lifetime_s: 120 });
  assert.equal(knobs.status, 200);
  assert.equal(knobs.json.skypetoken_lifetime_s, 120);
  assert.equal((await skypetokenRequest(env, good)).json.expiresIn, 120);
  assert.equal((await env.control("POST", "/http/knobs", { skypetoken_lifetime_s: 0 })).status, 400);

  const wrongScope = env.server.world.issueTokens(alice, SCOPES.contacts).access_token;
  assert.equal((await skypetokenRequest(env, wrongScope)).status, 401);
  assert.equal((await skypetokenRequest(env, "EwAnonsense")).status, 401);
  assert.equal((await skypetokenRequest(env, undefined)).status, 401);
  const get = await request(`${env.api}/rps/skypetoken`);
  await get.body.dump();
  assert.equal(get.statusCode, 405);

  // An expired access token → 401.
  await env.control("POST", "/http/tokens/expire", { user: "alice@hotmail.co.uk" });
  assert.equal((await skypetokenRequest(env, good)).status, 401);
});

test("skypetokens expire: by lifetime and through /http/tokens/expire and /revoke", async (t) => {
  const env = await start(t);
  const world = env.server.world;
  let now = Date.now();
  world.now = () => now;
  await env.control("POST", "/http/knobs", { skypetoken_lifetime_s: 60 });
  const tok = await env.skypetoken("alice@hotmail.co.uk");
  const created = await createObject(env, tok, { type: "pish/image", permissions: {} });
  assert.equal(created.status, 201);
  now += 61_000;
  assert.equal((await createObject(env, tok, { type: "pish/image", permissions: {} })).status, 401);

  const tok2 = await env.skypetoken("alice@hotmail.co.uk");
  assert.equal((await createObject(env, tok2, { type: "pish/image", permissions: {} })).status, 201);
  await env.control("POST", "/http/tokens/expire", { user: "alice@hotmail.co.uk" });
  assert.equal((await createObject(env, tok2, { type: "pish/image", permissions: {} })).status, 401);

  const tok3 = await env.skypetoken("alice@hotmail.co.uk");
  await env.control("POST", "/http/tokens/revoke", { user: "alice@hotmail.co.uk" });
  assert.equal((await createObject(env, tok3, { type: "pish/image", permissions: {} })).status, 401);

  // The request log shows neither the access tokens nor the skypetokens.
  const log = JSON.stringify((await env.control("GET", "/http/requests")).json);
  for (const secret of [tok, tok2, tok3])
    assert.ok(!log.includes(secret), "no skypetoken in the request log");
  assert.ok(!/access_token|skype_token/i.test(log));
});

test("object service: create, upload once by the creator, status, download with Content-Type and Content-Length", async (t) => {
  const env = await start(t);
  const alice = await env.skypetoken("alice@hotmail.co.uk");
  const bob = await env.skypetoken("bob@outlook.com");

  const img = await createObject(env, alice, {
    type: "pish/image",
    permissions: { "8:live:bob_1": ["read"] },
  });
  assert.equal(img.status, 201);
  assert.match(img.json.id, /^0-weu-d1-[0-9a-f]{32}$/);
  const id = img.json.id;

  // Before the upload: no content.
  const before = await status(env, bob, id, "imgpsh_fullsize");
  assert.equal(before.status, 200);
  assert.deepEqual(before.json, {
    content_length: 0,
    content_state: "no content",
    view_state: "none",
    view_location: `${env.ams}/v1/objects/${id}/views/imgpsh_fullsize`,
    original_filename: "",
  });
  assert.equal((await download(env, bob, id, "imgpsh_fullsize")).status, 404);

  assert.equal(await upload(env, bob, id, "imgpsh", PNG), 403, "only the creator uploads");
  assert.equal(await upload(env, alice, id, "imgpsh", PNG), 201);
  assert.equal(await upload(env, alice, id, "imgpsh", PNG), 409, "only once");
  assert.equal(await upload(env, alice, id, "nonsense", PNG), 404);

  const after = await status(env, bob, id, "imgpsh_fullsize");
  assert.equal(after.json.content_length, PNG.length);
  assert.equal(after.json.content_state, "ready");
  assert.equal(after.json.view_state, "ready");
  for (const view of ["imgpsh_fullsize", "imgt1"]) {
    const d = await download(env, bob, id, view);
    assert.equal(d.status, 200, view);
    assert.equal(d.headers["content-type"], "image/png");
    assert.equal(d.headers["content-length"], String(PNG.length));
    assert.deepEqual(d.body, PNG);
  }
  // X-Skypetoken works as well; unknown views are 404.
  const viaX = await download(env, { header: "x-skypetoken", value: bob }, id, "imgpsh_fullsize");
  assert.equal(viaX.status, 200);
  assert.equal((await download(env, bob, id, "original")).status, 404);
  assert.equal((await status(env, bob, id, "avatar_fullsize")).status, 404);

  // A file: original, and thumbnail is 404 without one.
  const file = await createObject(env, alice, {
    type: "sharing/file",
    permissions: { "8:live:bob_1": ["read"] },
    filename: "report <final>.pdf",
  });
  assert.equal(file.status, 201);
  const fid = file.json.id;
  const bytes = Buffer.from("%PDF-1.4 hello", "utf8");
  assert.equal(await upload(env, alice, fid, "original", bytes, "application/pdf"), 201);
  const fs = await status(env, bob, fid, "original");
  assert.equal(fs.json.original_filename, "report <final>.pdf");
  assert.equal(fs.json.view_state, "ready");
  const fd = await download(env, bob, fid, "original");
  assert.equal(fd.headers["content-type"], "application/pdf");
  assert.deepEqual(fd.body, bytes);
  assert.equal((await download(env, bob, fid, "thumbnail")).status, 404);
  assert.equal((await status(env, bob, fid, "thumbnail")).json.view_state, "none");
  assert.equal((await download(env, bob, fid, "imgpsh_fullsize")).status, 404);

  // Uploads are not bound by the 1 MiB limit of other requests (default ams_max_upload_bytes: 100 MiB).
  const big = await createObject(env, alice, { type: "sharing/file", permissions: {}, filename: "big.bin" });
  const bigBytes = Buffer.alloc(3 * 1024 * 1024, 7);
  assert.equal(await upload(env, alice, big.json.id, "original", bigBytes), 201);
  const bigDown = await download(env, alice, big.json.id, "original");
  assert.equal(bigDown.headers["content-length"], String(bigBytes.length));
  assert.ok(bigDown.body.equals(bigBytes));

  // The control API shows what was uploaded.
  const seen = await env.control<ObjectView>("GET", `/media/object?id=${fid}`);
  assert.equal(seen.status, 200);
  assert.equal(seen.json.type, "sharing/file");
  assert.equal(seen.json.creator, "8:live:alice_1");
  assert.equal(seen.json.filename, "report <final>.pdf");
  assert.deepEqual(seen.json.permissions, { "8:live:bob_1": ["read"] });
  assert.equal(Buffer.from(seen.json.contentBase64, "base64").toString("utf8"), "%PDF-1.4 hello");
  assert.equal(seen.json.views.original?.size, bytes.length);
  assert.equal(seen.json.views.thumbnail, undefined);
  assert.equal(
    (await env.control("GET", "/media/object?id=0-weu-d1-00000000000000000000000000000000")).status,
    404,
  );
});

test("object service access: creator, either identity of a permitted person, thread members at read time; 401/403/404", async (t) => {
  const env = await start(t);
  const alice = await env.skypetoken("alice@hotmail.co.uk");
  const bob = await env.skypetoken("bob@outlook.com");
  const carol = await env.skypetoken("carol@live.com");
  const dave = await env.skypetoken("mallory@hotmail.com");

  // Permission by Bob's 1: identity; Bob reads (he is one person with both identities).
  const o = await createObject(env, alice, {
    type: "pish/image",
    permissions: { "1:bob@outlook.com": ["read"] },
  });
  const id = o.json.id;
  assert.equal(await upload(env, alice, id, "imgpsh", PNG), 201);
  assert.equal((await download(env, alice, id, "imgpsh_fullsize")).status, 200, "the creator reads");
  assert.equal((await download(env, bob, id, "imgpsh_fullsize")).status, 200, "bob by his other identity");
  assert.equal((await download(env, carol, id, "imgpsh_fullsize")).status, 403);
  assert.equal((await status(env, carol, id, "imgpsh_fullsize")).status, 403);
  assert.equal((await download(env, null, id, "imgpsh_fullsize")).status, 401);
  assert.equal((await download(env, "bogus", id, "imgpsh_fullsize")).status, 401);
  assert.equal((await status(env, null, id, "imgpsh_fullsize")).status, 401);
  assert.equal((await download(env, bob, "0-weu-d1-ffffffffffffffffffffffffffffffff", "imgt1")).status, 404);
  assert.equal(
    (await download(env, null, "0-weu-d1-ffffffffffffffffffffffffffffffff", "imgt1")).status,
    401,
    "the token is checked first",
  );
  assert.equal((await createObject(env, null, { type: "pish/image", permissions: {} })).status, 401);
  assert.equal(await upload(env, null, id, "imgpsh", PNG), 401);

  // A thread: its members at read time.
  const thread = await env.control("POST", "/msnp/thread/create", {
    as: "alice@hotmail.co.uk",
    members: ["8:live:bob_1"],
  });
  assert.equal(thread.status, 200);
  const tid = thread.json.id as string;
  const g = await createObject(env, alice, {
    type: "sharing/file",
    permissions: { [tid]: ["read"] },
    filename: "a.txt",
  });
  const gid = g.json.id;
  assert.equal(await upload(env, alice, gid, "original", Buffer.from("group file")), 201);
  assert.equal((await download(env, bob, gid, "original")).status, 200);
  assert.equal((await download(env, carol, gid, "original")).status, 403);
  await env.control("POST", "/msnp/thread/add", {
    as: "alice@hotmail.co.uk",
    thread: tid,
    members: ["8:live:carol_7"],
  });
  assert.equal((await download(env, carol, gid, "original")).status, 200, "added later, reads now");
  await env.control("POST", "/msnp/thread/remove", {
    as: "alice@hotmail.co.uk",
    thread: tid,
    members: ["8:live:bob_1"],
  });
  assert.equal((await download(env, bob, gid, "original")).status, 403, "removed, reads no more");
  assert.equal((await download(env, dave, gid, "original")).status, 403);
});

test("object service readiness knobs: ams_view_ready_delay_ms and ams_never_ready", async (t) => {
  const env = await start(t);
  const world = env.server.world;
  let now = Date.now();
  world.now = () => now;
  const alice = await env.skypetoken("alice@hotmail.co.uk");
  await env.control("POST", "/http/knobs", { ams_view_ready_delay_ms: 5000 });
  const id = (await createObject(env, alice, { type: "pish/image", permissions: {} })).json.id;
  assert.equal(await upload(env, alice, id, "imgpsh", PNG), 201);
  const s1 = await status(env, alice, id, "imgpsh_fullsize");
  assert.equal(s1.json.content_state, "ready");
  assert.equal(s1.json.view_state, "none");
  assert.equal((await download(env, alice, id, "imgpsh_fullsize")).status, 404);
  now += 5000;
  assert.equal((await status(env, alice, id, "imgpsh_fullsize")).json.view_state, "ready");
  assert.equal((await download(env, alice, id, "imgpsh_fullsize")).status, 200);

  await env.control("POST", "/http/knobs", { ams_never_ready: true });
  assert.equal((await status(env, alice, id, "imgpsh_fullsize")).json.view_state, "none");
  assert.equal((await download(env, alice, id, "imgpsh_fullsize")).status, 404);
  const knobs = await env.control("GET", "/http/knobs");
  assert.equal(knobs.json.ams_never_ready, true);
  assert.equal(knobs.json.ams_max_upload_bytes, 100 * 1024 * 1024);
  assert.equal((await env.control("POST", "/http/knobs", { ams_never_ready: "yes" })).status, 400);
});

test("object service hostile input: oversized upload 413, bad JSON and fields 400, and the server keeps serving", async (t) => {
  const env = await start(t);
  const alice = await env.skypetoken("alice@hotmail.co.uk");
  await env.control("POST", "/http/knobs", { ams_max_upload_bytes: 1000 });
  const id = (await createObject(env, alice, { type: "sharing/file", permissions: {}, filename: "big.bin" }))
    .json.id;
  assert.equal(await upload(env, alice, id, "original", Buffer.alloc(1001, 1)), 413);
  // Far over the limit (declared length beyond what is drained): still a clean 413.
  assert.equal(await upload(env, alice, id, "original", Buffer.alloc(64 * 1024, 2)), 413);
  // A chunked upload without Content-Length, over the limit.
  const chunked = await request(`${env.ams}/v1/objects/${id}/content/original`, {
    method: "PUT",
    headers: { authorization: `skype_token ${alice}` },
    body: Readable.from([0, 1, 2, 3].map(() => Buffer.alloc(400, 3))),
  });
  await chunked.body.dump();
  assert.equal(chunked.statusCode, 413);
  // A refused upload is answered before its body is read: no token 401, not the creator 403, even when too big.
  const bob = await env.skypetoken("bob@outlook.com");
  assert.equal(await upload(env, bob, id, "original", Buffer.alloc(64 * 1024, 5)), 403);
  assert.equal(await upload(env, null, id, "original", Buffer.alloc(64 * 1024, 5)), 401);
  // The failed uploads did not count: exactly the limit is accepted once.
  assert.equal(await upload(env, alice, id, "original", Buffer.alloc(1000, 4)), 201);
  assert.equal((await download(env, alice, id, "original")).body.length, 1000);

  for (const bad of [
    "{not json",
    "[]",
    JSON.stringify({ type: "video/mp4", permissions: {} }),
    JSON.stringify({ type: "pish/image", permissions: ["8:live:bob_1"] }),
    JSON.stringify({ type: "pish/image", permissions: { "8:live:bob_1": "read" } }),
    JSON.stringify({ type: "sharing/file", permissions: {}, filename: 42 }),
  ]) {
    const r = await createObject(env, alice, bad);
    assert.equal(r.status, 400, bad);
  }
  const weird = await request(`${env.ams}/v1/objects/%E0%A4%A/views/imgt1`, {
    headers: { authorization: `skype_token ${alice}` },
  });
  await weird.body.dump();
  assert.equal(weird.statusCode, 404);
  // Still serving.
  assert.equal((await createObject(env, alice, { type: "pish/image", permissions: {} })).status, 201);
});
