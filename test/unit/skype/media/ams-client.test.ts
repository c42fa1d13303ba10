import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { MockAgent } from "undici";
import { AmsClient } from "../../../../src/skype/media/ams-client.js";
import { SkypeErrorCode, type SkypeError } from "../../../../src/skype/errors.js";

const AMS = "http://ams.test/ams";

function setup(t: TestContext) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  t.after(() => agent.close());
  const pool = agent.get("http://ams.test");
  let tokens = 0;
  let invalidated = 0;
  const client = new AmsClient({
    ams: AMS,
    dispatcher: agent,
    tokens: {
      skypeToken: () => Promise.resolve(`ST${++tokens}`),
      invalidateSkypeToken: () => void invalidated++,
    },
    readyAttempts: 3,
    sleep: () => Promise.resolve(),
  });
  return { client, pool, counts: () => ({ tokens, invalidated }) };
}

const code = (c: string) => (e: SkypeError) => e.code === c;

test("only {ams}/v1/objects/{id} on the configured base is accepted; nothing else is fetched", (t) => {
  const { client } = setup(t);
  assert.equal(client.objectIdOf(`${AMS}/v1/objects/0-weu-d1-abc`), "0-weu-d1-abc");
  assert.equal(client.objectIdOf(`${AMS}/v1/objects/0-weu-d1-abc/views/imgt1`), "0-weu-d1-abc");
  for (const uri of [
    "http://evil.test/ams/v1/objects/0-weu-d1-abc",
    "https://ams.test/ams/v1/objects/0-weu-d1-abc",
    "http://ams.test:81/ams/v1/objects/0-weu-d1-abc",
    "http://ams.test/other/v1/objects/0-weu-d1-abc",
    "http://user:pw@ams.test/ams/v1/objects/0-weu-d1-abc",
    `${AMS}/v1/objects/../../x`,
    `${AMS}/v1/objects/a%2Fb`,
    `${AMS}/v1/objects/`,
    `${AMS}/v1/objects/x/content/original`,
    "not a url",
    "file:///etc/passwd",
  ])
    assert.throws(() => client.objectIdOf(uri), code(SkypeErrorCode.MediaForeignHost), uri);
});

test("create sends the token and the conversation's permission; status errors are typed", async (t) => {
  const { client, pool } = setup(t);
  let seen: { auth?: unknown; body?: unknown } = {};
  pool.intercept({ path: "/ams/v1/objects", method: "POST" }).reply(201, (o) => {
    seen = { auth: (o.headers as Record<string, string>).authorization, body: JSON.parse(o.body as string) };
    return { id: "0-weu-d1-ff" };
  });
  assert.deepEqual(await client.create("file", "8:live:bob_1", "a.txt"), { id: "0-weu-d1-ff" });
  assert.equal(seen.auth, "skype_token ST1");
  assert.deepEqual(seen.body, {
    type: "sharing/file",
    permissions: { "8:live:bob_1": ["read"] },
    filename: "a.txt",
  });
  for (const [status, c] of [
    [404, SkypeErrorCode.MediaNotFound],
    [403, SkypeErrorCode.MediaForbidden],
    [413, SkypeErrorCode.MediaTooLarge],
    [503, SkypeErrorCode.Network],
  ] as const) {
    pool.intercept({ path: "/ams/v1/objects/x1/views/original/status", method: "GET" }).reply(status, "{}");
    await assert.rejects(client.status("x1", "original"), code(c));
  }
});

test("a 401 renews the token once", async (t) => {
  const { client, pool, counts } = setup(t);
  pool.intercept({ path: "/ams/v1/objects/x1/views/original/status", method: "GET" }).reply(401, "");
  pool
    .intercept({ path: "/ams/v1/objects/x1/views/original/status", method: "GET" })
    .reply(200, { view_state: "ready", content_length: 3 });
  assert.deepEqual(await client.status("x1", "original"), { viewState: "ready", contentLength: 3 });
  assert.deepEqual(counts(), { tokens: 2, invalidated: 1 });
});

test("a view that never becomes ready is a bounded MediaNotReady", async (t) => {
  const { client, pool } = setup(t);
  pool
    .intercept({ path: "/ams/v1/objects/x1/views/imgpsh_fullsize/status", method: "GET" })
    .reply(200, { view_state: "none" })
    .times(3);
  await assert.rejects(client.waitReady("x1", "imgpsh_fullsize"), code(SkypeErrorCode.MediaNotReady));
});

test("downloads over the cap fail, declared or counted", async (t) => {
  const { client, pool } = setup(t);
  pool
    .intercept({ path: "/ams/v1/objects/x1/views/original", method: "GET" })
    .reply(200, Buffer.alloc(100), { headers: { "content-length": "100" } });
  await assert.rejects(
    client.download("x1", "original", { maxBytes: 10 }),
    code(SkypeErrorCode.MediaTooLarge),
  );
  pool.intercept({ path: "/ams/v1/objects/x1/views/original", method: "GET" }).reply(200, Buffer.alloc(100));
  const dl = await client.download("x1", "original", { maxBytes: 1000 });
  let n = 0;
  for await (const c of dl.body) n += (c as Buffer).length;
  assert.equal(n, 100);
});
