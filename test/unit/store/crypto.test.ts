// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { KDF_META_KEY, parseKey, SecretBox } from "../../../src/store/crypto.js";
import { openStore, StoreError, StoreErrorCode } from "../../../src/store/index.js";
import { ALICE, KEY_A, KEY_B, open, tempDir } from "./helpers.js";

const TOKEN = "M.C512_BAY.0.U.-refresh+token/with=chars";
const boxA = new SecretBox(Buffer.from(KEY_A, "hex"));
const boxB = new SecretBox(Buffer.from(KEY_B, "hex"));

/** Asserts a StoreError with `code` whose message leaks neither the token nor the keys. */
function isStoreError(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof StoreError, String(err));
    assert.equal(err.code, code);
    for (const secret of [TOKEN, KEY_A, KEY_B, "correct horse battery", "wrong horse"]) {
      assert.ok(!err.message.includes(secret), "the error message leaks a secret");
    }
    return true;
  };
}

void test("round trip with a fresh IV each time, in the v1 format", () => {
  for (const text of [TOKEN, "", "ünïcødé ✓ 𝄞"]) {
    const blob = boxA.encrypt(text, "ctx");
    assert.match(blob, /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/=]*$/);
    assert.equal(boxA.decrypt(blob, "ctx"), text);
  }
  assert.notEqual(boxA.encrypt(TOKEN), boxA.encrypt(TOKEN));
});

void test("a wrong key or another context fails with STORE_BAD_KEY", () => {
  const blob = boxA.encrypt(TOKEN, "users.refresh_token|@a:x");
  assert.throws(() => boxB.decrypt(blob, "users.refresh_token|@a:x"), isStoreError(StoreErrorCode.BadKey));
  assert.throws(() => boxA.decrypt(blob, "users.refresh_token|@b:x"), isStoreError(StoreErrorCode.BadKey));
});

void test("tampered ciphertext, tag or IV is detected", () => {
  const blob = boxA.encrypt(TOKEN, "ctx");
  const [v, iv, tag, ct] = blob.split(":") as [string, string, string, string];
  const flip = (b64: string): string => {
    const buf = Buffer.from(b64, "base64");
    buf[0] = buf[0]! ^ 1;
    return buf.toString("base64");
  };
  for (const bad of [
    [v, iv, tag, flip(ct)],
    [v, iv, flip(tag), ct],
    [v, flip(iv), tag, ct],
  ]) {
    assert.throws(() => boxA.decrypt(bad.join(":"), "ctx"), isStoreError(StoreErrorCode.BadKey));
  }
  for (const malformed of [
    "",
    "v2:a:b:c",
    "v1:only:three",
    `v1:${iv}:${tag}:${ct}:extra`,
    `v1:***:${tag}:${ct}`,
  ]) {
    assert.throws(() => boxA.decrypt(malformed, "ctx"), isStoreError(StoreErrorCode.Corrupt));
  }
});

void test("key settings: 64 hex is raw, else a passphrase of 8+ characters", () => {
  assert.equal(parseKey(KEY_A).kind, "raw");
  assert.equal(parseKey("correct horse battery").kind, "passphrase");
  assert.equal(parseKey(KEY_A.slice(1)).kind, "passphrase");
  for (const bad of ["", "       ", "short"]) {
    assert.throws(() => parseKey(bad), isStoreError(StoreErrorCode.InvalidKey));
  }
});

void test("the store encrypts refresh tokens at rest and only getRefreshToken decrypts", (t) => {
  const dir = tempDir(t);
  const path = join(dir, "bridge.db");
  const store = openStore({ path, key: KEY_A });
  store.users.upsert(ALICE);
  store.users.setRefreshToken(ALICE, TOKEN);
  const row = store.users.get(ALICE);
  assert.equal(row?.hasRefreshToken, true);
  assert.ok(!JSON.stringify(row).includes(TOKEN));
  assert.equal(store.users.getRefreshToken(ALICE), TOKEN);
  store.close();

  for (const name of readdirSync(dir)) {
    assert.ok(!readFileSync(join(dir, name)).includes(TOKEN), `${name} holds the token in clear`);
  }
  const again = openStore({ path, key: KEY_A });
  t.after(() => again.close());
  assert.equal(again.users.getRefreshToken(ALICE), TOKEN);
  again.users.setRefreshToken(ALICE, null);
  assert.equal(again.users.getRefreshToken(ALICE), undefined);
  assert.equal(again.users.get(ALICE)?.hasRefreshToken, false);
});

void test("opening with the wrong key fails at open and says the key is wrong", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  store.users.upsert(ALICE);
  store.users.setRefreshToken(ALICE, TOKEN);
  store.close();
  assert.throws(
    () => openStore({ path, key: KEY_B }),
    (err: unknown) => isStoreError(StoreErrorCode.BadKey)(err) && /key is wrong/.test((err as Error).message),
  );
  assert.throws(() => openStore({ path, key: "wrong horse staple" }), isStoreError(StoreErrorCode.BadKey));
  const ok = openStore({ path, key: KEY_A });
  t.after(() => ok.close());
  assert.equal(ok.users.getRefreshToken(ALICE), TOKEN);
});

