// SPDX-License-Identifier: Apache-2.0
/**
 * A small, strict-enough XML reader for the MSNP24 payloads (REFERENCE §4.3.2, §5.2, §6, §8.3).
 * It keeps each element's raw inner markup, which the history reader needs for `<content>`, and
 * refuses DOCTYPE/ENTITY declarations outright (no entity expansion attacks).
 */
import { ProtocolParseError } from "../errors.js";
import { SkypeErrorCode } from "../errors.js";

/** One parsed element. Names keep their case; lookups below are case-insensitive. */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Decoded text of the direct text and CDATA children, concatenated. */
  text: string;
  /** The markup between the start and end tags, undecoded. */
  raw: string;
}

const MAX_XML_CHARS = 4 * 1024 * 1024;
const MAX_DEPTH = 64;
const NAME = /[A-Za-z_:][-A-Za-z0-9_.:]*/y;
const ATTR = /\s*([A-Za-z_:][-A-Za-z0-9_.:]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;

function fail(message: string): never {
  throw new ProtocolParseError(SkypeErrorCode.Parse, `bad XML: ${message}`);
}

/** Decodes the five predefined entities and numeric character references; unknown ones stay literal. */
export function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (m, ent: string) => {
    switch (ent) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const code = ent[1] === "x" ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

/** Escapes text for an XML element or attribute value. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;",
  );
}

interface Open {
  el: XmlElement;
  innerStart: number;
}

function parseStartTag(s: string, lt: number): { el: XmlElement; end: number; selfClosing: boolean } {
  NAME.lastIndex = lt + 1;
  const m = NAME.exec(s);
  if (!m) fail(`tag name expected at ${lt}`);
  const attrs: Record<string, string> = {};
  let i = NAME.lastIndex;
  for (;;) {
    ATTR.lastIndex = i;
    const a = ATTR.exec(s);
    if (!a) break;
    attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? "");
    i = ATTR.lastIndex;
  }
  while (i < s.length && /\s/.test(s[i]!)) i++;
  if (s.startsWith("/>", i)) return { el: mk(m[0], attrs), end: i + 2, selfClosing: true };
  if (s[i] === ">") return { el: mk(m[0], attrs), end: i + 1, selfClosing: false };
  return fail(`malformed start tag <${m[0]}>`);
}

function mk(name: string, attrs: Record<string, string>): XmlElement {
  return { name, attrs, children: [], text: "", raw: "" };
}

/**
 * Parses a document and returns a synthetic `#document` element holding the top-level elements,
 * so callers can search for elements whose root name is not fixed by the protocol.
 * @throws ProtocolParseError on malformed or unsafe XML.
 */
export function parseXml(text: string): XmlElement {
  if (text.length > MAX_XML_CHARS) throw new ProtocolParseError(SkypeErrorCode.UnsafeXml, "XML too large");
  const doc = mk("#document", {});
  const stack: Open[] = [{ el: doc, innerStart: 0 }];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const top = stack[stack.length - 1]!;
    if (lt < 0 || lt > i) {
      const chunk = text.slice(i, lt < 0 ? text.length : lt);
      if (stack.length === 1) {
        if (chunk.trim()) fail("text outside the root element");
      } else top.el.text += decodeEntities(chunk);
      if (lt < 0) break;
    }
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end < 0) fail("unterminated comment");
      i = end + 3;
    } else if (text.startsWith("<![CDATA[", lt)) {
      const end = text.indexOf("]]>", lt + 9);
      if (end < 0) fail("unterminated CDATA");
      if (stack.length > 1) top.el.text += text.slice(lt + 9, end);
      i = end + 3;
    } else if (text.startsWith("<?", lt)) {
      const end = text.indexOf("?>", lt + 2);
      if (end < 0) fail("unterminated processing instruction");
      i = end + 2;
    } else if (text.startsWith("<!", lt)) {
      throw new ProtocolParseError(SkypeErrorCode.UnsafeXml, "XML declarations (DOCTYPE/ENTITY) are refused");
    } else if (text[lt + 1] === "/") {
      const end = text.indexOf(">", lt);
      if (end < 0) fail("unterminated end tag");
      const name = text.slice(lt + 2, end).trim();
      if (stack.length === 1 || top.el.name !== name) fail(`unexpected </${name}>`);
      top.el.raw = text.slice(top.innerStart, lt);
      stack.pop();
      i = end + 1;
    } else {
      const { el, end, selfClosing } = parseStartTag(text, lt);
      top.el.children.push(el);
      if (!selfClosing) {
        if (stack.length > MAX_DEPTH) fail("nesting too deep");
        stack.push({ el, innerStart: end });
      }
      i = end;
    }
  }
  if (stack.length > 1) fail(`unclosed <${stack[stack.length - 1]!.el.name}>`);
  return doc;
}

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
