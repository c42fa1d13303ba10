// SPDX-License-Identifier: Apache-2.0
/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV per value and the auth tag checked on every
 * read. Stored form: `v1:<iv>:<tag>:<ciphertext>` (base64 parts). Each value is bound to its context
 * (e.g. the owning user) through GCM's additional data, so a blob copied to another row fails.
 *
 * The key is either 64 hex characters (used as is) or a passphrase stretched with scrypt; the salt and
 * scrypt parameters live in the `meta` table. A key check value in `meta` tells a wrong key apart
 * from a damaged value when the store is opened.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { StoreError, StoreErrorCode } from "./errors.js";

const FORMAT = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MIN_PASSPHRASE = 8;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `meta` keys the keyring owns. */
export const KDF_META_KEY = "store.kdf";
export const KEY_CHECK_META_KEY = "store.key_check";
const KEY_CHECK_TEXT = "skype-bridge store key check";
const KEY_CHECK_CONTEXT = "meta:key_check";

/** scrypt settings, stored beside the salt so they can be raised later without breaking old files. */
export interface ScryptParams {
  readonly alg: "scrypt";
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** base64, 16 random bytes. */
  readonly salt: string;
}

/** Default scrypt cost: N=2^15, r=8 (32 MiB, ~0.1 s), once per start. */
export const DEFAULT_SCRYPT = { alg: "scrypt", N: 1 << 15, r: 8, p: 1 } as const;

/** A key setting, parsed. */
export type KeySpec =
  | { readonly kind: "raw"; readonly key: Buffer }
  | { readonly kind: "passphrase"; readonly passphrase: string };

/**
 * Parses the configured key: exactly 64 hex characters are a raw 256-bit key; anything else is a
 * passphrase of at least 8 characters. Throws `STORE_INVALID_KEY` (never echoing the value).
 */
export function parseKey(key: string): KeySpec {
  if (/^[0-9a-fA-F]{64}$/.test(key)) return { kind: "raw", key: Buffer.from(key, "hex") };
  if (key.trim().length < MIN_PASSPHRASE) {
    throw new StoreError(
      StoreErrorCode.InvalidKey,
      `the store key must be 64 hex characters or a passphrase of at least ${MIN_PASSPHRASE} characters`,
    );
  }
  return { kind: "passphrase", passphrase: key };
}

/** Stretches a passphrase with scrypt. Synchronous (tens to hundreds of ms). */
export function deriveKey(passphrase: string, params: ScryptParams): Buffer {
  const salt = Buffer.from(params.salt, "base64");
  return scryptSync(passphrase.normalize("NFC"), salt, KEY_BYTES, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r,
  });
}

/** Encrypts and decrypts values with one 256-bit key. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new StoreError(StoreErrorCode.InvalidKey, "an AES-256 key is 32 bytes");
    }
    this.#key = Buffer.from(key);
  }

  /** Encrypts `plaintext` (UTF-8), bound to `context`. Returns `v1:<iv>:<tag>:<ct>`. */
  encrypt(plaintext: string, context = ""): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(context));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT, iv.toString("base64"), tag.toString("base64"), ct.toString("base64")].join(":");
  }

  /**
   * Decrypts a blob made by {@link encrypt} with the same `context`. Throws `STORE_CORRUPT` for a
   * malformed blob or an unknown format, `STORE_BAD_KEY` when the tag does not verify (wrong key, or
   * the value or its context was altered). Never includes the value in the error.
   */
  decrypt(blob: string, context = ""): string {
    const parts = blob.split(":");
    if (parts[0] !== FORMAT) {
      throw new StoreError(StoreErrorCode.Corrupt, "a stored secret has an unknown format");
    }
    const [, ivB64 = "", tagB64 = "", ctB64 = ""] = parts;
    const iv = Buffer.from(ivB64, "base64");
    const tag = Buffer.from(tagB64, "base64");
    if (
      parts.length !== 4 ||
      ![ivB64, tagB64, ctB64].every((p) => B64.test(p)) ||
      iv.length !== IV_BYTES ||
      tag.length !== TAG_BYTES
    ) {
      throw new StoreError(StoreErrorCode.Corrupt, "a stored secret is malformed");
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ctB64, "base64")), decipher.final()]).toString(
        "utf8",
      );
    } catch {
      throw new StoreError(
        StoreErrorCode.BadKey,
        "cannot decrypt a stored secret: the store key is wrong or the value was altered",
      );
    }
  }
}

/** The slice of the `meta` table the keyring needs. */
export interface KeyMeta {
  get(key: string): string | undefined;
  /** Writes all entries in one transaction. */
  setMany(entries: Readonly<Record<string, string>>): void;
}

/**
 * Turns the configured key into a {@link SecretBox} for this database. On first use it stores the
 * scrypt salt (passphrases) and a key check value; later it verifies the key against that check and
 * throws `STORE_BAD_KEY` ("the key is wrong") before anything is read. Synchronous.
 */
export function openKeyring(key: string, meta: KeyMeta): SecretBox {
  const spec = parseKey(key);
  const writes: Record<string, string> = {};
  let raw: Buffer;
  if (spec.kind === "raw") {
    raw = spec.key;
  } else {
    const stored = meta.get(KDF_META_KEY);
    const params = stored === undefined ? newScryptParams() : parseScryptParams(stored);
    if (stored === undefined) writes[KDF_META_KEY] = JSON.stringify(params);
    raw = deriveKey(spec.passphrase, params);
  }
  const box = new SecretBox(raw);
  const check = meta.get(KEY_CHECK_META_KEY);
  if (check === undefined) {
    writes[KEY_CHECK_META_KEY] = box.encrypt(KEY_CHECK_TEXT, KEY_CHECK_CONTEXT);
    meta.setMany(writes);
    return box;
  }
  let text: string | undefined;
  try {
    text = box.decrypt(check, KEY_CHECK_CONTEXT);
  } catch (err) {
    if (!(err instanceof StoreError && err.code === StoreErrorCode.BadKey)) throw err;
  }
  if (text !== KEY_CHECK_TEXT) {
    throw new StoreError(
      StoreErrorCode.BadKey,
      "the store key is wrong: it does not match the key this database was set up with",
    );
  }
  return box;
}

function newScryptParams(): ScryptParams {
  return { ...DEFAULT_SCRYPT, salt: randomBytes(16).toString("base64") };
}

function parseScryptParams(text: string): ScryptParams {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const int = (x: unknown, max: number): number =>
    Number.isInteger(x) && (x as number) >= 1 && (x as number) <= max ? (x as number) : 0;
  const [N, r, p] = [int(o.N, 1 << 20), int(o.r, 32), int(o.p, 16)];
  const pow2 = N > 1 && (N & (N - 1)) === 0;
  if (
    o.alg !== "scrypt" ||
    !pow2 ||
    r === 0 ||
    p === 0 ||
    typeof o.salt !== "string" ||
    o.salt.length === 0
  ) {
    throw new StoreError(StoreErrorCode.Corrupt, "the stored key-derivation settings are damaged");
  }
  return { alg: "scrypt", N, r, p, salt: o.salt };
}

function aad(context: string): Buffer {
  return Buffer.from(`${FORMAT}|${context}`, "utf8");
}
