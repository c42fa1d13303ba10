// SPDX-License-Identifier: Apache-2.0
/**
 * Safe XML parsing for server documents (SOAP, MSNP bodies). Before any parser sees the text it is
 * checked for size, nesting depth and declarations: a DOCTYPE (and so any ENTITY) is refused outright,
 * which rules out entity expansion ("billion laughs") and external entities (XXE). Only the five
 * predefined entities and numeric character references are decoded, by this module.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ProtocolParseError, SkypeErrorCode } from "./errors.js";

export interface SafeXmlOptions {
  /** Largest document accepted, in UTF-8 bytes. Default 4 MiB. */
  maxBytes?: number;
  /** Deepest element nesting accepted. Default 64. */
  maxDepth?: number;
}

/** An element as parsed: child elements by local name (namespace prefixes removed), `@attr`, `#text`. */
export type XmlObject = { [name: string]: XmlValue };
export type XmlValue = string | XmlObject | XmlValue[];

export const DEFAULT_MAX_XML_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_XML_DEPTH = 64;

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the predefined entities and numeric character references; unknown references stay as text. */
export function decodeXmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]{2,4});/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) return whole;
      return String.fromCodePoint(cp);
    }
    return PREDEFINED[ref] ?? whole;
  });
}

/** Escapes text for element content or attribute values; drops characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function unsafe(message: string): ProtocolParseError {
  return new ProtocolParseError(SkypeErrorCode.UnsafeXml, message);
}

/**
 * One linear pass over the markup: refuses `<!DOCTYPE`/`<!ENTITY` (any `<!` other than a comment or
 * CDATA) and nesting deeper than `maxDepth` (UnsafeXml), and a second root element (Parse).
 * Comments, CDATA and processing instructions are skipped.
 */
export function checkXmlSafety(text: string, maxDepth = DEFAULT_MAX_XML_DEPTH): void {
  let depth = 0;
  let roots = 0;
  let i = text.indexOf("<");
  while (i !== -1 && i < text.length) {
    const next = text[i + 1];
    let end: number;
    if (next === "?") {
      end = text.indexOf("?>", i + 2);
      end = end === -1 ? text.length : end + 2;
    } else if (next === "!") {
      if (text.startsWith("<!--", i)) end = skipPast(text, "-->", i + 4);
      else if (text.startsWith("<![CDATA[", i)) end = skipPast(text, "]]>", i + 9);
      else throw unsafe("XML with a DOCTYPE or entity declaration is refused");
    } else {
      end = tagEnd(text, i + 1);
      if (next === "/") depth--;
      else {
        if (depth === 0 && ++roots > 1)
          throw new ProtocolParseError(SkypeErrorCode.Parse, "malformed XML (several roots)");
        if (text[end - 2] !== "/") {
          depth++;
          if (depth > maxDepth) throw unsafe(`XML nested deeper than ${maxDepth} elements is refused`);
        }
      }
    }
    i = text.indexOf("<", end);
  }
}

function skipPast(text: string, terminator: string, from: number): number {
  const at = text.indexOf(terminator, from);
  return at === -1 ? text.length : at + terminator.length;
}

/** Index just past the `>` closing the tag that starts before `from`, honouring quoted attributes. */
function tagEnd(text: string, from: number): number {
  let quote: string | undefined;
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return j + 1;
  }
  return text.length;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  textNodeName: "#text",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: DEFAULT_MAX_XML_DEPTH * 4,
  tagValueProcessor: (_name: string, value: string) => decodeXmlEntities(value),
  attributeValueProcessor: (_name: string, value: string) => decodeXmlEntities(value),
});

/**
 * Parses a server document after the safety checks.
 * @throws ProtocolParseError `UnsafeXml` (too large, too deep, DOCTYPE/ENTITY) before parsing;
 *   `Parse` when the document is not well-formed XML.
 */
export function parseXmlSafe(input: string | Uint8Array, opts: SafeXmlOptions = {}): XmlObject {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.byteLength;
  if (size > maxBytes) throw unsafe(`XML document of ${size} bytes is over the ${maxBytes}-byte limit`);
  let text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  checkXmlSafety(text, opts.maxDepth ?? DEFAULT_MAX_XML_DEPTH);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new ProtocolParseError(
      SkypeErrorCode.Parse,
      `malformed XML (${valid.err.code} at line ${valid.err.line})`,
    );
  }
  try {
    return parser.parse(text) as XmlObject;
  } catch (e) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, "malformed XML", { cause: e });
  }
}

/** The child elements named `name` (always an array). */
export function xmlChildren(node: XmlValue | undefined, name: string): XmlValue[] {
  if (node === undefined || typeof node === "string" || Array.isArray(node)) return [];
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The first child element named `name`. */
export function xmlChild(node: XmlValue | undefined, name: string): XmlValue | undefined {
  return xmlChildren(node, name)[0];
}

/** Follows a path of child names, taking the first match at each step. */
export function xmlPath(node: XmlValue | undefined, ...names: string[]): XmlValue | undefined {
  let cur = node;
  for (const n of names) cur = xmlChild(cur, n);
  return cur;
}

/** The text content of an element ("" for an empty one, undefined when absent). */
export function xmlText(node: XmlValue | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node === "string") return node;
  if (Array.isArray(node)) return xmlText(node[0]);
  const t = node["#text"];
  return typeof t === "string" ? t : "";
}

/** The text of the first child named `name`. */
export function xmlChildText(node: XmlValue | undefined, name: string): string | undefined {
  return xmlText(xmlChild(node, name));
}

/** An attribute (namespace prefix removed) of an element. */
export function xmlAttr(node: XmlValue | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === "string" || Array.isArray(node)) return undefined;
  const v = node[`@${name}`];
  return typeof v === "string" ? v : undefined;
}
