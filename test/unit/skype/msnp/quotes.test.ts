import { test } from "node:test";
import assert from "node:assert/strict";
import { parseQuotes, quoteXml } from "../../../../src/skype/msnp/quotes.js";

// PROFILE §7.4 / REFERENCE §16 (web client quoteEncoder.js, with the later `messageid`).
const PROFILE_SHAPE =
  '<quote author="8:live:bob_1" authorname="Bob" timestamp="1733350000" conversation="8:live:alice_1" messageid="1733350000123">' +
  "<legacyquote>[2024-12-04 22:06:40] Bob: </legacyquote>see <b>you</b> &amp; them" +
  "<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>sure!";

test("parseQuotes reads every §7.4 part and drops the legacyquote text", () => {
  const [q, ...rest] = parseQuotes(PROFILE_SHAPE);
  assert.equal(rest.length, 0);
  assert.deepEqual(q, {
    author: "8:live:bob_1",
    authorName: "Bob",
    timestamp: 1733350000,
    conversation: "8:live:alice_1",
    messageId: "1733350000123",
    richText: "see <b>you</b> &amp; them",
  });
});

test("parseQuotes: REFERENCE §16 web shape without messageid, 1: authors, several quotes", () => {
  const body =
    '<quote author="1:frank@outlook.com" authorname="Frank" conversation="19:abc@thread.skype" timestamp="1461605505">' +
    "<legacyquote>[25/04/2016 17:31:45] Frank: </legacyquote>first<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>" +
    '<quote author="8:bob;epid={x}" messageid="42">second</quote>both';
  const qs = parseQuotes(body);
  assert.equal(qs.length, 2);
  assert.equal(qs[0]!.author, "1:frank@outlook.com");
  assert.equal(qs[0]!.messageId, undefined);
  assert.equal(qs[0]!.richText, "first");
  assert.equal(qs[1]!.author, "8:bob");
  assert.equal(qs[1]!.messageId, "42");
  assert.equal(qs[1]!.authorName, undefined);
});

test("parseQuotes is liberal in what it ignores and never throws", () => {
  const cases: [string, number][] = [
    ["no quote here", 0],
    ["", 0],
    ['<quote messageid="12">unclosed', 0], // not well-formed: no quote, the body shows as text
    ["<QUOTE MessageId='7'>x</QUOTE>", 1], // case of names
    ['<b><quote messageid="1">nested</quote></b>', 0], // not a top-level quote
    ['<quote messageid="1 OR 1=1" timestamp="-5" author="javascript:x">x</quote>', 1],
    ['<!DOCTYPE x [<!ENTITY a "b">]><quote messageid="1">&a;</quote>', 0],
    ["<quote>" + "<b>".repeat(300) + "</b>".repeat(300) + "</quote>", 0], // deeper than the gate allows
    ['<quote messageid="1" messageid="2">dup</quote>', 0],
    ["<quote>a<br>b</quote>", 0],
  ];
  for (const [body, n] of cases) assert.equal(parseQuotes(body).length, n, body.slice(0, 60));
  const [odd] = parseQuotes('<quote messageid="1 OR 1=1" timestamp="-5" author="javascript:x">x</quote>');
  assert.deepEqual(odd, { richText: "x" });
  assert.deepEqual(parseQuotes(null as unknown as string), []);
});

test("quoteXml writes the §7.4 shape, escaped, and parseQuotes reads it back", () => {
  const xml = quoteXml({
    author: "8:live:bob_1;epid={1}",
    authorName: 'Bob "<the builder>" & co',
    timestampMs: 1_733_350_000_999,
    conversation: "8:live:bob_1",
    messageId: "1733350000123",
    richText: "hi &amp; <b>bye</b>",
  });
  assert.equal(
    xml,
    '<quote author="8:live:bob_1" authorname="Bob &quot;&lt;the builder&gt;&quot; &amp; co" timestamp="1733350000" ' +
      'conversation="8:live:bob_1" messageid="1733350000123"><legacyquote>[2024-12-04 22:06:40] Bob &quot;&lt;the builder&gt;&quot; &amp; co: </legacyquote>' +
      "hi &amp; <b>bye</b><legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>",
  );
  const [q] = parseQuotes(xml + "reply");
  assert.equal(q!.authorName, 'Bob "<the builder>" & co');
  assert.equal(q!.messageId, "1733350000123");
  assert.equal(q!.timestamp, 1733350000);
  assert.equal(q!.richText, "hi &amp; <b>bye</b>");
});

test("quoteXml leaves out a messageid that is not a Message-ID", () => {
  const xml = quoteXml({
    author: "8:x",
    authorName: "X",
    timestampMs: 0,
    conversation: "8:x",
    messageId: '1" onload="',
    richText: "",
  });
  assert.ok(!xml.includes("messageid"));
  assert.equal(parseQuotes(xml)[0]!.messageId, undefined);
});
