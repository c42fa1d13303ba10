import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolParseError, SkypeErrorCode } from "../../../src/skype/errors.js";
import {
  checkXmlSafety,
  decodeXmlEntities,
  escapeXml,
  parseXmlSafe,
  xmlAttr,
  xmlChildText,
  xmlChildren,
  xmlPath,
} from "../../../src/skype/xml.js";

const isUnsafe = (e: unknown): boolean =>
  e instanceof ProtocolParseError && e.code === SkypeErrorCode.UnsafeXml;

export const BILLION_LAUGHS =
  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
  Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`,
  ).join("") +
  `]><lolz>&lol9;</lolz>`;

test("billion laughs is refused before parsing, in bounded memory", () => {
  const before = process.memoryUsage().heapUsed;
  assert.throws(() => parseXmlSafe(BILLION_LAUGHS), isUnsafe);
  assert.ok(process.memoryUsage().heapUsed - before < 20 * 1024 * 1024);
});

test("external entities (XXE) and bare DOCTYPEs are refused", () => {
  assert.throws(
    () => parseXmlSafe(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`),
    isUnsafe,
  );
  assert.throws(() => parseXmlSafe(`<?xml version="1.0"?>\n<!doctype html><x/>`), isUnsafe);
  assert.throws(() => parseXmlSafe(`<x><!ENTITY a "b"></x>`), isUnsafe);
});

test("a DOCTYPE inside a comment or CDATA is only text", () => {
  const doc = parseXmlSafe(`<x><!-- <!DOCTYPE y> --><y><![CDATA[<!ENTITY z>]]></y></x>`);
  assert.equal(xmlChildText(doc.x, "y"), "<!ENTITY z>");
});

test("documents over the size limit are refused before parsing", () => {
  const big = `<x>${"a".repeat(2000)}</x>`;
  assert.throws(() => parseXmlSafe(big, { maxBytes: 1000 }), isUnsafe);
  assert.throws(() => parseXmlSafe(Buffer.from(big), { maxBytes: 1000 }), isUnsafe);
  assert.ok(parseXmlSafe(big, { maxBytes: 5000 }));
});

test("deep nesting is refused", () => {
  assert.throws(() => parseXmlSafe("<a>".repeat(65) + "</a>".repeat(65)), isUnsafe);
  assert.doesNotThrow(() => checkXmlSafety("<a>".repeat(64) + "<b/>" + "</a>".repeat(64)));
  assert.doesNotThrow(() => checkXmlSafety(`<a x="<a>">${"<b/>".repeat(100)}</a>`));
});

test("malformed XML is a Parse error", () => {
  for (const bad of ["<a><b></a>", "<a>", "just text", "<a/><b/>"]) {
    assert.throws(
      () => parseXmlSafe(bad),
      (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Parse,
    );
  }
});

test("predefined entities and character references are decoded, others kept", () => {
  const doc = parseXmlSafe(
    `<s:x xmlns:s="urn:x"><a k="1&amp;2">&lt;b&gt; &#233;&#x263A; &quot;&apos; &custom;</a><a/></s:x>`,
  );
  const a = xmlChildren(doc.x, "a");
  assert.equal(a.length, 2);
  assert.equal(xmlAttr(a[0], "k"), "1&2");
  assert.equal(xmlPath(doc, "x", "a", "#text") ?? xmlChildText(doc.x, "a"), `<b> é☺ "' &custom;`);
  assert.equal(decodeXmlEntities("&#0;&#xD800;&amp;amp;"), "&#0;&#xD800;&amp;");
});

test("escapeXml escapes markup and drops characters XML cannot carry", () => {
  assert.equal(escapeXml(`a<b>&"c'\u0001d`), "a&lt;b&gt;&amp;&quot;c&apos;d");
  assert.equal(escapeXml("EwA+/=xyz"), "EwA+/=xyz");
});
