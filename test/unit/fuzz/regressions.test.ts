// SPDX-License-Identifier: Apache-2.0
// The fuzzers' findings, shrunk to one input each and kept as plain tests (see RELIABILITY.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfig } from "../../../src/config/index.js";
import { decodeWbxml, encodeWbxml, type WbxmlElement } from "../../../src/skype/activesync/wbxml.js";
import { ProtocolParseError, SkypeErrorCode } from "../../../src/skype/errors.js";
import { buildMultipart, parseMultipart } from "../../../src/skype/msnp/body.js";
import { encodeFrame, FrameParser } from "../../../src/skype/msnp/framing.js";

void test("a header value holding U+2028 or U+2029 is read back, not dropped", () => {
  const [f] = new FrameParser().push(
    encodeFrame({ command: "AAA", trid: 0, type: "A", headers: [["a", "a\u2028b"]], body: "" }),
  );
  assert.equal(f!.headers.get("a"), "a\u2028b");
  assert.equal(f!.body.length, 0, "the top block did not become the body");
  const mm = parseMultipart(
    buildMultipart({
      routing: [["Routing", "1.0"]],
      content: [
        ["Messaging", "2.0"],
        ["IM-Display-Name", "Bob\u2029 "],
      ],
      body: "hi",
    }),
  );
  assert.equal(mm.content.get("IM-Display-Name"), "Bob\u2029", "only spaces and tabs are trimmed");
});

void test("a command line exactly at the limit is accepted wherever TCP cuts it", () => {
  const line = `CNT 1 ${"A".repeat(56)} 0`; // 64 bytes
  for (let cut = 0; cut <= line.length + 2; cut++) {
    const p = new FrameParser({ maxLineBytes: 64 });
    const wire = Buffer.from(`${line}\r\n`);
    const frames = [...p.push(wire.subarray(0, cut)), ...p.push(wire.subarray(cut))];
    assert.equal(frames.length, 1, `cut at ${cut}`);
  }
  assert.throws(
    () => new FrameParser({ maxLineBytes: 64 }).push(Buffer.from(`${line}X\r`)),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.MsnpFraming,
  );
});

void test("WBXML: the encoder and decoder agree on the depth limit (64 levels)", () => {
  const chain = (levels: number, leaf: string[]): WbxmlElement => {
    let el: WbxmlElement = { page: 0, tag: "Sync", children: leaf };
    for (let i = 1; i < levels; i++) el = { page: 0, tag: "Collection", children: [el] };
    return el;
  };
  for (const leaf of [[], [""]]) {
    assert.deepEqual(decodeWbxml(encodeWbxml(chain(64, leaf))), chain(64, leaf));
    assert.throws(
      () => encodeWbxml(chain(65, leaf)),
      (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Wbxml,
    );
  }
  // 65 levels written by someone else (a childless innermost element) are refused too.
  const deep = [3, 1, 0x6a, 0, ...Array<number>(64).fill(0x45 | 0x40), 0x45, ...Array<number>(64).fill(1)];
  assert.throws(
    () => decodeWbxml(Uint8Array.from(deep)),
    (e: unknown) => e instanceof ProtocolParseError && /nested too deeply/.test(e.message),
  );
});

void test("config: a second YAML document is a ConfigError, not a TypeError", () => {
  assert.throws(
    () => parseConfig("homeserver:\n---\n", {}),
    (e: unknown) => e instanceof ConfigError && /single document/.test(e.message),
  );
});

void test("config: js-yaml failing inside a type (!!binary on a number) is a ConfigError", () => {
  assert.throws(
    () => parseConfig("!!binary \n0x1F", {}),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith("(yaml)"),
  );
});

void test("config: a token key read as a YAML alias or tag is not quoted back", () => {
  const key = "hunter2-correct-horse-battery";
  for (const text of [`secrets:\n  token_key: *${key}\n`, `secrets:\n  token_key: !${key} x\n`]) {
    assert.throws(
      () => parseConfig(text, {}),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith("(yaml)") && !e.message.includes(key),
    );
  }
});
