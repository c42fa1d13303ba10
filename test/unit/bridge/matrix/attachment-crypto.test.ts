// SPDX-License-Identifier: Apache-2.0
/** Streamed attachment encryption, checked against the Rust crypto's own decryption (wasm stand-in). */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import { AttachmentEncryptor } from "../../../../src/bridge/matrix/attachment-crypto.js";

/* eslint-disable @typescript-eslint/no-unsafe-call -- the stand-in is plain JavaScript */
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
