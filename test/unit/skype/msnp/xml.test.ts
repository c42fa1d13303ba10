import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeXml, findAll, findFirst, parseXml } from "../../../../src/skype/xml.js";
import {
  contentText,
  parseHistoryPage,
  parseRecentConversations,
} from "../../../../src/skype/msnp/history.js";
import { parseThreadActivity, parseThreads } from "../../../../src/skype/msnp/threads.js";
import { parseUserDocument } from "../../../../src/skype/msnp/presence.js";
import { SelfIdentity } from "../../../../src/skype/msnp/identity.js";
import { userXml } from "../../../../src/skype/msnp/payloads.js";
import { ProtocolParseError, SkypeErrorCode } from "../../../../src/skype/errors.js";

test("XML: attributes, entities, CDATA, raw inner markup", () => {
  const doc = parseXml(
    `<?xml version="1.0"?><a x='1' y="&lt;2&gt;"><b>t &amp; u</b><c><![CDATA[<raw>]]></c><d/></a>`,
  );
  const a = findFirst(doc, "A")!;
  assert.equal(a.attrs.y, "<2>");
  assert.equal(findFirst(doc, "b")!.text, "t & u");
  assert.equal(findFirst(doc, "c")!.text, "<raw>");
  assert.equal(findFirst(doc, "b")!.raw, "t &amp; u");
  assert.equal(findAll(doc, "d").length, 1);
});

test("XML: DOCTYPE and malformed documents are refused", () => {
  assert.throws(
    () => parseXml(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.UnsafeXml,
  );
  assert.throws(() => parseXml("<a><b></a>"), ProtocolParseError);
  assert.throws(() => parseXml("<a>"), ProtocolParseError);
  assert.throws(() => parseXml("junk<a/>"), ProtocolParseError);
});

test("ATH values are XML-escaped", () => {
  const xml = userXml("EwA+/=&<", "u<i>c", "a&b@x.com", "live:a");
  assert.ok(xml.includes("<ssl-compact-ticket>t=EwA+/=&amp;&lt;</ssl-compact-ticket>"));
  assert.ok(xml.includes("<uic>u&lt;i&gt;c</uic>"));
  assert.equal(findFirst(parseXml(xml), "id")!.text, "a&b@x.com");
  assert.equal(escapeXml(`"'`), "&quot;&apos;");
});

test("history page: escaped and raw rich content, edits, emote offsets, paging fields", () => {
  const self = new SelfIdentity("alice@hotmail.co.uk", "live:alice_1");
  const xml =
    `<messagesbyconversation-response><id>8:live:bob_1</id><hasmore>true</hasmore>` +
    `<messagessyncstate>S2</messagessyncstate><messages>` +
    `<message><originalarrivaltime>2026-01-01T00:00:02Z</originalarrivaltime><from>8:live:bob_1</from>` +
    `<to>8:live:alice_1</to><messagetype>RichText</messagetype><contenttype>text</contenttype>` +
    `<content>&lt;b&gt;a &amp;amp; b&lt;/b&gt;</content><id>102</id><clientmessageid>7</clientmessageid>` +
    `<imdisplayname>Bob</imdisplayname><skypeeditedid>6</skypeeditedid></message>` +
    `<message><from>8:live:alice_1</from><messagetype>Text</messagetype><content>Alice waves</content>` +
    `<id>101</id><clientmessageid>9</clientmessageid><skypeemoteoffset>5</skypeemoteoffset></message>` +
    `</messages></messagesbyconversation-response>`;
  const page = parseHistoryPage(xml, "8:live:bob_1", self);
  assert.equal(page.hasMore, true);
  assert.equal(page.syncState, "S2");
  assert.equal(page.messages.length, 2);
  assert.equal(page.messages[0]!.content, "<b>a &amp; b</b>");
  assert.equal(page.messages[0]!.editedId, "6");
  assert.equal(page.messages[1]!.fromMe, true);
  assert.equal(page.messages[1]!.emoteOffset, "5");
  assert.equal(
    contentText(findFirst(parseXml("<content><b>x &amp; y</b></content>"), "content")),
    "<b>x &amp; y</b>",
  );
  const recent = parseRecentConversations(
    `<recentconversations-response><conversations><conversation><id>8:live:bob_1</id><messages>` +
      `<message><id>55</id></message><message><id>60</id></message></messages></conversation>` +
      `<conversation><id>19:aa@thread.skype</id><thread/></conversation></conversations></recentconversations-response>`,
  );
  assert.deepEqual(recent, [{ id: "8:live:bob_1", lastMessageId: "60" }, { id: "19:aa@thread.skype" }]);
});

test("threads and ThreadActivity bodies", () => {
  const [t] = parseThreads(
    `<thread><id>19:aa@thread.skype</id><members><member><mri>8:live:alice_1</mri><role>Admin</role></member>` +
      `<member><mri>8:live:bob_1</mri><role>user</role></member></members>` +
      `<properties><topic>Plans &amp; more</topic><creator>8:live:alice_1</creator></properties></thread>`,
  );
  assert.deepEqual(t, {
    id: "19:aa@thread.skype",
    members: [
      { mri: "8:live:alice_1", role: "admin" },
      { mri: "8:live:bob_1", role: "user" },
    ],
    topic: "Plans & more",
    creator: "8:live:alice_1",
  });
  assert.deepEqual(
    parseThreadActivity(
      `<addmember><eventtime>1</eventtime><initiator>8:a</initiator><target>8:b</target><target>8:c</target></addmember>`,
    ),
    { eventTime: "1", initiator: "8:a", targets: [{ mri: "8:b" }, { mri: "8:c" }] },
  );
  assert.deepEqual(
    parseThreadActivity(
      `<roleupdate><eventtime>2</eventtime><initiator>8:a</initiator><target><id>8:b</id><role>admin</role></target></roleupdate>`,
    ),
    { eventTime: "2", initiator: "8:a", targets: [{ mri: "8:b", role: "admin" }] },
  );
  assert.equal(
    parseThreadActivity(`<topicupdate><initiator>8:a</initiator><value>New</value></topicupdate>`).value,
    "New",
  );
});

test("presence documents", () => {
  const d = parseUserDocument(
    `<user><s n="IM"><Status>bsy</Status></s><sep n="IM" epid="{ABC}"><Capabilities>0:0</Capabilities></sep>` +
      `<s n="SKP"><Mood>busy &amp; happy</Mood></s></user>`,
  );
  assert.deepEqual(d, { status: "BSY", mood: "busy & happy", epids: ["abc"] });
});
