// SPDX-License-Identifier: Apache-2.0
/**
 * A small XML reader for the MSNP24 bodies (REFERENCE §5.2, §6, §8.3): elements, attributes, text,
 * the five predefined entities, character references, CDATA, comments and processing instructions.
 * Document type declarations are refused (no entity expansion at all). Every element keeps its
 * source span so a `<user>` document's parts can be stored and re-sent byte for byte.
 */

/** An element of a parsed document. `start`/`end` are offsets into the source string. */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
  readonly start: number;
  readonly end: number;
}

/** A child node: an element or decoded character data. */
export type XmlNode = XmlElement | string;

/** Thrown for input that is not well-formed XML (the caller answers `201`). */
export class XmlParseError extends Error {
  override readonly name = "XmlParseError";
}

const MAX_DEPTH = 64;
const NAME = /[A-Za-z_][\w.:-]*/y;
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Escapes text for element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) =>
    c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === '"' ? "&quot;" : "&apos;",
  );
}

function decodeEntities(s: string, at: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlParseError(`bare '&' near offset ${at}`);
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) {
        throw new XmlParseError(`bad character reference ${whole}`);
      }
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlParseError(`unknown entity ${whole}`);
    return v;
  });
}

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  fail(msg: string): never {
    throw new XmlParseError(`${msg} at offset ${this.pos}`);
  }

  skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (!m) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }

  /** Skips comments, processing instructions and whitespace between top-level items. */
  skipMisc(allowText: boolean): void {
    for (;;) {
      if (allowText) this.skipSpace();
      if (this.src.startsWith("<!--", this.pos)) this.skipPast("-->");
      else if (this.src.startsWith("<?", this.pos)) this.skipPast("?>");
      else if (this.src.startsWith("<!DOCTYPE", this.pos) || this.src.startsWith("<!doctype", this.pos)) {
        this.fail("document type declarations are not accepted");
      } else return;
    }
  }

  skipPast(end: string): void {
    const i = this.src.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated construct, expected '${end}'`);
    this.pos = i + end.length;
  }

  element(depth: number): XmlElement {
    if (depth > MAX_DEPTH) this.fail("elements nested too deeply");
    const start = this.pos;
    if (this.src[this.pos] !== "<") this.fail("expected '<'");
    this.pos++;
    const name = this.name();
    const attrs = this.attributes();
    if (this.src.startsWith("/>", this.pos)) {
      this.pos += 2;
      return { name, attrs, children: [], start, end: this.pos };
    }
    if (this.src[this.pos] !== ">") this.fail(`malformed start tag <${name}>`);
    this.pos++;
    const children = this.content(name, depth);
    return { name, attrs, children, start, end: this.pos };
  }

  attributes(): Record<string, string> {
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ">" || c === "/" || c === undefined) return attrs;
      if (this.pos === before) this.fail("expected whitespace before an attribute");
      const key = this.name();
      this.skipSpace();
      if (this.src[this.pos] !== "=") this.fail(`attribute ${key} has no value`);
      this.pos++;
      this.skipSpace();
      const q = this.src[this.pos];
      if (q !== '"' && q !== "'") this.fail(`attribute ${key} is not quoted`);
      const endQ = this.src.indexOf(q, this.pos + 1);
      if (endQ < 0) this.fail("unterminated attribute value");
      const raw = this.src.slice(this.pos + 1, endQ);
      if (raw.includes("<")) this.fail("'<' in an attribute value");
      if (key in attrs) this.fail(`duplicate attribute ${key}`);
      attrs[key] = decodeEntities(raw, this.pos);
      this.pos = endQ + 1;
    }
  }

  content(parent: string, depth: number): XmlNode[] {
    const children: XmlNode[] = [];
    let text = "";
    const flush = (): void => {
      if (text) children.push(text);
      text = "";
    };
    for (;;) {
      const lt = this.src.indexOf("<", this.pos);
      if (lt < 0) this.fail(`<${parent}> is not closed`);
      text += decodeEntities(this.src.slice(this.pos, lt), this.pos);
      this.pos = lt;
      if (this.src.startsWith("</", this.pos)) {
        this.pos += 2;
        const closing = this.name();
        this.skipSpace();
        if (closing !== parent || this.src[this.pos] !== ">") this.fail(`mismatched </${closing}>`);
        this.pos++;
        flush();
        return children;
      }
      if (this.src.startsWith("<![CDATA[", this.pos)) {
        const endC = this.src.indexOf("]]>", this.pos);
        if (endC < 0) this.fail("unterminated CDATA");
        text += this.src.slice(this.pos + 9, endC);
        this.pos = endC + 3;
      } else if (this.src.startsWith("<!--", this.pos) || this.src.startsWith("<?", this.pos)) {
        this.skipMisc(false);
      } else if (this.src.startsWith("<!", this.pos)) {
        this.fail("markup declarations are not accepted");
      } else {
        flush();
        children.push(this.element(depth + 1));
      }
    }
  }
}

/**
 * Parses one XML document (leading/trailing whitespace, comments and an XML declaration allowed).
 * @throws XmlParseError when the input is not well-formed or uses a DOCTYPE.
 */
export function parseXml(src: string): XmlElement {
  const r = new Reader(src);
  r.skipMisc(true);
  if (r.pos >= src.length) r.fail("empty document");
  const root = r.element(0);
  r.skipMisc(true);
  if (r.pos !== src.length) r.fail("content after the root element");
  return root;
}

/** Child elements of `el`, optionally only those named `name` (case-insensitive). */
export function childElements(el: XmlElement | undefined, name?: string): XmlElement[] {
  if (!el) return [];
  const lower = name?.toLowerCase();
  return el.children.filter(
    (c): c is XmlElement => typeof c !== "string" && (lower === undefined || c.name.toLowerCase() === lower),
  );
}

/** The first child element named `name` (case-insensitive). */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return childElements(el, name)[0];
}

/** Follows a path of child names from `el`: `pathOf(root, "presence", "buddies")`. */
export function pathOf(el: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let cur = el;
  for (const n of names) cur = child(cur, n);
  return cur;
}

/** The concatenated character data of `el` and its descendants, trimmed. */
export function textOf(el: XmlElement | undefined): string {
  if (!el) return "";
  const parts: string[] = [];
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (typeof c === "string") parts.push(c);
      else walk(c);
    }
  };
  walk(el);
  return parts.join("").trim();
}

/** The trimmed text of the child `name`, or undefined when there is no such child. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c ? textOf(c) : undefined;
}

/** An attribute value looked up case-insensitively. */
export function attrOf(el: XmlElement, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(el.attrs)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** `<name>escaped text</name>`. */
export function tag(name: string, text: string | number | boolean): string {
  return `<${name}>${escapeXml(String(text))}</${name}>`;
}
