import { test } from "node:test";
import assert from "node:assert/strict";
import { CodePage, tagName, tagToken } from "../../../src/skype/activesync/code-pages.js";
import { decodeWbxml, encodeWbxml, wb, wbChildText } from "../../../src/skype/activesync/wbxml.js";
import { folderSyncRequest, syncRequest } from "../../../src/skype/activesync/commands.js";
import { ProtocolParseError, SkypeErrorCode } from "../../../src/skype/errors.js";

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));

test("FolderSync request is byte for byte the one of REFERENCE §11.5", () => {
  const expected = hex("03 01 6A 00 | 00 07 56 52 03 30 00 01 | 00 FE 45 46 47 03 53 49 44 00 01 01 01 | 01");
  assert.deepEqual(encodeWbxml(folderSyncRequest("0")), expected);
  const back = decodeWbxml(expected);
  assert.equal(back.tag, "FolderSync");
  assert.equal(back.page, CodePage.FolderHierarchy);
  assert.equal(wbChildText(back, "SyncKey"), "0");
  assert.deepEqual(encodeWbxml(back), expected);
});

test("code pages: tokens of REFERENCE §11.4", () => {
  assert.equal(tagToken(CodePage.AirSync, "Sync"), 0x05);
  assert.equal(tagToken(CodePage.AirSync, "MoreAvailable"), 0x14);
  assert.equal(tagToken(CodePage.AirSync, "ApplicationData"), 0x1d);
  assert.equal(tagToken(CodePage.AirSync, "HeartbeatInterval"), 0x29);
  assert.equal(tagToken(CodePage.Contacts, "Email1Address"), 0x1b);
  assert.equal(tagToken(CodePage.Contacts, "FileAs"), 0x1e);
  assert.equal(tagToken(CodePage.Contacts, "LastName"), 0x29);
  assert.equal(tagToken(CodePage.Contacts, "WeightedRank"), 0x3e);
  assert.equal(tagToken(CodePage.FolderHierarchy, "FolderSync"), 0x16);
  assert.equal(tagToken(CodePage.FolderHierarchy, "Count"), 0x17);
  assert.equal(tagToken(CodePage.Contacts2, "IMAddress"), 0x07);
  assert.equal(tagToken(CodePage.Contacts2, "MMS"), 0x0e);
  assert.equal(tagName(CodePage.SkypePrivate, 0x08), "Value");
});

test("Sync request round-trips, with empty elements and page switches", () => {
  const doc = syncRequest([{ syncKey: "k1", collectionId: "folder-1", getChanges: true, windowSize: 100 }]);
  const bytes = encodeWbxml(doc);
  // <Sync><Collections><Collection><SyncKey>k1</SyncKey><CollectionId>…</CollectionId><GetChanges/><WindowSize>100
  assert.deepEqual(
    Buffer.from(bytes).toString("hex"),
    "03016a00" +
      "45" +
      "5c" +
      "4f" +
      "4b03" +
      Buffer.from("k1").toString("hex") +
      "0001" +
      "5203" +
      Buffer.from("folder-1").toString("hex") +
      "0001" +
      "13" +
      "5503" +
      Buffer.from("100").toString("hex") +
      "0001" +
      "010101",
  );
  assert.deepEqual(decodeWbxml(bytes), doc);
});

test("text, UTF-8, OPAQUE and multi-byte lengths decode", () => {
  const opaque = new Uint8Array(200).fill(0x41);
  const doc = wb(
    CodePage.AirSync,
    "Sync",
    wb(CodePage.Contacts, "FileAs", "Carol Ånström ☺"),
    wb(CodePage.Contacts, "Body", opaque),
  );
  const bytes = encodeWbxml(doc);
  // 200 = mb_u_int32 0x81 0x48
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0xc3, 0x81, 0x48])));
  const back = decodeWbxml(bytes);
  assert.equal(wbChildText(back, "FileAs"), "Carol Ånström ☺");
  assert.deepEqual(back.children[1], { page: 1, tag: "Body", children: [opaque] });
});

test("STR_T references the string table; unknown tags decode by token", () => {
  // header with a 4-byte string table "ab\0\0"; <Sync><SyncKey>STR_T 0</SyncKey><0x3f/></Sync>
  const doc = decodeWbxml(hex("03 01 6A 04 61 62 00 00 45 4B 83 00 01 3F 01"));
  assert.equal(wbChildText(doc, "SyncKey"), "ab");
  assert.equal((doc.children[1] as { tag: string }).tag, "0x3f");
});

test("tags are named by the page in force: unknown pages by token, known pages after them", () => {
  // <Sync> SWITCH 0x20 <0x05/> SWITCH 1 <Anniversary/> SWITCH 0 <SyncKey/> </Sync>
  const doc = decodeWbxml(hex("03 01 6A 00 45 00 20 05 00 01 05 00 00 0B 01"));
  assert.deepEqual(doc, {
    page: 0,
    tag: "Sync",
    children: [
      { page: 0x20, tag: "0x05", children: [] },
      { page: 1, tag: "Anniversary", children: [] },
      { page: 0, tag: "SyncKey", children: [] },
    ],
  });
});

test("public id 0 with a string-table index is accepted", () => {
  const doc = decodeWbxml(hex("03 00 00 6A 00 05"));
  assert.equal(doc.tag, "Sync");
});

const malformed: [string, string][] = [
  ["empty", ""],
  ["header only", "03 01 6A 00"],
  ["truncated element", "03 01 6A 00 45 4B 03 30"],
  ["unterminated string", "03 01 6A 00 45 4B 03 30 30"],
  ["END without element", "03 01 6A 00 01"],
  ["attributes", "03 01 6A 00 C5 01"],
  ["unsupported token (ENTITY)", "03 01 6A 00 45 02 41 01"],
  ["LITERAL", "03 01 6A 00 04 00"],
  ["opaque longer than data", "03 01 6A 00 45 C3 10 41 01"],
  ["mb_u_int32 over 5 bytes", "03 01 6A 00 45 C3 FF FF FF FF FF 01 01"],
  ["data after root", "03 01 6A 00 45 01 45 01"],
  ["text outside root", "03 01 6A 00 03 41 00"],
  ["unsupported charset", "03 01 04 00 05"],
  ["bad version", "09 01 6A 00 05"],
  ["string table overflow", "03 01 6A 10 00"],
  ["STR_T out of range", "03 01 6A 00 45 83 05 01"],
  ["unclosed", "03 01 6A 00 45 4F"],
];

for (const [name, bytes] of malformed) {
  test(`malformed WBXML (${name}) → ProtocolParseError Wbxml`, () => {
    assert.throws(
      () => decodeWbxml(hex(bytes)),
      (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Wbxml && !e.retryable,
    );
  });
}

test("nesting deeper than the limit is refused", () => {
  const deep = Buffer.concat([
    Buffer.from([3, 1, 0x6a, 0]),
    Buffer.alloc(200, 0x45),
    Buffer.alloc(200, 0x01),
  ]);
  assert.throws(
    () => decodeWbxml(deep),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Wbxml,
  );
});

test("encoding an unknown tag is a typed error", () => {
  assert.throws(
    () => encodeWbxml(wb(CodePage.AirSync, "NoSuchTag")),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Wbxml,
  );
});
