// One XML policy for every caller in src/skype: the same hostile documents are refused the same
// way (class, code and message) through the SOAP readers and through the MSNP payload readers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolParseError, SkypeErrorCode } from "../../../src/skype/errors.js";
import { parseSoapResponse } from "../../../src/skype/soap/parse.js";
import { parseHistoryPage, parseRecentConversations } from "../../../src/skype/msnp/history.js";
import { parseThreadActivity, parseThreads } from "../../../src/skype/msnp/threads.js";
import { parseUserDocument } from "../../../src/skype/msnp/presence.js";
import { parseRedirect } from "../../../src/skype/msnp/login.js";
import { SelfIdentity } from "../../../src/skype/msnp/identity.js";
import {
  DEFAULT_MAX_XML_BYTES,
  child,
  childText,
  decodeXmlEntities,
  findFirst,
  parseXml,
  parseXmlSafe,
  xmlChildText,
  xmlPath,
} from "../../../src/skype/xml.js";

// The same bomb as in xml.test.ts (importing that file would run its tests here again).
const BILLION_LAUGHS =
  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
  Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`,
  ).join("") +
  `]><lolz>&lol9;</lolz>`;

const self = new SelfIdentity("alice@hotmail.co.uk", "live:alice_1");

/** Every reader of server XML in src/skype, by the kind of caller it is. */
const callers: Record<string, (xml: string) => unknown> = {
  "SOAP parseSoapResponse": (xml) => parseSoapResponse(xml),
  "SOAP parseXmlSafe": (xml) => parseXmlSafe(xml),
  "MSNP parseXml": (xml) => parseXml(xml),
  "MSNP presence": (xml) => parseUserDocument(xml),
  "MSNP threads": (xml) => parseThreads(xml),
  "MSNP thread activity": (xml) => parseThreadActivity(xml),
  "MSNP history page": (xml) => parseHistoryPage(xml, "8:live:bob_1", self),
  "MSNP recent conversations": (xml) => parseRecentConversations(xml),
  "MSNP redirect": (xml) => parseRedirect(xml),
};

const soapWrap = (inner: string): string =>
  `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${inner}</soap:Body></soap:Envelope>`;

const hostile: { name: string; xml: string; code: SkypeErrorCode; message: RegExp }[] = [
  {
    name: "DOCTYPE with an entity bomb (billion laughs)",
    xml: BILLION_LAUGHS,
    code: SkypeErrorCode.UnsafeXml,
    message: /DOCTYPE/,
  },
  {
    name: "external entity (XXE)",
    xml: `<?xml version="1.0"?><!DOCTYPE user [<!ENTITY e SYSTEM "file:///etc/passwd">]><user>&e;</user>`,
    code: SkypeErrorCode.UnsafeXml,
    message: /DOCTYPE/,
  },
  {
    name: "an entity declaration without a DOCTYPE",
    xml: `<user><!ENTITY e "x"><s>&e;</s></user>`,
    code: SkypeErrorCode.UnsafeXml,
    message: /entity declaration/,
  },
  {
    name: "a lone high surrogate in text",
    xml: soapWrap(`<user><s n="IM"><Status>NLN\uD800</Status></s></user>`),
    code: SkypeErrorCode.UnsafeXml,
    message: /lone surrogate/,
  },
  {
    name: "a lone low surrogate in an attribute",
    xml: soapWrap(`<thread id="\uDC00"><id>19:a@thread.skype</id></thread>`),
    code: SkypeErrorCode.UnsafeXml,
    message: /lone surrogate/,
  },
  {
    name: "a control character XML 1.0 forbids",
    xml: soapWrap(`<target>127.0.0.1:1863\u0001</target>`),
    code: SkypeErrorCode.UnsafeXml,
    message: /U\+1 /,
  },
  {
    name: "U+FFFF",
    xml: soapWrap(`<Mood>\uFFFF</Mood>`),
    code: SkypeErrorCode.UnsafeXml,
    message: /U\+FFFF/,
  },
  {
    name: "10,000 nested elements",
    xml: "<a>".repeat(10_000) + "</a>".repeat(10_000),
    code: SkypeErrorCode.UnsafeXml,
    message: /nested deeper than 64/,
  },
  {
    name: "10,000 nested elements below a valid SOAP envelope",
    xml: soapWrap("<user>".repeat(10_000) + "</user>".repeat(10_000)),
    code: SkypeErrorCode.UnsafeXml,
    message: /nested deeper than 64/,
  },
  {
    name: "a document over the 4 MiB limit",
    xml: soapWrap(`<Mood>${"x".repeat(DEFAULT_MAX_XML_BYTES)}</Mood>`),
    code: SkypeErrorCode.UnsafeXml,
    message: /over the 4194304-byte limit/,
  },
  {
    name: "a document over the limit by its multi-byte characters only",
    xml: `<Mood>${"é".repeat(DEFAULT_MAX_XML_BYTES / 2)}</Mood>`,
    code: SkypeErrorCode.UnsafeXml,
    message: /over the 4194304-byte limit/,
  },
  {
    name: "mismatched tags",
    xml: `<user><s></user>`,
    code: SkypeErrorCode.Parse,
    message: /malformed XML/,
  },
  {
    name: "two root elements",
    xml: `<thread><id>1</id></thread><thread><id>2</id></thread>`,
    code: SkypeErrorCode.Parse,
    message: /several roots/,
  },
  {
    name: "a bare ampersand",
    xml: `<user><Mood>a & b</Mood></user>`,
    code: SkypeErrorCode.Parse,
    message: /malformed XML/,
  },
];

for (const h of hostile) {
  test(`one policy: ${h.name} is refused the same way by every caller`, () => {
    const seen: string[] = [];
    for (const [name, parse] of Object.entries(callers)) {
      assert.throws(
        () => parse(h.xml),
        (e: unknown) => {
          assert.ok(e instanceof ProtocolParseError, `${name}: a ProtocolParseError, got ${String(e)}`);
          assert.equal(e.code, h.code, `${name}: ${e.message}`);
          assert.match(e.message, h.message, name);
          assert.equal(e.retryable, false, name);
          seen.push(e.message);
          return true;
        },
        name,
      );
    }
    assert.equal(new Set(seen).size, 1, `one message for all callers: ${JSON.stringify([...new Set(seen)])}`);
  });
}

test("one policy: the entity bomb is refused in bounded memory through an MSNP caller too", () => {
  const before = process.memoryUsage().heapUsed;
  assert.throws(() => parseThreads(BILLION_LAUGHS), ProtocolParseError);
  assert.throws(() => parseUserDocument(BILLION_LAUGHS), ProtocolParseError);
  assert.ok(process.memoryUsage().heapUsed - before < 20 * 1024 * 1024);
});

test("one policy: the depth limit is the same for both views (64 levels pass, 65 do not)", () => {
  const nest = (n: number): string => "<a>".repeat(n) + "x" + "</a>".repeat(n);
  assert.doesNotThrow(() => parseXml(nest(64)));
  assert.doesNotThrow(() => parseXmlSafe(nest(64)));
  for (const parse of [parseXml, parseXmlSafe]) {
    assert.throws(
      () => parse(nest(65)),
      (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.UnsafeXml,
    );
  }
});

test("one policy: Buffers are measured and read like strings", () => {
  const big = Buffer.from(`<a>${"a".repeat(2000)}</a>`);
  for (const parse of [parseXml, parseXmlSafe]) {
    assert.throws(
      () => parse(big, { maxBytes: 1000 }),
      (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.UnsafeXml,
    );
  }
  assert.equal(findFirst(parseXml(Buffer.from("\uFEFF<a>é</a>")), "a")!.text, "é");
  assert.deepEqual(parseXmlSafe(Buffer.from("\uFEFF<a>é</a>")), { a: "é" });
});

test("one policy: references to characters XML cannot carry stay literal in both views", () => {
  const xml = `<a k="&#xD800;">&#0;&#1;&#xDFFF;&#xFFFE;&#x1F600;&#233;</a>`;
  const el = findFirst(parseXml(xml), "a")!;
  assert.equal(el.text, "&#0;&#1;&#xDFFF;&#xFFFE;\u{1F600}é");
  assert.equal(el.attrs.k, "&#xD800;");
  assert.deepEqual(parseXmlSafe(xml), {
    a: { "@k": "&#xD800;", "#text": "&#0;&#1;&#xDFFF;&#xFFFE;\u{1F600}é" },
  });
  assert.equal(decodeXmlEntities("&#x1;&#9;&#x10FFFF;&#x110000;"), "&#x1;\t\u{10FFFF}&#x110000;");
});

