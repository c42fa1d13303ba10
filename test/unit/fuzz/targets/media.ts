// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzz targets of images and files (PROFILE §7.3): the URIObject writer and reader
 * (src/skype/media/uri-object.ts), the object-service `uri` check (src/skype/media/ams-client.ts)
 * and the bridge's image-header sniffing (src/bridge/convert/image-info.ts).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { sniffImage } from "../../../../src/bridge/convert/image-info.js";
import { SkypeError, SkypeErrorCode } from "../../../../src/skype/errors.js";
import { AmsClient } from "../../../../src/skype/media/ams-client.js";
import { parseUriObject, readMediaContent, writeUriObject } from "../../../../src/skype/media/uri-object.js";
import { defineTarget, type SomeTarget } from "../harness.js";

const AMS = "https://ams.example/base";
const anyText = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }));
const objectId = fc.stringMatching(/^0-[a-z]{3}-d[0-9]-[0-9a-f]{32}$/);

/** What a name becomes on the way: XML-unsafe characters dropped, control characters as spaces, trimmed, bounded. */
function expectedName(s: string): string | undefined {
  const t = s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .trim();
  return t ? t.slice(0, 255) : undefined;
}

const roundTrip = defineTarget<{ kind: "image" | "file"; id: string; name: string; size: number }>({
  name: "media: writeUriObject → parseUriObject round trip, any name",
  arbitrary: fc.record({
    kind: fc.constantFrom("image" as const, "file" as const),
    id: objectId,
    name: anyText,
    size: fc.integer({ min: 0, max: 2 ** 40 }),
  }),
  check(i) {
    const xml = writeUriObject({ kind: i.kind, ams: AMS, objectId: i.id, name: i.name, size: i.size });
    const o = parseUriObject(xml, i.kind === "image" ? "RichText/UriObject" : "RichText/Media_GenericFile");
    assert.equal(o.kind, i.kind);
    assert.equal(o.uri, `${AMS}/v1/objects/${i.id}`);
    assert.equal(o.size, i.size);
    const want = expectedName(i.name);
    // An empty name falls back (meta, Title); the Title of a file keeps what follows "Title: ".
    if (want !== undefined) assert.equal(o.name, want);
  },
});

const fragment = fc.oneof(
  anyText,
  fc.constantFrom(
    "<URIObject",
    "<URIObject ",
    "</URIObject>",
    ' type="Picture.1"',
    ' type="File.1"',
    ' type="Video.1/Message.1"',
    ` uri="${AMS}/v1/objects/0-weu-d1-aa"`,
    ' uri="http://evil.example/v1/objects/x"',
    ' url_thumbnail="x"',
    ">",
    "/>",
    '<OriginalName v="',
    '"/>',
    '<FileSize v="12"/>',
    '<FileSize v="-1"/>',
    '<meta type="photo" originalName="m"/>',
    "<Title>Title: ",
    "</Title>",
    '<a href="x">',
    "</a>",
    "<!DOCTYPE x>",
    '<!ENTITY a "b">',
    "&a;",
    "&amp;",
    "&#0;",
    "<![CDATA[",
    "]]>",
    "\uD800",
  ),
);

const anyBody = defineTarget<{ parts: string[]; type: string }>({
  name: "media: readMediaContent on any body never throws, and what it returns is sane",
  arbitrary: fc.record({
    parts: fc.array(fragment, { maxLength: 40 }),
    type: fc.constantFrom("RichText/UriObject", "RichText/Media_GenericFile", "RichText/Media_Video", "x"),
  }),
  check({ parts, type }) {
    const r = readMediaContent(parts.join(""), type);
    if (!r.ok) {
      assert.ok(r.code === SkypeErrorCode.Parse || r.code === SkypeErrorCode.UnsafeXml, r.code);
      return;
    }
    const o = r.object;
    assert.ok(["image", "video", "audio", "file"].includes(o.kind));
    assert.ok(o.uri.length > 0);
    if (o.size !== undefined) assert.ok(Number.isSafeInteger(o.size) && o.size >= 0);
    if (o.name !== undefined) {
      assert.ok(o.name.length > 0 && o.name.length <= 255);
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u001f]/.test(o.name), "no control characters in names");
    }
    assert.equal(o.view, o.kind === "image" ? "imgpsh_fullsize" : "original");
  },
});

const ams = new AmsClient({
  ams: AMS,
  tokens: {
    skypeToken: () => Promise.reject(new Error("no request may be made")),
    invalidateSkypeToken: () => undefined,
  },
});
const urlish = fc.oneof(
  anyText,
  fc.webUrl(),
  fc
    .tuple(
      fc.constantFrom(`${AMS}/v1/objects/`, "https://ams.example/v1/objects/", `${AMS}/v1/objects/../`),
      anyText,
    )
    .map(([a, b]) => a + b),
);

const uriCheck = defineTarget<string>({
  name: "media: objectIdOf accepts only ids under the configured base",
  arbitrary: urlish,
  check(uri) {
    let id: string;
    try {
      id = ams.objectIdOf(uri);
    } catch (e) {
      assert.ok(e instanceof SkypeError && e.code === SkypeErrorCode.MediaForeignHost);
      return;
    }
    assert.match(id, /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/);
    const u = new URL(uri);
    assert.equal(u.origin, "https://ams.example");
    assert.ok(u.pathname.startsWith("/base/v1/objects/"));
  },
});

const sniff = defineTarget<Uint8Array>({
  name: "media: sniffImage on any bytes (image headers included)",
  arbitrary: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([0xff, 0xd8, 0xff, ...b])),
    fc
      .uint8Array({ maxLength: 40 })
      .map((b) => Uint8Array.from([...Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), ...b])),
    fc.uint8Array({ maxLength: 40 }).map((b) => Uint8Array.from([...Buffer.from("GIF89a"), ...b])),
    fc
      .uint8Array({ maxLength: 40 })
      .map((b) => Uint8Array.from([...Buffer.from("RIFF\0\0\0\0WEBPVP8X"), ...b])),
  ),
  check(bytes) {
    const info = sniffImage(Buffer.from(bytes));
    if (!info) return;
    assert.ok(info.mimetype.startsWith("image/"));
    if (info.w !== undefined || info.h !== undefined) {
      assert.ok(Number.isInteger(info.w) && info.w! > 0 && info.w! <= 100_000);
      assert.ok(Number.isInteger(info.h) && info.h! > 0 && info.h! <= 100_000);
    }
  },
});

export const mediaTargets: SomeTarget[] = [roundTrip, anyBody, uriCheck, sniff];
