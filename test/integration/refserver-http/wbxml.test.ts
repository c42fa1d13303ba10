// SPDX-License-Identifier: Apache-2.0
// The server's WBXML codec and base64 query codec against REFERENCE §11.2–§11.5.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEasQuery, encodeEasQuery, EasQueryError } from "../../../refserver/http/eas-query.js";
import { decodeWbxml, encodeWbxml, wb, WbxmlError } from "../../../refserver/http/wbxml.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-fA-F]/g, ""), "hex");

test("the seed's FolderSync query decodes to §11.2's fields and re-encodes byte for byte", () => {
  const seed = "jAkJBBBTa3lwZS0zMDI2NTQ3Nzk0AAxDbGFzc2ljU2t5cGU=";
  const q = decodeEasQuery(seed);
  assert.deepEqual(q, {
    protocolVersion: 140,
    command: 9,
    locale: 0x0409,
    deviceId: "Skype-3026547794",
    deviceType: "ClassicSkype",
    params: [],
  });
  assert.equal(encodeEasQuery(q), seed);
  assert.equal(encodeEasQuery({ ...q, command: 0 }), "jAAJBBBTa3lwZS0zMDI2NTQ3Nzk0AAxDbGFzc2ljU2t5cGU=");
  assert.deepEqual(decodeEasQuery(encodeURIComponent(seed)), q);
  const withParams = { ...q, policyKey: 3942919513, params: [{ tag: 1, value: Buffer.from("abc") }] };
  assert.deepEqual(decodeEasQuery(encodeEasQuery(withParams)), withParams);
});

test("malformed queries give EasQueryError", () => {
  for (const bad of [
    "Cmd=FolderSync&User=x&DeviceId=y&DeviceType=z",
    "jAkJ",
    "jAkJBBBTa3lw",
    "%E0%A4%A",
    "",
  ]) {
    assert.throws(() => decodeEasQuery(bad), EasQueryError, bad);
  }
});

test("§11.5's FolderSync request decodes, and encodes back to the same bytes", () => {
  const bytes = hex("03 01 6A 00 | 00 07 56 52 03 30 00 01 | 00 FE 45 46 47 03 53 49 44 00 01 01 01 | 01");
  const doc = decodeWbxml(bytes);
  const expected = wb(
    "FolderHierarchy:FolderSync",
    wb("FolderHierarchy:SyncKey", "0"),
    wb("Skype:PropertyBag", wb("Skype:Property", wb("Skype:Name", "SID"))),
  );
  assert.deepEqual(doc, expected);
  assert.deepEqual(encodeWbxml(expected), bytes);
});

test("code-page tables: last tokens of each page, page switches, opaque, entities, string table", () => {
  const doc = wb(
    "AirSync:Sync",
    wb("AirSync:HeartbeatInterval", "60"),
    wb("Contacts:WeightedRank", "1"),
    wb("FolderHierarchy:Count", "2"),
    wb("Contacts2:MMS", "3"),
    wb("Skype:Value", "ünïcødé ✓"),
  );
  const bytes = encodeWbxml(doc);
  assert.deepEqual(decodeWbxml(bytes), doc);
  assert.ok(bytes.includes(0x69)); // HeartbeatInterval 0x29 | content
  assert.ok(bytes.includes(0x7e)); // WeightedRank 0x3E | content
  const opaque = hex("03 01 6A 00 4B C3 03 01 02 03 01");
  assert.deepEqual(decodeWbxml(opaque).opaque, Buffer.from([1, 2, 3]));
  // ENTITY (0x02) and STR_T (0x83) with a string table "ab\0".
  const fancy = hex("03 01 6A 03 61 62 00 4B 02 41 83 00 01");
  assert.equal(decodeWbxml(fancy).text, "Aab");
  // A multi-byte mb_u_int32 length.
  const long = "x".repeat(200);
  assert.equal(decodeWbxml(encodeWbxml(wb("AirSync:SyncKey", long))).text, long);
});

test("malformed WBXML gives WbxmlError, never anything else", () => {
  const cases = [
    "",
    "03",
    "03 01 6A 00",
    "03 01 6A 00 45",
    "03 01 6A 00 4B 03 30",
    "03 01 6A 00 00 09 45 01",
    "03 01 6A 00 7F 01",
    "03 01 6A 00 C5 01",
    "03 01 6A 00 4B 01 01",
    "03 01 6A 00 4B 01 4B 01",
    "03 01 04 00 4B 01",
    "03 01 6A 00 4B C3 8F FF FF FF 7F 01",
    "03 01 6A 00 4B 04 00 01",
    "09 01 6A 00 4B 01",
  ];
  for (const c of cases) assert.throws(() => decodeWbxml(hex(c)), WbxmlError, c);
  const deep = Buffer.concat([hex("03 01 6A 00"), Buffer.alloc(100, 0x45 | 0x40), Buffer.alloc(100, 0x01)]);
  assert.throws(() => decodeWbxml(deep), WbxmlError);
  assert.throws(() => encodeWbxml(wb("AirSync:Nope")), WbxmlError);
});