test("one policy: entities are decoded once, HTML entities are not, CDATA is literal", () => {
  const xml = `<a><b>&amp;lt; &nbsp; &copy;</b><c><![CDATA[x &amp; <y>]]></c><d>1 <![CDATA[&lt;]]> 2</d></a>`;
  const doc = parseXml(xml);
  assert.equal(findFirst(doc, "b")!.text, "&lt; &nbsp; &copy;");
  assert.equal(findFirst(doc, "c")!.text, "x &amp; <y>");
  assert.equal(findFirst(doc, "d")!.text, "1 &lt; 2");
  const obj = parseXmlSafe(xml);
  assert.equal(xmlPath(obj, "a", "b"), "&lt; &nbsp; &copy;");
  assert.equal(xmlChildText(xmlPath(obj, "a"), "c"), "x &amp; <y>");
  assert.equal(xmlChildText(xmlPath(obj, "a"), "d"), "1&lt;2");
});

test("element tree: raw inner markup of any element, as sent (CRLF, quotes with '>')", () => {
  const xml = `<?xml version="1.0"?>\r\n<m:r xmlns:m="urn:x"><p q="a>b" r='"'>x &amp;\r\n<i>y</i></p><e/><f></f><g k="/"/></m:r>`;
  const doc = parseXml(xml);
  const r = child(doc, "r")!;
  assert.equal(doc.children.length, 1);
  assert.deepEqual(
    r.children.map((c) => c.name),
    ["p", "e", "f", "g"],
  );
  const p = child(r, "p")!;
  assert.equal(p.raw, "x &amp;\r\n<i>y</i>");
  assert.equal(p.text, "x &\n");
  assert.deepEqual({ ...p.attrs }, { q: "a>b", r: '"' });
  assert.equal(child(r, "e")!.raw, "");
  assert.equal(child(r, "f")!.raw, "");
  assert.equal(child(r, "g")!.raw, "");
  assert.equal(r.raw, `<p q="a>b" r='"'>x &amp;\r\n<i>y</i></p><e/><f></f><g k="/"/>`);
});

test("element tree: text is kept verbatim, lookups are case-insensitive", () => {
  const doc = parseXml(`<user><s n="SKP"><Mood>  spaced  </Mood></s></user>`);
  assert.equal(findFirst(doc, "MOOD")!.text, "  spaced  ");
  assert.equal(childText(findFirst(doc, "s"), "mood"), "spaced");
  assert.equal(parseUserDocument(`<user><s n="SKP"><Mood> hi </Mood></s></user>`).mood, " hi ");
});

test("a blank MSNP body is an empty document; a blank SOAP answer is a Parse error", () => {
  assert.equal(parseXml("").children.length, 0);
  assert.equal(parseXml(" \r\n").children.length, 0);
  assert.deepEqual(parseThreads(""), []);
  assert.throws(
    () => parseXmlSafe(""),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Parse,
  );
});

test("leading whitespace before the declaration is accepted by both views", () => {
  const xml = `\r\n<?xml version="1.0"?><ping-response><wait>50</wait></ping-response>`;
  assert.equal(findFirst(parseXml(xml), "wait")!.text, "50");
  assert.equal(xmlPath(parseXmlSafe(xml), "ping-response", "wait"), "50");
});
