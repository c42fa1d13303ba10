// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix encrypted attachments (client-server spec, "Sending encrypted attachments"), streamed with
 * node:crypto: AES-256-CTR with a random key and a 16-byte IV whose low 8 bytes (the counter) start
 * at zero, and the SHA-256 of the ciphertext. The Rust crypto (wasm) has the same format
 * (`Attachment.encrypt`), but takes and returns whole buffers inside the WebAssembly heap, which
 * never shrinks: a 100 MB file would keep the process 200 MB larger for good. This streams.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** The `file` object of an encrypted media event, without `url` (added once uploaded). */
export interface EncryptedFileInfo {
  v: "v2";
  key: { kty: "oct"; key_ops: ["encrypt", "decrypt"]; alg: "A256CTR"; k: string; ext: true };
  iv: string;
  hashes: { sha256: string };
}

const unpadded = (b: Buffer): string => b.toString("base64").replace(/=+$/, "");

/**
 * A transform that encrypts what goes through it; `info()` gives the `file` object once it ended
 * (the hash covers the whole ciphertext). Same length out as in.
 */
export class AttachmentEncryptor extends Transform {
  private readonly key = randomBytes(32);
  private readonly iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
  private readonly cipher = createCipheriv("aes-256-ctr", this.key, this.iv);
  private readonly hash = createHash("sha256");
  private digest?: Buffer;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out = this.cipher.update(chunk);
    this.hash.update(out);
    done(null, out);
  }

  override _flush(done: TransformCallback): void {
    const rest = this.cipher.final();
    if (rest.length > 0) {
      this.hash.update(rest);
      this.push(rest);
    }
    this.digest = this.hash.digest();
    done();
  }

  /** The `file` object (without `url`); throws before the stream ended. */
  info(): EncryptedFileInfo {
    if (!this.digest) throw new Error("the attachment is not fully encrypted yet");
    return {
      v: "v2",
      key: {
        kty: "oct",
        key_ops: ["encrypt", "decrypt"],
        alg: "A256CTR",
        k: this.key.toString("base64url"),
        ext: true,
      },
      iv: unpadded(this.iv),
      hashes: { sha256: unpadded(this.digest) },
    };
  }
}
