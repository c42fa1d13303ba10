import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cidToSigned64,
  endpointUrl,
  mriKey,
  normalizeCid,
  parseMri,
  signed64ToCid,
  sortIdentities,
  toMri,
  toPassportName,
} from "../../../src/skype/model.js";
import { SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

test("MRIs parse and format, dropping ;epid suffixes", () => {
  assert.deepEqual(parseMri("8:live:alice_1;epid={abc}"), { netId: 8, account: "live:alice_1" });
  assert.deepEqual(parseMri("1:alice@hotmail.co.uk"), { netId: 1, account: "alice@hotmail.co.uk" });
  assert.equal(parseMri("live:alice_1"), undefined);
  assert.equal(parseMri("8:"), undefined);
  assert.equal(toMri("bob@outlook.com"), "1:bob@outlook.com");
  assert.equal(toMri("live:bob_1"), "8:live:bob_1");
  assert.equal(toMri("dave.lister"), "8:dave.lister");
  assert.equal(toMri("8:echo123"), "8:echo123");
  assert.throws(
    () => toMri("  "),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.InvalidArgument,
  );
});

test("PassportName: e-mail for 1:, bare Skype name for 8:", () => {
  assert.equal(toPassportName("1:bob@outlook.com"), "bob@outlook.com");
  assert.equal(toPassportName("8:live:bob_1"), "live:bob_1");
  assert.equal(toPassportName("dave.lister"), "dave.lister");
  assert.throws(
    () => toPassportName("19:abc@thread.skype"),
    (e: unknown) => e instanceof SkypeError,
  );
});

test("identities sort 1: before 8: and dedupe e-mails case-insensitively", () => {
  assert.deepEqual(sortIdentities(["8:live:bob_1", "1:Bob@Outlook.com", "1:bob@outlook.com"]), [
    "1:Bob@Outlook.com",
    "8:live:bob_1",
  ]);
  assert.equal(mriKey("1:A@B.c"), "1:a@b.c");
  assert.equal(mriKey("8:Live:X"), "8:Live:X");
});

test("CIDs: hex ↔ signed 64-bit decimal", () => {
  assert.equal(normalizeCid("ABCDEF"), "0000000000abcdef");
  assert.equal(normalizeCid("xyz"), undefined);
  assert.equal(cidToSigned64("ffffffffffffffff"), "-1");
  assert.equal(cidToSigned64("0000000000000010"), "16");
  assert.equal(signed64ToCid("-1"), "ffffffffffffffff");
  assert.equal(signed64ToCid(cidToSigned64("8badf00d12345678")), "8badf00d12345678");
  assert.equal(signed64ToCid("1e5"), undefined);
});

test("endpointUrl tolerates a trailing slash", () => {
  assert.equal(endpointUrl("http://h:1/", "/a"), "http://h:1/a");
  assert.equal(endpointUrl("http://h:1", "/a"), "http://h:1/a");
});
