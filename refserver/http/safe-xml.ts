// SPDX-License-Identifier: Apache-2.0
/**
 * Safe XML reading for the SOAP endpoints. Documents with a DOCTYPE or an ENTITY declaration are
 * refused before any parsing (no entity expansion, no external entities), as are malformed ones.
 * Only the five predefined entities and numeric character references are decoded.
 * Element names lose their namespace prefix; every element becomes an array of nodes.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

/** A parsed element: child elements by local name, text in `#text`, attributes as `@_name`. */
export type XmlNode = { [name: string]: XmlNode[] | string | undefined } | string;

/** Why a document was refused. */
export class UnsafeXmlError extends Error {
  constructor(
    readonly kind: "doctype" | "malformed",
    message: string,
  ) {
    super(message);
    this.name = "UnsafeXmlError";
  }
}

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the predefined entities and character references; leaves anything else as written. */
function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (m, ref: string) => {
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : m;
    }
    return PREDEFINED[ref] ?? m;
  });
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  tagValueProcessor: (_name, value) => decodeEntities(value),
  attributeValueProcessor: (_name, value) => decodeEntities(value),
  maxNestedTags: 64,
});

/** Parses a document, refusing DOCTYPE/ENTITY declarations and malformed XML with `UnsafeXmlError`. */
export function parseSafeXml(text: string): XmlNode {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new UnsafeXmlError("doctype", "DOCTYPE and ENTITY declarations are not accepted");
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new UnsafeXmlError("malformed", `malformed XML: ${valid.err.msg}`);
  try {
    return parser.parse(text) as XmlNode;
  } catch (e) {
    throw new UnsafeXmlError("malformed", `malformed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The child elements called `name` (local name). */
export function kids(node: XmlNode | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === "string") return [];
  const v = node[name];
  return Array.isArray(v) ? v : [];
}

/** The first child element called `name`. */
export function kid(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return kids(node, name)[0];
}

/** Follows a path of local names, taking the first element at each step. */
export function at(node: XmlNode | undefined, ...path: string[]): XmlNode | undefined {
  let cur = node;
  for (const p of path) cur = kid(cur, p);
  return cur;
}

/** The text of an element (empty when none). */
export function textOf(node: XmlNode | undefined): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node;
  const t = node["#text"];
  return typeof t === "string" ? t : "";
}

/** An attribute by local name (`xsi:type` → `type`). */
export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === "string") return undefined;
  const v = node["@_" + name];
  return typeof v === "string" ? v : undefined;
}

/** The local names of an element's child elements, in first-seen order. */
export function childNames(node: XmlNode | undefined): string[] {
  if (node === undefined || typeof node === "string") return [];
  return Object.keys(node).filter((k) => !k.startsWith("@_") && k !== "#text");
}
