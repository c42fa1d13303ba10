import { test } from "node:test";
import assert from "node:assert/strict";
import { AsCommand, decodeAsQuery, encodeAsQuery } from "../../../src/skype/activesync/query.js";
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "../../../src/skype/errors.js";

const SEED = "jAkJBBBTa3lwZS0zMDI2NTQ3Nzk0AAxDbGFzc2ljU2t5cGU=";

test("the seed's query decodes to the fields of REFERENCE §11.2", () => {
  const q = decodeAsQuery(SEED);
  assert.deepEqual(q, {
    protocolVersion: 140,
    command: AsCommand.FolderSync,
    locale: 0x0409,
    deviceId: "Skype-3026547794",
    policyKey: undefined,
    deviceType: "ClassicSkype",
    parameters: [],
  });
});

test("the seed's query re-encodes byte for byte", () => {
  assert.equal(encodeAsQuery(decodeAsQuery(SEED)), SEED);
  const bytes = Buffer.from(SEED, "base64");
  assert.equal(bytes[0], 0x8c);
  assert.equal(bytes[1], 0x09);
  assert.deepEqual([...bytes.subarray(2, 4)], [0x09, 0x04]);
});

test("the matching Sync query is the one REFERENCE §11.2 gives", () => {
  const q = { ...decodeAsQuery(SEED), command: AsCommand.Sync };
  assert.equal(encodeAsQuery(q), "jAAJBBBTa3lwZS0zMDI2NTQ3Nzk0AAxDbGFzc2ljU2t5cGU=");
});

test("policy key and parameters round-trip", () => {
  const q = {
    protocolVersion: 141,
    command: AsCommand.Sync,
    locale: 0x0809,
    deviceId: "Skype-0000000001",
    policyKey: 0xdeadbeef,
    deviceType: "ClassicSkype",
    parameters: [
      { tag: 1, value: Uint8Array.from(Buffer.from("folder")) },
      { tag: 7, value: Uint8Array.from([0x02]) },
    ],
  };
  const encoded = encodeAsQuery(q);
  assert.deepEqual(decodeAsQuery(encoded), q);
  assert.equal(encodeAsQuery(decodeAsQuery(encoded)), encoded);
});

test("malformed queries are typed errors", () => {
  for (const bad of [
    "jAkJ",
    "!!!",
    Buffer.from([0x8c, 9, 9, 4, 16, 0x41]).toString("base64"),
    Buffer.from([0x8c, 9, 9, 4, 0, 3, 1, 2, 3, 0]).toString("base64"),
  ]) {
    assert.throws(
      () => decodeAsQuery(bad),
      (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Parse,
    );
  }
  assert.throws(
    () => encodeAsQuery({ ...decodeAsQuery(SEED), deviceId: "x".repeat(300) }),
    (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.InvalidArgument,
  );
});
