// SPDX-License-Identifier: Apache-2.0
/**
 * The one XML reader of the protocol client, for every server document: SOAP answers of the address
 * book and the MSNP24 payloads (threads, history, presence, login, keep-alive). Every document goes
 * through the same gate before fast-xml-parser sees it:
 *
 * - at most `maxBytes` UTF-8 bytes (default 4 MiB): `UnsafeXml`;
 * - only characters XML 1.0 allows (no lone surrogates, no C0 controls other than tab/CR/LF,
 *   no U+FFFE/U+FFFF): `UnsafeXml`;
 * - no `<!DOCTYPE` and no `<!ENTITY` (any `<!` other than a comment or CDATA), so no entity
 *   expansion ("billion laughs") and no external entities (XXE): `UnsafeXml`;
 * - elements nested at most `maxDepth` deep (default 64): `UnsafeXml`;
 * - well-formed, with a single root element: `Parse`.
 *
 * Only the five predefined entities and numeric character references are decoded, by this module
 * (`decodeXmlEntities`), in one pass; a reference to a character XML cannot carry stays literal,
 * so no parsed value ever holds such a character either.
 *
 * One parse gives an ordered tree. Two views of it are offered:
 * - `parseXml`: an element tree (`XmlElement`: name, attributes, children, text, raw inner markup)
 *   searched with `findFirst`, `findAll`, `child`, `childText`, `childrenNamed` (MSNP payloads);
 * - `parseXmlSafe`: a plain object by local name (`XmlObject`, `@attr`, `#text`) read with
 *   `xmlChild`, `xmlPath`, `xmlText`, … (SOAP), with values trimmed.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ProtocolParseError, SkypeErrorCode } from "./errors.js";

export interface SafeXmlOptions {
  /** Largest document accepted, in UTF-8 bytes. Default 4 MiB. */
  maxBytes?: number;
  /** Deepest element nesting accepted. Default 64, at most 256. */
  maxDepth?: number;
}

/** An element as parsed: child elements by local name (namespace prefixes removed), `@attr`, `#text`. */
export type XmlObject = { [name: string]: XmlValue };
export type XmlValue = string | XmlObject | XmlValue[];

/**
 * One element of the tree `parseXml` returns. Names are local names (namespace prefixes removed) and
 * keep their case; the lookups below compare them case-insensitively.
 */
export interface XmlElement {
  readonly name: string;
  /** Attributes by local name, decoded, untrimmed (`xmlns` declarations are not kept). */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Decoded text of the direct text and CDATA children, concatenated, untrimmed (line ends as LF). */
  readonly text: string;
  /** The markup between the start and end tags as the server sent it, undecoded ("" when empty). */
  readonly raw: string;
}

export const DEFAULT_MAX_XML_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_XML_DEPTH = 64;
/** fast-xml-parser's own nesting limit: a backstop behind the gate, and the largest `maxDepth`. */
const PARSER_MAX_DEPTH = 256;

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** True for a code point XML 1.0 allows (`Char` production). */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/**
 * Decodes the predefined entities and numeric character references in one pass; unknown references
 * and references to characters XML cannot carry (`&#0;`, `&#xD800;`, `&#1;`) stay as text.
 */
export function decodeXmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]{2,4});/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return isXmlChar(cp) ? String.fromCodePoint(cp) : whole;
    }
    return PREDEFINED[ref] ?? whole;
  });
}

/**
 * Escapes text for element content or attribute values (the one escaper of src/skype); drops
 * characters XML 1.0 cannot carry, lone surrogates included.
 */
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

// With the `u` flag a lone surrogate is one code point outside every range, so it matches.
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Refuses (UnsafeXml) a document holding a character XML 1.0 does not allow. */
export function checkXmlChars(text: string): void {
  const m = NON_XML_CHAR.exec(text);
  if (m) {
    const cp = m[0].codePointAt(0)!;
    const what = cp >= 0xd800 && cp <= 0xdfff ? "a lone surrogate" : `U+${cp.toString(16).toUpperCase()}`;
    throw unsafe(`XML holding ${what} (at ${m.index}) is refused`);
  }
}

/**
 * One linear pass over the markup: refuses `<!DOCTYPE`/`<!ENTITY` (any `<!` other than a comment or
 * CDATA) and nesting deeper than `maxDepth` (UnsafeXml), and a second root element or an end tag
 * without a start tag (Parse). Comments, CDATA and processing instructions are skipped.
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
      if (next === "/") {
        if (--depth < 0) throw new ProtocolParseError(SkypeErrorCode.Parse, "malformed XML (stray end tag)");
      } else {
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

/**
 * The gate every document passes: size, characters, declarations, depth, well-formedness.
 * Returns the text to parse (decoded, without a byte order mark or leading whitespace), or
 * undefined for a blank document.
 */
