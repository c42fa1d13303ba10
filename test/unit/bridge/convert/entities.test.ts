import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cleanText,
  decodeEntities,
  htmlEscape,
  xmlEscapeAttr,
  xmlEscapeText,
} from "../../../../src/bridge/convert/index.js";

void test("decodeEntities: XML, HTML named and numeric references", () => {
  assert.equal(decodeEntities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'");
  assert.equal(decodeEntities("caf&eacute; &Uuml;ber &nbsp;&hellip;&mdash;"), "café Über \u00a0…—");
  assert.equal(decodeEntities("&#65;&#x42;&#X43; &#128512; &#x1F600;"), "ABC 😀 😀");
});

void test("decodeEntities: invalid and unknown references", () => {
  assert.equal(decodeEntities("&#0; &#xD800; &#x110000;"), "\ufffd \ufffd \ufffd");
  assert.equal(decodeEntities("&bogus; &amp &; & x"), "&bogus; &amp &; & x");
  // Decoding happens once: an escaped entity stays an entity.
  assert.equal(decodeEntities("&amp;lt;"), "&lt;");
  assert.equal(decodeEntities("no entities"), "no entities");
});

void test("htmlEscape escapes all five characters", () => {
  assert.equal(htmlEscape(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  assert.equal(decodeEntities(htmlEscape(`<"'&>`)), `<"'&>`);
});

void test("XML escaping for Skype text and attributes", () => {
  assert.equal(xmlEscapeText(`a < b & "c" > 'd'`), `a &lt; b &amp; "c" &gt; 'd'`);
  assert.equal(xmlEscapeAttr(`8:x"'<&>`), "8:x&quot;&apos;&lt;&amp;&gt;");
});

void test("cleanText normalises newlines and drops control characters", () => {
  assert.equal(cleanText("a\r\nb\rc\n"), "a\nb\nc\n");
  assert.equal(cleanText("a\u0000b\u0007c\td\u007f"), "abc\td");
  assert.equal(cleanText("x\ud800y\udc00z 😀"), "x\ufffdy\ufffdz 😀");
});
