// SPDX-License-Identifier: Apache-2.0
/**
 * WBXML 1.3 encoder and decoder for ActiveSync (REFERENCE §11.3; WAP-192, MS-ASWBXML).
 * Supported: SWITCH_PAGE, END, STR_I, STR_T (with the string table), OPAQUE, tags with content; no
 * attributes (ActiveSync never uses them). Malformed input → ProtocolParseError with code `Wbxml`.
 */
import { ProtocolParseError, SkypeErrorCode } from "../errors.js";
import { tagName, tagToken } from "./code-pages.js";

/** An element: its code page, tag name and children (elements, text, opaque bytes). */
export interface WbxmlElement {
  page: number;
  tag: string;
  children: WbxmlNode[];
}
export type WbxmlNode = WbxmlElement | string | Uint8Array;

const SWITCH_PAGE = 0x00;
const END = 0x01;
const STR_I = 0x03;
const STR_T = 0x83;
const OPAQUE = 0xc3;
const HAS_CONTENT = 0x40;
const HAS_ATTRIBUTES = 0x80;
const UTF8_CHARSET = 106;
/** Levels of elements, the root included; the encoder and decoder apply the same limit. */
const MAX_DEPTH = 64;

/** Builds an element; strings become text, arrays are flattened. */
export function wb(
  page: number,
  tag: string,
  ...children: (WbxmlNode | WbxmlNode[] | undefined)[]
): WbxmlElement {
  const flat: WbxmlNode[] = [];
  for (const c of children) {
    if (c === undefined) continue;
    if (Array.isArray(c)) flat.push(...c);
    else flat.push(c);
  }
  return { page, tag, children: flat };
}

function isElement(n: WbxmlNode): n is WbxmlElement {
  return typeof n === "object" && !(n instanceof Uint8Array);
}

function wbxmlError(message: string): ProtocolParseError {
  return new ProtocolParseError(SkypeErrorCode.Wbxml, `malformed WBXML: ${message}`);
}

/** Appends a WBXML mb_u_int32 (7 bits per byte, big-endian, high bit = more). */
function pushMbUint32(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw wbxmlError(`bad integer ${value}`);
  const bytes = [value & 0x7f];
  let v = Math.floor(value / 128);
  while (v > 0) {
    bytes.unshift((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(...bytes);
}

/** Encodes a document: header (1.3, unknown public id, UTF-8, empty string table) and the root. */
export function encodeWbxml(root: WbxmlElement): Uint8Array {
  const out: number[] = [0x03, 0x01, UTF8_CHARSET, 0x00];
  const state = { page: 0 };
  encodeElement(root, out, state, 0);
  return Uint8Array.from(out);
}

function encodeElement(el: WbxmlElement, out: number[], state: { page: number }, depth: number): void {
  // `depth` counts from 0 at the root: levels 0–63 are the 64 the decoder accepts.
  if (depth >= MAX_DEPTH) throw wbxmlError("nested too deeply");
  const token = tagToken(el.page, el.tag);
  if (token === undefined) {
    throw new ProtocolParseError(
      SkypeErrorCode.Wbxml,
      `no WBXML token for ${el.tag} on code page ${el.page}`,
    );
  }
  if (el.page !== state.page) {
    out.push(SWITCH_PAGE, el.page);
    state.page = el.page;
  }
  if (el.children.length === 0) {
    out.push(token);
    return;
  }
  out.push(token | HAS_CONTENT);
  for (const child of el.children) {
    if (typeof child === "string") {
      if (child.includes("\0")) throw wbxmlError("a string with a NUL character");
      out.push(STR_I);
      for (const b of Buffer.from(child, "utf8")) out.push(b);
      out.push(0x00);
    } else if (child instanceof Uint8Array) {
      out.push(OPAQUE);
      pushMbUint32(out, child.length);
      for (const b of child) out.push(b);
    } else {
      encodeElement(child, out, state, depth + 1);
    }
  }
  out.push(END);
}

class Reader {
  pos = 0;
  /** The input as a Buffer view (no copy), so strings decode in place with `toString(enc, start, end)`. */
  readonly buf: Buffer;
  constructor(input: Uint8Array) {
    this.buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  }

  byte(what: string): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw wbxmlError(`truncated (${what})`);
    this.pos++;
    return b;
  }

  mbUint32(what: string): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte(what);
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw wbxmlError(`${what} overflows 32 bits`);
        return value;
      }
    }
    throw wbxmlError(`${what} is longer than 5 bytes`);
  }

  bytes(n: number, what: string): Buffer {
    if (n > this.buf.length - this.pos) throw wbxmlError(`truncated (${what} of ${n} bytes)`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  cString(what: string): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end === -1) throw wbxmlError(`unterminated ${what}`);
    const s = this.buf.toString("utf8", this.pos, end);
    this.pos = end + 1;
    return s;
  }
}

