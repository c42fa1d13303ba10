import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isMediaMessageType,
  mediaMessageType,
  parseUriObject,
  readMediaContent,
  writeUriObject,
} from "../../../../src/skype/media/uri-object.js";
import { SkypeErrorCode } from "../../../../src/skype/errors.js";

const AMS = "https://api.asm.skype.com";
const ID = "0-weu-d1-0123456789abcdef0123456789abcdef";

test("the image shape of PROFILE §7.3, exactly, and read back", () => {
  const xml = writeUriObject({ kind: "image", ams: AMS, objectId: ID, name: "cat.png", size: 1234 });
  assert.equal(
    xml,
    `<URIObject type="Picture.1" uri="${AMS}/v1/objects/${ID}" url_thumbnail="${AMS}/v1/objects/${ID}/views/imgt1">` +
      `To view this shared photo, go to: <a href="https://login.skype.com/login/sso?go=xmmfallback?pic=${ID}">` +
      `https://login.skype.com/login/sso?go=xmmfallback?pic=${ID}</a><OriginalName v="cat.png"/>` +
      `<FileSize v="1234"/><meta type="photo" originalName="cat.png"/></URIObject>`,
  );
  const o = parseUriObject(xml, "RichText/UriObject");
  assert.deepEqual(o, {
    type: "Picture.1",
    kind: "image",
    uri: `${AMS}/v1/objects/${ID}`,
    thumbnailUri: `${AMS}/v1/objects/${ID}/views/imgt1`,
    name: "cat.png",
    size: 1234,
    view: "imgpsh_fullsize",
    thumbnailView: "imgt1",
  });
});

test("the file shape of PROFILE §7.3, exactly, and read back", () => {
  const xml = writeUriObject({
    kind: "file",
    ams: AMS + "/",
    objectId: ID,
    name: "a <b> & 'c'.pdf",
    size: 9,
  });
  assert.equal(
    xml,
    `<URIObject type="File.1" uri="${AMS}/v1/objects/${ID}" url_thumbnail="${AMS}/v1/objects/${ID}/views/thumbnail">` +
      `<Title>Title: a &lt;b&gt; &amp; &apos;c&apos;.pdf</Title><Description> Description: a &lt;b&gt; &amp; &apos;c&apos;.pdf</Description>` +
      `<a href="https://login.skype.com/login/sso?go=webclient.xmm&amp;docid=${ID}">https://login.skype.com/login/sso?go=webclient.xmm&amp;docid=${ID}</a>` +
      `<OriginalName v="a &lt;b&gt; &amp; &apos;c&apos;.pdf"/><FileSize v="9"/></URIObject>`,
  );
  const o = parseUriObject(xml, "RichText/Media_GenericFile");
  assert.equal(o.kind, "file");
  assert.equal(o.name, "a <b> & 'c'.pdf");
  assert.equal(o.size, 9);
  assert.equal(o.view, "original");
  assert.equal(o.thumbnailView, undefined);
});

test("REFERENCE §16's web-client picture (no FileSize) and name fallbacks", () => {
  const web =
    `<URIObject type="Picture.1" uri="${AMS}/v1/objects/${ID}" url_thumbnail="${AMS}/v1/objects/${ID}/views/imgt1">` +
    `To view this shared photo, go to: <a href="https://x/?pic=${ID}">x</a>` +
    `<meta type="photo" originalName="from-meta.jpg"/></URIObject>`;
  const o = parseUriObject(web);
  assert.equal(o.name, "from-meta.jpg");
  assert.equal(o.size, undefined);
  // Title without "Title: ", when neither OriginalName nor meta name it.
  const t = parseUriObject(
    `<URIObject type="File.1" uri="${AMS}/v1/objects/${ID}"><Title>Title: report.txt</Title></URIObject>`,
  );
  assert.equal(t.name, "report.txt");
  // No type but <meta type="photo">: a picture.
  assert.equal(parseUriObject(`<URIObject uri="u"><meta type="photo"/></URIObject>`).kind, "image");
  // Later clients' types, and width/height.
  const v = parseUriObject(
    `<URIObject type="Video.1/Message.1" uri="u" width="640" height="480"><FileSize v="x"/></URIObject>`,
  );
  assert.deepEqual([v.kind, v.view, v.width, v.height, v.size], ["video", "original", 640, 480, undefined]);
  assert.equal(parseUriObject(`<URIObject type="Audio.1/Message.1" uri="u"/>`).kind, "audio");
  assert.equal(parseUriObject(`<URIObject uri="u"/>`, "RichText/Media_AudioMsg").kind, "audio");
});

test("Message-Types", () => {
  for (const t of [
    "RichText/UriObject",
    "richtext/media_genericfile",
    "RichText/Media_Video",
    "RichText/Files",
  ])
    assert.ok(isMediaMessageType(t), t);
  for (const t of ["RichText", "Text", "RichText/Contacts"]) assert.ok(!isMediaMessageType(t), t);
  assert.equal(mediaMessageType("image"), "RichText/UriObject");
  assert.equal(mediaMessageType("file"), "RichText/Media_GenericFile");
});

test("hostile or broken bodies are error values, never exceptions", () => {
  const cases: [string, string][] = [
    [`<!DOCTYPE x [<!ENTITY a "aaaa">]><URIObject uri="u">&a;</URIObject>`, SkypeErrorCode.UnsafeXml],
    [`<URIObject uri="u">${"<b>".repeat(40)}</URIObject>`, SkypeErrorCode.UnsafeXml],
    [`<URIObject uri="u" type="Picture.1"><OriginalName v="a"/>`, SkypeErrorCode.Parse],
    [`<URIObject type="Picture.1"/>`, SkypeErrorCode.Parse],
    [`<quote>hi</quote>`, SkypeErrorCode.Parse],
    [`just text`, SkypeErrorCode.Parse],
    [`<URIObject uri="${"x".repeat(70_000)}"/>`, SkypeErrorCode.UnsafeXml],
  ];
  for (const [body, code] of cases) {
    const r = readMediaContent(body, "RichText/UriObject");
    assert.equal(r.ok, false, body.slice(0, 40));
    if (!r.ok) assert.equal(r.code, code, body.slice(0, 40));
  }
  // Control characters in names become spaces; names are bounded.
  const o = parseUriObject(`<URIObject uri="u"><OriginalName v="a&#9;b${"n".repeat(400)}"/></URIObject>`);
  assert.equal(o.name?.startsWith("a b"), true);
  assert.equal(o.name?.length, 255);
});
