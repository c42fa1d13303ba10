// SPDX-License-Identifier: Apache-2.0
// Avatars (PROFILE §7.6): the request (X-Skypetoken, If-None-Match, the identity URL-encoded), the
// answers (image, 304, 404), one token renewal on 401, and a body that is not an image refused.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { MockAgent } from "undici";
import { AvatarClient } from "../../../../src/skype/api/avatar.js";
import { SkypeErrorCode, type SkypeError } from "../../../../src/skype/errors.js";

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(20)]);
const PATH = "/users/8%3Alive%3Abob_1/profile/avatar";

function setup(t: TestContext) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  t.after(() => agent.close());
  const pool = agent.get("http://api.test");
  let tokens = 0;
  let invalidated = 0;
  const client = new AvatarClient({
    api: "http://api.test",
    dispatcher: agent,
    tokens: {
      skypeToken: () => Promise.resolve(`ST${++tokens}`),
      invalidateSkypeToken: () => void invalidated++,
    },
  });
  return { client, pool, counts: () => ({ tokens, invalidated }) };
}

void test("an avatar comes with its type and ETag; the token and the ETag are sent", async (t) => {
  const { client, pool } = setup(t);
  const seen: Record<string, unknown>[] = [];
  pool.intercept({ path: PATH, method: "GET" }).reply(
    200,
    (o) => {
      seen.push(o.headers as Record<string, unknown>);
      return PNG;
    },
    { headers: { "content-type": "image/png", etag: '"v1"' } },
  );
  pool
    .intercept({ path: PATH, method: "GET" })
    .reply(304, (o) => (seen.push(o.headers as Record<string, unknown>), ""), { headers: { etag: '"v1"' } });
  pool.intercept({ path: PATH, method: "GET" }).reply(404, "");
  const got = await client.fetch("8:live:bob_1");
  assert.equal(got.kind, "image");
  assert.ok(
    got.kind === "image" && got.bytes.equals(PNG) && got.contentType === "image/png" && got.etag === '"v1"',
  );
  assert.equal(seen[0]?.["X-Skypetoken"] ?? seen[0]?.["x-skypetoken"], "ST1");
  assert.deepEqual(await client.fetch("8:live:bob_1", '"v1"'), { kind: "unchanged" });
  assert.equal(seen[1]?.["If-None-Match"] ?? seen[1]?.["if-none-match"], '"v1"');
  assert.deepEqual(await client.fetch("8:live:bob_1", '"v1"'), { kind: "none" });
});

void test("a refused Skype token is renewed once; a body that is not an image is an error", async (t) => {
  const { client, pool, counts } = setup(t);
  pool.intercept({ path: PATH, method: "GET" }).reply(401, "");
  pool.intercept({ path: PATH, method: "GET" }).reply(200, PNG, { headers: { "content-type": "image/png" } });
  assert.equal((await client.fetch("8:live:bob_1")).kind, "image");
  assert.deepEqual(counts(), { tokens: 2, invalidated: 1 });
  pool
    .intercept({ path: PATH, method: "GET" })
    .reply(200, "<html>oops</html>", { headers: { "content-type": "image/png" } });
  await assert.rejects(client.fetch("8:live:bob_1"), (e: SkypeError) => e.code === SkypeErrorCode.Parse);
  pool.intercept({ path: PATH, method: "GET" }).reply(200, PNG, { headers: { "content-type": "text/html" } });
  await assert.rejects(client.fetch("8:live:bob_1"), (e: SkypeError) => e.code === SkypeErrorCode.Parse);
  pool.intercept({ path: PATH, method: "GET" }).reply(401, "");
  pool.intercept({ path: PATH, method: "GET" }).reply(401, "");
  await assert.rejects(client.fetch("8:live:bob_1"), (e: SkypeError) => e.code === SkypeErrorCode.HttpStatus);
});