/** Decodes a WBXML document into its root element. */
export function decodeWbxml(input: Uint8Array): WbxmlElement {
  const r = new Reader(input);
  const version = r.byte("version");
  if (version > 0x03) throw wbxmlError(`unsupported version 0x${version.toString(16)}`);
  const publicId = r.mbUint32("public id");
  if (publicId === 0) r.mbUint32("public id index");
  const charset = r.mbUint32("charset");
  if (charset !== UTF8_CHARSET && charset !== 0) throw wbxmlError(`unsupported charset ${charset}`);
  const strtbl = r.bytes(r.mbUint32("string table length"), "string table");
  const state = { page: 0 };
  const root = decodeContent(r, strtbl, state);
  if (root === undefined) throw wbxmlError("no root element");
  while (r.pos < input.length) {
    // Only page switches may trail the root; anything else is garbage.
    if (r.byte("trailer") !== SWITCH_PAGE) throw wbxmlError("data after the root element");
    r.byte("page");
  }
  return root;
}

/**
 * Tag names of a page by token (0x00–0x3f), built once per page from the code-page tables, so the
 * decoder finds a name with one array index per element instead of two map look-ups. Pages with no
 * known tag share one table, so a document switching through all 256 pages adds nothing.
 */
const namesByPage: (readonly string[] | undefined)[] = [];
let unknownPageNames: readonly string[] | undefined;

function tokenName(token: number): string {
  return `0x${token.toString(16).padStart(2, "0")}`;
}

function pageTagNames(page: number): readonly string[] {
  let names = namesByPage[page];
  if (names === undefined) {
    const list: string[] = [];
    let known = false;
    for (let t = 0; t < 0x40; t++) {
      const name = tagName(page, t);
      if (name !== undefined) known = true;
      list.push(name ?? tokenName(t));
    }
    names = known ? list : (unknownPageNames ??= list);
    namesByPage[page] = names;
  }
  return names;
}

/** Reads the root element (skipping leading page switches). */
function decodeContent(r: Reader, strtbl: Buffer, state: { page: number }): WbxmlElement | undefined {
  const stack: WbxmlElement[] = [];
  /** The innermost open element: the top of `stack`. */
  let parent: WbxmlElement | undefined;
  let root: WbxmlElement | undefined;
  let names = pageTagNames(state.page);
  while (r.pos < r.buf.length) {
    const t = r.byte("token");
    if (t === SWITCH_PAGE) {
      state.page = r.byte("page");
      names = pageTagNames(state.page);
    } else if (t === END) {
      if (!stack.pop()) throw wbxmlError("END without an open element");
      if (stack.length === 0) return root;
      parent = stack[stack.length - 1];
    } else if (t === STR_I || t === STR_T || t === OPAQUE) {
      if (!parent) throw wbxmlError("content outside the root element");
      parent.children.push(readValue(r, t, strtbl));
    } else if ((t & 0x3f) >= 0x05) {
      if (t & HAS_ATTRIBUTES) throw wbxmlError("attributes are not supported");
      if (!parent && root) throw wbxmlError("more than one root element");
      // Counted for every element, with content or not, so the limit is the encoder's.
      if (stack.length >= MAX_DEPTH) throw wbxmlError("nested too deeply");
      const el: WbxmlElement = { page: state.page, tag: names[t & 0x3f]!, children: [] };
      if (parent) parent.children.push(el);
      else root = el;
      if (t & HAS_CONTENT) {
        stack.push(el);
        parent = el;
      } else if (!parent) {
        return root;
      }
    } else {
      throw wbxmlError(`unsupported global token ${tokenName(t)}`);
    }
  }
  if (stack.length > 0) throw wbxmlError("truncated (an element is not closed)");
  return root;
}

function readValue(r: Reader, t: number, strtbl: Buffer): string | Uint8Array {
  if (t === STR_I) return r.cString("inline string");
  if (t === OPAQUE) return Uint8Array.from(r.bytes(r.mbUint32("opaque length"), "opaque data"));
  const offset = r.mbUint32("string table offset");
  if (offset >= strtbl.length) throw wbxmlError("string table reference out of range");
  const end = strtbl.indexOf(0, offset);
  if (end === -1) throw wbxmlError("unterminated string in the string table");
  return strtbl.toString("utf8", offset, end);
}

/** The first child element with `tag` (and `page`, when given). */
export function wbChild(el: WbxmlElement | undefined, tag: string, page?: number): WbxmlElement | undefined {
  return el?.children.find(
    (c): c is WbxmlElement => isElement(c) && c.tag === tag && (page === undefined || c.page === page),
  );
}

/** All child elements with `tag` (and `page`, when given). */
export function wbChildren(el: WbxmlElement | undefined, tag: string, page?: number): WbxmlElement[] {
  if (!el) return [];
  return el.children.filter(
    (c): c is WbxmlElement => isElement(c) && c.tag === tag && (page === undefined || c.page === page),
  );
}

/** The text of an element: its strings concatenated, opaque data read as UTF-8. */
export function wbText(el: WbxmlElement | undefined): string | undefined {
  if (!el) return undefined;
  let s = "";
  for (const c of el.children) {
    if (typeof c === "string") s += c;
    else if (c instanceof Uint8Array) s += Buffer.from(c).toString("utf8");
  }
  return s;
}

/** The text of the first child with `tag`. */
export function wbChildText(el: WbxmlElement | undefined, tag: string, page?: number): string | undefined {
  return wbText(wbChild(el, tag, page));
}
