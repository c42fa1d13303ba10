// SPDX-License-Identifier: Apache-2.0
/**
 * The multi-part body of `SDG`, `PUT MSGR\PRESENCE` and `NFY MSGR\PUT|DEL` (REFERENCE §3.3):
 * Routing, Reliability and one content block (Messaging | Publication | Notification), each ended
 * by an empty line, then the content itself.
 */
import { MsnpHeaders } from "./headers.js";

/** The content block kinds. */
export type ContentBlockKind = "Messaging" | "Publication" | "Notification";

/** A parsed multi-part body. Missing blocks are empty header sets. */
export interface MultipartBody {
  routing: MsnpHeaders;
  reliability: MsnpHeaders;
  content: MsnpHeaders;
  /** Which content block was found, if any. */
  contentKind?: ContentBlockKind;
  /** The content after the content block. */
  body: Buffer;
  /** True when a `Content-Length` disagreed with the bytes present (the smaller was used). */
  lengthMismatch: boolean;
}

/** A body to build. `Content-Length` is appended to the content block unless already present. */
export interface MultipartSpec {
  routing: Iterable<readonly [string, string]>;
  reliability?: Iterable<readonly [string, string]>;
  content: Iterable<readonly [string, string]>;
  body?: string | Buffer;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

/** Content-block names in lower case, with their kind. */
const KINDS: readonly (readonly [string, ContentBlockKind])[] = [
  ["messaging", "Messaging"],
  ["publication", "Publication"],
  ["notification", "Notification"],
];

/**
 * The kind of a content block by its first header, compared without lower-casing a copy of it. A
 * list, not an object keyed by name: a block starting `constructor:` or `toString:` found
 * Object.prototype members there.
 */
function kindOf(block: MsnpHeaders): ContentBlockKind | undefined {
  for (const [name, kind] of KINDS) if (block.firstNameIs(name)) return kind;
  return undefined;
}

/**
 * Parses a multi-part body. Liberal: blocks are recognised by their first header, so a missing
 * Reliability block or an unknown extra block does not break parsing. Never throws.
 */
export function parseMultipart(buf: Buffer): MultipartBody {
  let routing: MsnpHeaders | undefined;
  let reliability: MsnpHeaders | undefined;
  let content: MsnpHeaders | undefined;
  let contentKind: ContentBlockKind | undefined;
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) {
      pos += 2; // stray empty line between blocks
      continue;
    }
    const end = buf.indexOf(CRLFCRLF, pos);
    const blockEnd = end < 0 ? buf.length : end;
    const headers = MsnpHeaders.parse(buf.toString("utf8", pos, blockEnd));
    pos = end < 0 ? buf.length : end + 4;
    if (headers.firstNameIs("routing")) routing = headers;
    else if (headers.firstNameIs("reliability")) reliability = headers;
    else {
      content = headers;
      contentKind = kindOf(headers);
      break;
    }
  }
  // A view, not a copy: the frame's body is already a buffer of its own (framing.ts), and every
  // reader decodes it at once.
  let body = buf.subarray(Math.min(pos, buf.length));
  let lengthMismatch = false;
  const declared = content?.get("Content-Length");
  if (declared !== undefined && isDigits(declared)) {
    const n = Number(declared);
    if (n !== body.length) lengthMismatch = true;
    if (n < body.length) body = body.subarray(0, n);
  }
  routing ??= new MsnpHeaders();
  reliability ??= new MsnpHeaders();
  content ??= new MsnpHeaders();
  // Two literals rather than a spread of `{ contentKind }`, which built and copied an object per
  // message; the keys keep their order.
  return contentKind !== undefined
    ? { routing, reliability, content, contentKind, body, lengthMismatch }
    : { routing, reliability, content, body, lengthMismatch };
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Builds a multi-part body (without the MSNP24 top block). */
export function buildMultipart(spec: MultipartSpec): Buffer {
  const body =
    typeof spec.body === "string" ? Buffer.from(spec.body, "utf8") : (spec.body ?? Buffer.alloc(0));
  const content = new MsnpHeaders(spec.content);
  if (!content.has("Content-Length")) content.append("Content-Length", String(body.length));
  const reliability = new MsnpHeaders(spec.reliability ?? [["Reliability", "1.0"]]);
  const text =
    new MsnpHeaders(spec.routing).serialize() +
    "\r\n" +
    reliability.serialize() +
    "\r\n" +
    content.serialize() +
    "\r\n";
  return Buffer.concat([Buffer.from(text, "utf8"), body]);
}
