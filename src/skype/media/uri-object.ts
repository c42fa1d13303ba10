// SPDX-License-Identifier: Apache-2.0
/**
 * Images and files in messages (PROFILE §7.3, REFERENCE §16): the `URIObject` body of
 * `RichText/UriObject`, `RichText/Media_GenericFile` (and the later `Media_Video`, `Media_AudioMsg`,
 * `Files`) messages. Reading goes through src/skype/xml.ts's gate (size, characters, no DOCTYPE,
 * depth); writing escapes every attribute value with its one escaper.
 */
import { ProtocolParseError, SkypeErrorCode } from "../errors.js";
import { child, escapeXml, parseXml, type XmlElement } from "../xml.js";

/** What a shared object is, for the receiver. */
export type MediaKind = "image" | "video" | "audio" | "file";

/** The two kinds a sender creates (PROFILE §7.2 `pish/image`, `sharing/file`). */
export type SentMediaKind = "image" | "file";

/** A parsed URIObject. Nothing here has been fetched: `uri` is as the sender wrote it. */
export interface UriObject {
  /** `type` as sent (`Picture.1`, `File.1`, …), "" when absent. */
  type: string;
  kind: MediaKind;
  /** The object's URL, `{ams}/v1/objects/{id}` from a well-behaved sender. */
  uri: string;
  /** `url_thumbnail`, if any. */
  thumbnailUri?: string;
  /** The original file name (`OriginalName@v`, else `meta@originalName`, else `Title` minus `Title: `). */
  name?: string;
  /** `FileSize@v` in bytes, when a non-negative integer. */
  size?: number;
  /** `width`/`height` attributes of later clients, when positive integers. */
  width?: number;
  height?: number;
  /** The view a receiver downloads: `imgpsh_fullsize` for pictures, `original` otherwise. */
  view: string;
  /** The thumbnail view worth trying (`imgt1` for pictures), if any. */
  thumbnailView?: string;
}

/** The URIObject message types (PROFILE §7.3, REFERENCE §16). */
export const MediaMessageType = {
  Image: "RichText/UriObject",
  File: "RichText/Media_GenericFile",
  Video: "RichText/Media_Video",
  Audio: "RichText/Media_AudioMsg",
  Files: "RichText/Files",
} as const;

const TYPE_KINDS: ReadonlyMap<string, MediaKind> = new Map([
  ["richtext/uriobject", "image"],
  ["richtext/media_genericfile", "file"],
  ["richtext/files", "file"],
  ["richtext/media_video", "video"],
  ["richtext/media_audiomsg", "audio"],
]);

/** True for a Message-Type whose body is a URIObject. */
export function isMediaMessageType(messageType: string): boolean {
  return TYPE_KINDS.has(messageType.trim().toLowerCase());
}

/** The Message-Type a sender uses for `kind`. */
export function mediaMessageType(kind: SentMediaKind): string {
  return kind === "image" ? MediaMessageType.Image : MediaMessageType.File;
}

/** Largest URIObject body read (they are a few hundred bytes). */
export const MAX_URI_OBJECT_BYTES = 64 * 1024;

function parseError(message: string): ProtocolParseError {
  return new ProtocolParseError(SkypeErrorCode.Parse, `URIObject: ${message}`);
}

/** An attribute by name, case-insensitively (senders differ in case: `originalName`, `OriginalName`). */
function attr(el: XmlElement | undefined, name: string): string | undefined {
  if (!el) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(el.attrs)) if (k.toLowerCase() === want) return v;
  return undefined;
}