void test("a passphrase is stretched with a salt kept in meta", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: "correct horse battery" });
  store.users.upsert(ALICE);
  store.users.setRefreshToken(ALICE, TOKEN);
  const kdf = JSON.parse(store.meta.get(KDF_META_KEY)!) as { alg: string; salt: string; N: number };
  assert.equal(kdf.alg, "scrypt");
  assert.equal(Buffer.from(kdf.salt, "base64").length, 16);
  store.close();

  assert.throws(() => openStore({ path, key: "wrong horse battery" }), isStoreError(StoreErrorCode.BadKey));
  assert.throws(() => openStore({ path, key: KEY_A }), isStoreError(StoreErrorCode.BadKey));
  const again = openStore({ path, key: "correct horse battery" });
  t.after(() => again.close());
  assert.equal(again.users.getRefreshToken(ALICE), TOKEN);
});

void test("a tampered or moved token in the database is STORE_CORRUPT, never returned", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  for (const u of [ALICE, "@bob:example.org"]) store.users.upsert(u);
  store.users.setRefreshToken(ALICE, TOKEN);
  store.users.setRefreshToken("@bob:example.org", "bob-token");
  store.close();

  const raw = new Database(path);
  const blob = raw.prepare("SELECT refresh_token_enc FROM users WHERE mxid = ?").pluck().get(ALICE) as string;
  const parts = blob.split(":");
  const ct = Buffer.from(parts[3]!, "base64");
  ct[ct.length - 1] = ct[ct.length - 1]! ^ 0x80;
  parts[3] = ct.toString("base64");
  raw.prepare("UPDATE users SET refresh_token_enc = ? WHERE mxid = ?").run(parts.join(":"), ALICE);
  // Bob's blob copied onto Carol: valid ciphertext, wrong owner.
  raw
    .prepare(
      "INSERT INTO users (mxid, refresh_token_enc, created_ts, updated_ts) SELECT '@carol:x', refresh_token_enc, 1, 1 FROM users WHERE mxid = ?",
    )
    .run("@bob:example.org");
  raw.close();

  const again = openStore({ path, key: KEY_A });
  t.after(() => again.close());
  assert.throws(() => again.users.getRefreshToken(ALICE), isStoreError(StoreErrorCode.Corrupt));
  assert.throws(() => again.users.getRefreshToken("@carol:x"), isStoreError(StoreErrorCode.Corrupt));
  assert.equal(again.users.getRefreshToken("@bob:example.org"), "bob-token");
});

void test("without a key, secrets are refused with STORE_NO_KEY", (t) => {
  const store = open(t, { key: undefined });
  store.users.upsert(ALICE);
  assert.throws(() => store.users.setRefreshToken(ALICE, TOKEN), isStoreError(StoreErrorCode.NoKey));
  store.users.setRefreshToken(ALICE, null);
  assert.equal(store.users.getRefreshToken(ALICE), undefined);
  assert.throws(() => store.users.setRefreshToken("@nobody:x", null), isStoreError(StoreErrorCode.NotFound));
  assert.throws(() => open(t, { key: "short" }), isStoreError(StoreErrorCode.InvalidKey));
});

void test("a double-puppeting access token is stored encrypted, bound to its user, and cleared with null", (t) => {
  const path = join(tempDir(t), "bridge.db");
  const store = openStore({ path, key: KEY_A });
  store.users.upsert(ALICE);
  store.users.setRefreshToken(ALICE, TOKEN);
  store.users.setMatrixToken(ALICE, "syt_matrix_secret_token");
  assert.equal(store.users.getMatrixToken(ALICE), "syt_matrix_secret_token");
  assert.throws(() => store.users.setMatrixToken(ALICE, ""), isStoreError(StoreErrorCode.InvalidArgument));
  assert.throws(() => store.users.setMatrixToken("@nobody:x", "t"), isStoreError(StoreErrorCode.NotFound));
  store.close();

  const raw = new Database(path);
  const blob = raw.prepare("SELECT matrix_token_enc FROM users WHERE mxid = ?").pluck().get(ALICE) as string;
  assert.match(blob, /^v1:/);
  assert.ok(!blob.includes("syt_matrix_secret_token"));
  // The refresh token's blob is no Matrix token: the contexts differ.
  raw.prepare("UPDATE users SET matrix_token_enc = refresh_token_enc WHERE mxid = ?").run(ALICE);
  raw.close();
  const again = openStore({ path, key: KEY_A });
  t.after(() => again.close());
  assert.throws(() => again.users.getMatrixToken(ALICE), isStoreError(StoreErrorCode.Corrupt));
  again.users.setMatrixToken(ALICE, null);
  assert.equal(again.users.getMatrixToken(ALICE), undefined);
});
