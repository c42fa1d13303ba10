// The object-service client (PROFILE §7.1, §7.2) against the reference server: the Skype token,
// create with the conversation's permission, streamed upload and download byte for byte, and the
// typed refusals (not permitted, unknown, too large, never ready).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { assertNoSecrets, startRef, type RefEnv } from "./helpers.js";
import { loginWithPassword } from "../../../src/skype/auth/login-process.js";
import { TokenManager } from "../../../src/skype/tokens.js";
import { AmsClient, type MediaError } from "../../../src/skype/media/ams-client.js";
import { SkypeErrorCode } from "../../../src/skype/errors.js";
import { parseUriObject, writeUriObject } from "../../../src/skype/media/uri-object.js";

type Options = Parameters<typeof startRef>[1];

async function client(env: RefEnv, email: string, password: string) {
  const http = { dispatcher: env.dispatcher, logger: env.logger };
  const login = await loginWithPassword(env.endpoints, email, password, http);
  const tokens = new TokenManager({ ...http, endpoints: env.endpoints, refreshToken: login.refreshToken });
  const ams = new AmsClient({
    ...http,
    ams: `${env.url}/ams`,
    tokens,
    readyAttempts: 3,
    readyBackoff: { initialMs: 10, maxMs: 20 },
  });
  return { ams, tokens, refreshToken: login.refreshToken };
}

async function setup(t: TestContext, options?: Options) {
  const env = await startRef(t, options);
  const alice = await client(env, "alice@hotmail.co.uk", "wonderland");
  const bob = await client(env, "bob@outlook.com", "canwefixit");
  const carol = await client(env, "carol@live.com", "carolpass");
  return { env, alice, bob, carol };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `bytes` in 64 KiB chunks, so the upload is really streamed. */
function chunked(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536);
    })(),
  );
}

test("a 3 MiB file goes up streamed and comes down byte for byte for the permitted contact only", async (t) => {
  const { env, alice, bob, carol } = await setup(t);
  const bytes = randomBytes(3 * 1024 * 1024 + 7);
  const { id } = await alice.ams.create("file", "8:live:bob_1", "data.bin");
  await alice.ams.upload(id, "original", chunked(bytes), { size: bytes.length });
  const xml = writeUriObject({
    kind: "file",
    ams: alice.ams.ams,
    objectId: id,
    name: "data.bin",
    size: bytes.length,
  });
  const obj = parseUriObject(xml);
  const objectId = bob.ams.objectIdOf(obj.uri);
  const st = await bob.ams.waitReady(objectId, obj.view);
  assert.equal(st.contentLength, bytes.length);
  const dl = await bob.ams.download(objectId, obj.view, { maxBytes: 10 * 1024 * 1024 });
  assert.equal(dl.size, bytes.length);
  assert.equal(sha(await readAll(dl.body)), sha(bytes));
  await assert.rejects(
    carol.ams.download(objectId, "original", { maxBytes: 1e8 }),
    (e: MediaError) => e.code === SkypeErrorCode.MediaForbidden,
  );
  await assert.rejects(
    bob.ams.download(objectId, "original", { maxBytes: 1000 }),
    (e: MediaError) => e.code === SkypeErrorCode.MediaTooLarge,
  );
  await assert.rejects(
    bob.ams.status("0-weu-d1-00000000000000000000000000000000", "original"),
    (e: MediaError) => e.code === SkypeErrorCode.MediaNotFound,
  );
  const skypeToken = await alice.tokens.skypeToken();
  assertNoSecrets(env.logLines, [skypeToken, alice.refreshToken]);
});

test("an image is uploaded to imgpsh and read as imgpsh_fullsize; an upload over the limit is 413", async (t) => {
  const { alice, bob } = await setup(t, { ams_max_upload_bytes: 4096 });
  const png = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
    "hex",
  );
  const { id } = await alice.ams.create("image", "8:live:bob_1");
  await alice.ams.upload(id, "imgpsh", png, { size: png.length, contentType: "image/png" });
  await bob.ams.waitReady(id, "imgpsh_fullsize");
  const dl = await bob.ams.download(id, "imgpsh_fullsize", { maxBytes: 1e6 });
  assert.deepEqual(await readAll(dl.body), png);
  const big = await alice.ams.create("file", "8:live:bob_1", "big.bin");
  await assert.rejects(
    alice.ams.upload(big.id, "original", chunked(randomBytes(64 * 1024)), { size: 64 * 1024 }),
    (e: MediaError) => e.code === SkypeErrorCode.MediaTooLarge,
  );
});

test("a view that never becomes ready ends in MediaNotReady after the bounded checks", async (t) => {
  const { alice, bob } = await setup(t, { ams_never_ready: true });
  const { id } = await alice.ams.create("file", "8:live:bob_1", "x.txt");
  await alice.ams.upload(id, "original", Buffer.from("hello"));
  await assert.rejects(
    bob.ams.waitReady(id, "original"),
    (e: MediaError) => e.code === SkypeErrorCode.MediaNotReady,
  );
});
