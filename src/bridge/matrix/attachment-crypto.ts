// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix encrypted attachments (client-server spec, "Sending encrypted attachments"), streamed with
 * node:crypto: AES-256-CTR with a random key and a 16-byte IV whose low 8 bytes (the counter) start
 * at zero, and the SHA-256 of the ciphertext. The Rust crypto (wasm) has the same format
 * (`Attachment.encrypt`), but takes and returns whole buffers inside the WebAssembly heap, which
 * never shrinks: a 100 MB file would keep the process 200 MB larger for good. This streams.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
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

/**
 * The `file` object of an event's content, checked (v2, A256CTR, a 256-bit key, a 128-bit IV, a
 * SHA-256), with its `url`; undefined when it is not one the bridge can decrypt.
 */
export function parseEncryptedFile(raw: unknown): { url: string; info: EncryptedFileInfo } | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const f = raw as Record<string, unknown>;
  const key = (f.key ?? {}) as Record<string, unknown>;
  const hashes = (f.hashes ?? {}) as Record<string, unknown>;
  const url = f.url;
  if (typeof url !== "string" || !url.startsWith("mxc://") || f.v !== "v2") return undefined;
  if (key.alg !== "A256CTR" || typeof key.k !== "string" || Buffer.from(key.k, "base64url").length !== 32)
    return undefined;
  if (typeof f.iv !== "string" || Buffer.from(f.iv, "base64").length !== 16) return undefined;
  if (typeof hashes.sha256 !== "string" || Buffer.from(hashes.sha256, "base64").length !== 32)
    return undefined;
  return {
    url,
    info: {
      v: "v2",
      key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: key.k, ext: true },
      iv: f.iv,
      hashes: { sha256: hashes.sha256 },
    },
  };
}

/** An encrypted attachment failed its hash check (altered or not the file the event names). */
export class AttachmentHashError extends Error {
  readonly code = "ATTACHMENT_HASH_MISMATCH";
  constructor() {
    super("the encrypted file does not match its hash");
  }
}

/**
 * A transform that decrypts an encrypted attachment as it streams; it fails at the end (after the
 * last bytes went through) when the ciphertext's SHA-256 is not the one in the event, so whoever
 * reads it must not use what it got then.
 */
export class AttachmentDecryptor extends Transform {
  private readonly decipher;
  private readonly hash = createHash("sha256");

  constructor(private readonly file: EncryptedFileInfo) {
    super();
    this.decipher = createDecipheriv(
      "aes-256-ctr",
      Buffer.from(file.key.k, "base64url"),
      Buffer.from(file.iv, "base64"),
    );
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, this.decipher.update(chunk));
  }

  override _flush(done: TransformCallback): void {
    const rest = this.decipher.final();
    if (rest.length > 0) this.push(rest);
    const expected = Buffer.from(this.file.hashes.sha256, "base64");
    const got = this.hash.digest();
    done(got.equals(expected) ? null : new AttachmentHashError());
  }
}
