import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cleanText,
  decodeEntities,
  escapeHtml,
  htmlEscape,
  parseHtml,
  textContent,
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

void test("decodeEntities: the whole HTML table, not only common names", () => {
  // Rare names (one of them two code points, one astral) that a hand-written table would miss.
  assert.equal(decodeEntities("&NotNestedLessLess;"), "\u2aa1\u0338");
  assert.equal(
    decodeEntities("&bopf; &Cconint; &hellip; &ThickSpace;"),
    "\u{1d553} \u2230 \u2026 \u205f\u200a",
  );
  // Names are case-sensitive: &Hellip; is not an entity.
  assert.equal(decodeEntities("&Hellip;"), "&Hellip;");
});

void test("parseHtml decodes rare entities in text and attribute values", () => {
  const root = parseHtml(`<a title="&NotNestedLessLess;&bopf;">&NotNestedLessLess; &hellip; &bopf;</a>`);
  const a = root.children[0];
  assert.ok(a?.type === "element");
  assert.equal(a.attrs.get("title"), "\u2aa1\u0338\u{1d553}");
  assert.equal(textContent(root), "\u2aa1\u0338 \u2026 \u{1d553}");
});

void test("escapeHtml (alias htmlEscape) escapes all five characters", () => {
  // `'` was written `&#39;` by the hand-written escaper; the library writes `&apos;`.
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  assert.equal(decodeEntities(escapeHtml(`<"'&>`)), `<"'&>`);
  assert.equal(htmlEscape, escapeHtml);
});

void test("one escape for Skype XML text and attributes", () => {
  // Skype RichText text used to keep quotes as they were; the single helper escapes them too.
  assert.equal(escapeHtml(`a < b & "c" > 'd'`), "a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;");
  assert.equal(escapeHtml(`8:x"'<&>`), "8:x&quot;&apos;&lt;&amp;&gt;");
  // Nothing else is touched: no `&nbsp;` (undefined in XML), non-ASCII stays as it is.
  assert.equal(escapeHtml("a\u00a0b Zoë 😀"), "a\u00a0b Zoë 😀");
});

void test("cleanText normalises newlines and drops control characters", () => {
  assert.equal(cleanText("a\r\nb\rc\n"), "a\nb\nc\n");
  assert.equal(cleanText("a\u0000b\u0007c\td\u007f"), "abc\td");
  assert.equal(cleanText("x\ud800y\udc00z 😀"), "x\ufffdy\ufffdz 😀");
});
