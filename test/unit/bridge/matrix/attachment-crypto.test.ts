// SPDX-License-Identifier: Apache-2.0
/** Streamed attachment encryption, checked against the Rust crypto's own decryption (wasm stand-in). */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import {
  AttachmentDecryptor,
  AttachmentEncryptor,
  AttachmentHashError,
  parseEncryptedFile,
} from "../../../../src/bridge/matrix/attachment-crypto.js";

/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- the stand-in is plain JavaScript */
const sdk = createRequire(__filename)("@matrix-org/matrix-sdk-crypto-nodejs") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test("what the encryptor streams, the Rust crypto decrypts (v2, A256CTR, SHA-256 of the ciphertext)", async () => {
  const plain = randomBytes(300_001);
  const enc = new AttachmentEncryptor();
  // Odd chunk sizes: CTR keeps its position across chunks.
  const chunks = [plain.subarray(0, 7), plain.subarray(7, 70_000), plain.subarray(70_000)];
  const cipher = await buffer(Readable.from(chunks).pipe(enc));
  assert.equal(cipher.length, plain.length);
  assert.notDeepEqual(cipher.subarray(0, 64), plain.subarray(0, 64));
  const info = enc.info();
  assert.equal(info.v, "v2");
  assert.equal(info.key.alg, "A256CTR");
  assert.match(info.iv, /^[A-Za-z0-9+/]{22}$/);
  const back = sdk.Attachment.decrypt(
    new sdk.EncryptedAttachment(cipher, JSON.stringify({ ...info, url: "mxc://x/y" })),
  );
  assert.deepEqual(Buffer.from(back), plain);
});

test("a tampered ciphertext fails the hash check", async () => {
  const enc = new AttachmentEncryptor();
  const cipher = await buffer(Readable.from([Buffer.from("secret picture")]).pipe(enc));
  cipher[0] = cipher[0]! ^ 1;
  assert.throws(() =>
    sdk.Attachment.decrypt(new sdk.EncryptedAttachment(cipher, JSON.stringify(enc.info()))),
  );
});

test("info() before the end is an error", () => {
  assert.throws(() => new AttachmentEncryptor().info(), /not fully encrypted/);
});

test("what the Rust crypto encrypts, the decryptor streams back; a wrong hash fails at the end", async () => {
  const plain = randomBytes(123_457);
  const sealed = sdk.Attachment.encrypt(plain);
  const file = parseEncryptedFile({ ...JSON.parse(sealed.mediaEncryptionInfo), url: "mxc://x/y" });
  assert.ok(file, "a complete file object");
  const data = Buffer.from(sealed.encryptedData);
  const chunks = [data.subarray(0, 5), data.subarray(5, 60_000), data.subarray(60_000)];
  assert.ok((await buffer(Readable.from(chunks).pipe(new AttachmentDecryptor(file.info)))).equals(plain));
  const wrong = { ...file.info, hashes: { sha256: Buffer.alloc(32).toString("base64").replace(/=+$/, "") } };
  await assert.rejects(
    buffer(Readable.from([data]).pipe(new AttachmentDecryptor(wrong))),
    AttachmentHashError,
  );
});

test("parseEncryptedFile takes only complete v2 A256CTR files with an mxc url", () => {
  const enc = new AttachmentEncryptor();
  enc.end(Buffer.from("x"));
  enc.resume();
  return new Promise<void>((resolve) =>
    enc.on("end", () => {
      const info = enc.info();
      assert.ok(parseEncryptedFile({ ...info, url: "mxc://a/b" }));
      assert.equal(parseEncryptedFile({ ...info, url: "https://a/b" }), undefined);
      assert.equal(parseEncryptedFile({ url: "mxc://localhost/cat", v: "v2" }), undefined);
      assert.equal(parseEncryptedFile({ ...info, url: "mxc://a/b", v: "v1" }), undefined);
      assert.equal(
        parseEncryptedFile({ ...info, url: "mxc://a/b", key: { ...info.key, k: "short" } }),
        undefined,
      );
      assert.equal(parseEncryptedFile({ ...info, url: "mxc://a/b", iv: "AAAA" }), undefined);
      assert.equal(parseEncryptedFile("nope"), undefined);
      resolve();
    }),
  );
});