function admit(input: string | Uint8Array, opts: SafeXmlOptions): string | undefined {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.byteLength;
  if (size > maxBytes) throw unsafe(`XML document of ${size} bytes is over the ${maxBytes}-byte limit`);
  let text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // MSNP bodies often follow a blank line; whitespace before the declaration is not worth a refusal.
  text = text.trimStart();
  if (text === "") return undefined;
  checkXmlChars(text);
  checkXmlSafety(text, Math.min(opts.maxDepth ?? DEFAULT_MAX_XML_DEPTH, PARSER_MAX_DEPTH));
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new ProtocolParseError(
      SkypeErrorCode.Parse,
      `malformed XML (${valid.err.code} at line ${valid.err.line})`,
    );
  }
  return text;
}

/**
 * fast-xml-parser v5, configured once for every caller. Options that differ from its defaults:
 */
const parser = new XMLParser({
  // An ordered array of nodes instead of an object per element: keeps document order, mixed text
  // and repeated names, which the element tree needs; the object view is built from it below.
  preserveOrder: true,
  // Attributes are read (presence `n`/`epid`, SOAP attributes); the default drops them.
  ignoreAttributes: false,
  // In the ordered output attributes sit in their own `:@` map, so they need no prefix; unprefixed,
  // fast-xml-parser's name check sees the bare name and refuses `__proto__`/`constructor`/`prototype`.
  attributeNamePrefix: "",
  // Lookups are by local name (`soap:Body` → `Body`); `xmlns` declarations are dropped.
  removeNSPrefix: true,
  // Values stay strings: ids like "0001" or "1e5" and "true" must not become numbers or booleans.
  parseTagValue: false,
  // Text is kept verbatim (a mood or topic may start with a space); the object view trims itself.
  trimValues: false,
  // Entities are decoded by decodeXmlEntities in the two value processors below, nowhere else.
  // fast-xml-parser's own decoder (processEntities, on by default) would also expand entities a
  // DOCTYPE declares (within its limits; the gate refuses DOCTYPEs, this is a second wall), and it
  // decodes numeric references only when `htmlEntities` is on, which would add HTML named entities
  // (`&nbsp;`, `&copy;`, …) beyond XML's five. So `htmlEntities` stays at its default, false.
  processEntities: false,
  tagValueProcessor: (_name: string, value: string) => decodeXmlEntities(value),
  attributeValueProcessor: (_name: string, value: string) => decodeXmlEntities(value),
  // CDATA as its own node: its text is literal. Without this the tag value processor would also
  // run over CDATA content and decode `&amp;` inside it.
  cdataPropName: "#cdata",
  // The declaration and processing instructions carry nothing we read.
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Start/end offsets of every element, to slice its raw inner markup from the source on demand
  // (`XmlElement.raw`). `stopNodes` would keep raw markup too, but only for elements named in
  // advance and without parsing their children; the offsets give both, for every element.
  captureMetaData: true,
  // No callback looks at paths: skip building a path string for every node.
  jPath: false,
  // The gate already caps depth at `maxDepth`; this is the parser's own backstop.
  maxNestedTags: PARSER_MAX_DEPTH,
});

/** One node of fast-xml-parser's ordered output: `{ name: children, ":@": attrs }` or `{ "#text": s }`. */
interface FxpNode {
  [key: string]: unknown;
  ":@"?: Record<string, string>;
}

/** Where `captureMetaData` puts an element's offsets (typed `Symbol` by the library). */
const META = XMLParser.getMetaDataSymbol() as symbol;

function offsetsOf(node: FxpNode): { startIndex?: number; endIndex?: number } | undefined {
  return (node as Record<symbol, { startIndex?: number; endIndex?: number } | undefined>)[META];
}

function fxpParse(text: string): FxpNode[] {
  try {
    return parser.parse(text) as FxpNode[];
  } catch (e) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, "malformed XML", { cause: e });
  }
}

/** The node's name: its one key other than `:@`. */
function nodeName(node: FxpNode): string {
  for (const key in node) if (key !== ":@") return key;
  return "";
}

/** A text node's string (values stay strings: `parseTagValue` is off). */
function textOf(node: FxpNode): string {
  const v = node["#text"];
  return typeof v === "string" ? v : "";
}

function cdataOf(node: FxpNode): string {
  let s = "";
  for (const p of node["#cdata"] as FxpNode[]) s += textOf(p);
  return s;
}

const NO_ATTRS: Readonly<Record<string, string>> = Object.freeze({});

/** The inner markup of the element whose start tag is at `start` and which ends just before `end`. */
function innerMarkup(src: string, start: number, end: number): string {
  let quote = 0;
  let gt = start + 1;
  for (; gt < end; gt++) {
    const c = src.charCodeAt(gt);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) break;
  }
  if (src.charCodeAt(gt - 1) === 0x2f) return ""; // `<x/>`
  const close = src.lastIndexOf("</", end - 1);
  return close > gt ? src.slice(gt + 1, close) : "";
}