function nonNegativeInt(v: string | undefined): number | undefined {
  const t = v?.trim();
  if (!t || !/^\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}

function positiveInt(v: string | undefined): number | undefined {
  const n = nonNegativeInt(v);
  return n !== undefined && n > 0 && n < 1_000_000 ? n : undefined;
}

/** Kind from `type` before the dot (Picture, Video, Audio, File), then `<meta type="photo">`, then the message type. */
function kindOf(type: string, root: XmlElement, messageType: string | undefined): MediaKind {
  const head = type.split(".")[0]!.trim().toLowerCase();
  if (head === "picture") return "image";
  if (head === "video") return "video";
  if (head === "audio") return "audio";
  if (head === "file") return "file";
  if (!head && attr(child(root, "meta"), "type")?.trim().toLowerCase() === "photo") return "image";
  return TYPE_KINDS.get(messageType?.trim().toLowerCase() ?? "") ?? "file";
}

function cleanName(v: string | undefined): string | undefined {
  // A name is one line of text: no control characters, bounded.
  // eslint-disable-next-line no-control-regex
  const t = v?.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  return t ? t.slice(0, 255) : undefined;
}

/** The name rule of PROFILE §7.3. */
function nameOf(root: XmlElement): string | undefined {
  const original = cleanName(attr(child(root, "OriginalName"), "v"));
  if (original) return original;
  const meta = cleanName(attr(child(root, "meta"), "originalName"));
  if (meta) return meta;
  const title = child(root, "Title")?.text.trim();
  return cleanName(title?.replace(/^Title:\s?/, ""));
}

/**
 * Parses a URIObject message body. `messageType` (the SDG's `Message-Type`) decides the kind when
 * the body does not.
 * @throws ProtocolParseError `UnsafeXml` (too large, DOCTYPE, too deep, forbidden characters) or
 *   `Parse` (not XML, not a URIObject, no `uri`).
 */
export function parseUriObject(body: string, messageType?: string): UriObject {
  const doc = parseXml(body, { maxBytes: MAX_URI_OBJECT_BYTES, maxDepth: 16 });
  const root = doc.children[0];
  if (!root || root.name.toLowerCase() !== "uriobject") throw parseError("the body is no URIObject");
  const uri = attr(root, "uri")?.trim();
  if (!uri) throw parseError("no uri");
  const type = attr(root, "type")?.trim() ?? "";
  const kind = kindOf(type, root, messageType);
  const out: UriObject = {
    type,
    kind,
    uri,
    view: kind === "image" ? "imgpsh_fullsize" : "original",
  };
  const thumb = attr(root, "url_thumbnail")?.trim();
  if (thumb) out.thumbnailUri = thumb;
  if (kind === "image") out.thumbnailView = "imgt1";
  const name = nameOf(root);
  if (name !== undefined) out.name = name;
  const size = nonNegativeInt(attr(child(root, "FileSize"), "v"));
  if (size !== undefined) out.size = size;
  const width = positiveInt(attr(root, "width"));
  const height = positiveInt(attr(root, "height"));
  if (width !== undefined && height !== undefined) {
    out.width = width;
    out.height = height;
  }
  return out;
}

/** What a sender puts in a URIObject (PROFILE §7.3). */
export interface UriObjectSpec {
  kind: SentMediaKind;
  /** The configured `ams` base. */
  ams: string;
  /** The object id the service returned. */
  objectId: string;
  name: string;
  size: number;
}

/** `{ams}/v1/objects/{id}`: the object's URL. */
export function objectUrl(ams: string, objectId: string): string {
  return `${ams.replace(/\/+$/, "")}/v1/objects/${encodeURIComponent(objectId)}`;
}

/** The URIObject body of PROFILE §7.3, exactly: picture for `image`, `File.1` for `file`. */
export function writeUriObject(spec: UriObjectSpec): string {
  const uri = objectUrl(spec.ams, spec.objectId);
  const id = escapeXml(spec.objectId);
  const name = escapeXml(spec.name);
  const size = String(Math.max(0, Math.floor(spec.size)));
  if (spec.kind === "image") {
    const link = `https://login.skype.com/login/sso?go=xmmfallback?pic=${id}`;
    return (
      `<URIObject type="Picture.1" uri="${escapeXml(uri)}" url_thumbnail="${escapeXml(`${uri}/views/imgt1`)}">` +
      `To view this shared photo, go to: <a href="${link}">${link}</a>` +
      `<OriginalName v="${name}"/><FileSize v="${size}"/><meta type="photo" originalName="${name}"/></URIObject>`
    );
  }
  const link = `https://login.skype.com/login/sso?go=webclient.xmm&amp;docid=${id}`;
  return (
    `<URIObject type="File.1" uri="${escapeXml(uri)}" url_thumbnail="${escapeXml(`${uri}/views/thumbnail`)}">` +
    `<Title>Title: ${name}</Title><Description> Description: ${name}</Description>` +
    `<a href="${link}">${link}</a><OriginalName v="${name}"/><FileSize v="${size}"/></URIObject>`
  );
}

/** A URIObject message body as the receiver read it: the object, or why it could not be read. */
export type MediaContent =
  { ok: true; object: UriObject } | { ok: false; code: SkypeErrorCode; reason: string };

/** Reads a URIObject message body; never throws (hostile bodies become `ok: false`). */
export function readMediaContent(body: string, messageType: string): MediaContent {
  try {
    return { ok: true, object: parseUriObject(body, messageType) };
  } catch (e) {
    const code = e instanceof ProtocolParseError ? e.code : SkypeErrorCode.Parse;
    return { ok: false, code, reason: e instanceof Error ? e.message : "unreadable" };
  }
}