class Element implements XmlElement {
  constructor(
    readonly name: string,
    readonly attrs: Readonly<Record<string, string>>,
    readonly children: readonly XmlElement[],
    readonly text: string,
    private readonly src: string,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get raw(): string {
    if (this.start < 0) return this.src.slice(0, this.end);
    return this.end > this.start ? innerMarkup(this.src, this.start, this.end) : "";
  }
}

function toElement(node: FxpNode, name: string, src: string): XmlElement {
  const [children, text] = contentOf(node[name] as FxpNode[], src);
  const meta = offsetsOf(node);
  return new Element(
    name,
    node[":@"] ?? NO_ATTRS,
    children,
    text,
    src,
    meta?.startIndex ?? 0,
    meta?.endIndex ?? 0,
  );
}

function contentOf(nodes: FxpNode[], src: string): [XmlElement[], string] {
  const children: XmlElement[] = [];
  let text = "";
  for (const n of nodes) {
    const key = nodeName(n);
    if (key === "#text") text += textOf(n);
    else if (key === "#cdata") text += cdataOf(n);
    else if (key) children.push(toElement(n, key, src));
  }
  return [children, text];
}

/**
 * Parses a server document and returns a synthetic `#document` element holding the root element
 * (`children[0]`), so callers can search for elements whose root name the protocol does not fix.
 * A blank document (an MSNP reply without a body) gives a `#document` without children.
 * @throws ProtocolParseError `UnsafeXml` (too large, forbidden character, DOCTYPE/ENTITY, too deep)
 *   before parsing; `Parse` when the document is not well-formed XML.
 */
export function parseXml(input: string | Uint8Array, opts: SafeXmlOptions = {}): XmlElement {
  const text = admit(input, opts);
  if (text === undefined) return new Element("#document", NO_ATTRS, [], "", "", -1, 0);
  const [children] = contentOf(fxpParse(text), text);
  return new Element("#document", NO_ATTRS, children, "", text, -1, text.length);
}

/** The object view of one element, shaped as fast-xml-parser's default (unordered) output. */
function toValue(node: FxpNode, name: string): XmlValue {
  const obj: XmlObject = {};
  let text: string | undefined;
  let empty = true;
  for (const n of node[name] as FxpNode[]) {
    const key = nodeName(n);
    if (key === "#text") {
      const t = textOf(n).trim();
      if (t) text = (text ?? "") + t;
    } else if (key === "#cdata") text = (text ?? "") + cdataOf(n);
    else if (key) {
      addValue(obj, key, toValue(n, key));
      empty = false;
    }
  }
  const attrs = node[":@"];
  if (attrs) for (const [k, v] of Object.entries(attrs)) obj[`@${k}`] = v.trim();
  if (!attrs && empty) return text ?? "";
  if (text) obj["#text"] = text;
  return obj;
}

function addValue(obj: XmlObject, key: string, value: XmlValue): void {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) obj[key] = value;
  else {
    const prev = obj[key]!;
    if (Array.isArray(prev)) prev.push(value);
    else obj[key] = [prev, value];
  }
}

/**
 * Parses a server document into the object view (SOAP): `{ Envelope: { Body: … } }`.
 * @throws ProtocolParseError `UnsafeXml` (too large, forbidden character, DOCTYPE/ENTITY, too deep)
 *   before parsing; `Parse` when the document is blank or not well-formed XML.
 */
export function parseXmlSafe(input: string | Uint8Array, opts: SafeXmlOptions = {}): XmlObject {
  const text = admit(input, opts);
  if (text === undefined) throw new ProtocolParseError(SkypeErrorCode.Parse, "malformed XML (empty)");
  const out: XmlObject = {};
  for (const n of fxpParse(text)) {
    const key = nodeName(n);
    if (key && key !== "#text" && key !== "#cdata") addValue(out, key, toValue(n, key));
  }
  return out;
}

// ——— The element tree (`parseXml`) ———

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The first direct child with this name (case-insensitive). */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => same(c.name, name));
}

/** All direct children with this name (case-insensitive). */
export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => same(c.name, name)) : [];
}

/** The text of the first direct child with this name, trimmed, or undefined. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c ? c.text.trim() : undefined;
}

/** The first element with this name anywhere below `el` (depth first, document order). */
export function findFirst(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) {
    if (same(c.name, name)) return c;
    const deeper = findFirst(c, name);
    if (deeper) return deeper;
  }
  return undefined;
}

/** Every element with this name below `el`, in document order (not below a match). */
export function findAll(el: XmlElement | undefined, name: string, out: XmlElement[] = []): XmlElement[] {
  if (!el) return out;
  for (const c of el.children) {
    if (same(c.name, name)) out.push(c);
    else findAll(c, name, out);
  }
  return out;
}

// ——— The object view (`parseXmlSafe`) ———

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
