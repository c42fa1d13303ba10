// SPDX-License-Identifier: Apache-2.0
/**
 * Ordered, case-insensitive MIME-style header blocks as used by MSNP24's top block and the
 * Routing/Reliability/content blocks (REFERENCE §3.2–3.3: names case-insensitive, values trimmed).
 */

const TAB = 9;
const CR = 13;
const SPACE = 32;
const COLON = 58;

/** Character classes of ASCII codes: bit 1 starts a name (`[A-Za-z0-9]`), bit 2 continues one (`[A-Za-z0-9_.-]`). */
const NAME_START = 1;
const NAME_PART = 2;
const NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  NAME_CHARS[c] = (alnum ? NAME_START | NAME_PART : 0) | (c === 95 || c === 46 || c === 45 ? NAME_PART : 0);
}

/** The class bits of `c` (0 for anything not ASCII). */
function nameClass(c: number): number {
  return c < 128 ? NAME_CHARS[c]! : 0;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * The header on `text[start, end)` (a line without its line break): `Name: value`, the name
 * `[A-Za-z0-9][A-Za-z0-9_.-]*`, blanks allowed around the colon, the value trimmed of SP/HTAB only
 * (not `trim()`, which also eats NBSP, U+2028, BOM…) and holding no CR. Undefined when the line is
 * not a header. A character scan, not a regex: this runs for every header of every message, and
 * the regex (with a split and a trim regex) was most of the parser's time (BENCHMARKS.md, P4).
 * `hasCr`: the line holds a CR, which no header may; the caller finds CRs once for the whole text
 * (a search per line from the line on to the end of the text made a block of many LF-only lines
 * quadratic: a 1 MiB one took seconds).
 */
function headerOn(text: string, start: number, end: number, hasCr: boolean): [string, string] | undefined {
  let i = start;
  if (hasCr || i >= end || (nameClass(text.charCodeAt(i)) & NAME_START) === 0) return undefined;
  for (i++; i < end; i++) {
    if ((nameClass(text.charCodeAt(i)) & NAME_PART) === 0) break;
  }
  const nameEnd = i;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  if (i >= end || text.charCodeAt(i) !== COLON) return undefined;
  i++;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  let valueEnd = end;
  while (valueEnd > i && isBlank(text.charCodeAt(valueEnd - 1))) valueEnd--;
  return [text.slice(start, nameEnd), text.slice(i, valueEnd)];
}

/**
 * Appends the header of each line of `text` to `into` (lines split at LF with one CR before it
 * dropped, as `/\r?\n/` does; a CR elsewhere stays in the line). Other lines are skipped, or,
 * when `strict`, end the scan: it returns false at the first non-empty line that is no header.
 */
function scanLines(text: string, into: [string, string][], strict: boolean): boolean {
  // The first CR at or after `pos` (-1: none left): each search starts after the last CR found,
  // so all of them together read the text once.
  let cr = text.indexOf("\r");
  for (let pos = 0; ;) {
    if (cr !== -1 && cr < pos) cr = text.indexOf("\r", pos);
    const lf = text.indexOf("\n", pos);
    const end = lf === -1 ? text.length : lf > pos && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    if (end > pos) {
      const header = headerOn(text, pos, end, cr !== -1 && cr < end);
      if (header) into.push(header);
      else if (strict) return false;
    }
    if (lf === -1) return true;
    pos = lf + 1;
  }
}

/**
 * Whether header name `k` equals `lower` (a name already lower-cased) ignoring case, as
 * `k.toLowerCase() === lower` does, but comparing ASCII by character instead of lower-casing
 * every name looked at: a look-up went through a block's names allocating a copy of each.
 */
function sameName(k: string, lower: string): boolean {
  const n = Math.min(k.length, lower.length);
  for (let i = 0; i < n; i++) {
    const c = k.charCodeAt(i);
    const d = lower.charCodeAt(i);
    // Beyond ASCII, case mapping can change lengths or depend on context: toLowerCase decides.
    if (c >= 0x80 || d >= 0x80) return k.toLowerCase() === lower;
    if (c !== d && !(c >= 65 && c <= 90 && c + 32 === d)) return false;
  }
  if (k.length === lower.length) return true;
  // All ASCII so far, and one name is longer: only characters beyond ASCII in the rest of `k`
  // could make the lengths agree once lower-cased.
  for (let i = n; i < k.length; i++) if (k.charCodeAt(i) >= 0x80) return k.toLowerCase() === lower;
  return false;
}

/** A header block. Order is kept for output; lookups ignore case. */
export class MsnpHeaders {
  private readonly list: [string, string][] = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [k, v] of init) this.list.push([k, v]);
  }

  /** Parses `Name: value` lines (CRLF or LF). Lines that are not headers are skipped. */
  static parse(text: string): MsnpHeaders {
    const h = new MsnpHeaders();
    scanLines(text, h.list, false);
    return h;
  }

  /**
   * The headers of `text` when every non-empty line is one (and there is at least one), else
   * undefined: {@link looksLikeHeaders} and {@link parse} in one pass.
   */
  static parseAll(text: string): MsnpHeaders | undefined {
    const h = new MsnpHeaders();
    return scanLines(text, h.list, true) && h.list.length > 0 ? h : undefined;
  }

  /** True when every non-empty line of `text` looks like a header. */
  static looksLikeHeaders(text: string): boolean {
    return MsnpHeaders.parseAll(text) !== undefined;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const n = name.toLowerCase();
    for (let i = 0; i < this.list.length; i++) {
      const e = this.list[i]!;
      if (sameName(e[0], n)) return e[1];
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces the first `name` header, or appends one. */
  set(name: string, value: string): this {
    const n = name.toLowerCase();
    const e = this.list.find(([k]) => sameName(k, n));
    if (e) e[1] = value;
    else this.list.push([name, value]);
    return this;
  }

  append(name: string, value: string): this {
    this.list.push([name, value]);
    return this;
  }

  delete(name: string): this {
    const n = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) if (sameName(this.list[i]![0], n)) this.list.splice(i, 1);
    return this;
  }

  get size(): number {
    return this.list.length;
  }

  /** The name of the first header (used to recognise Routing/Reliability/content blocks). */
  firstName(): string | undefined {
    return this.list[0]?.[0];
  }

  /** Whether the first header's name is `lower` (given in lower case), ignoring case. */
  firstNameIs(lower: string): boolean {
    const first = this.list[0];
    return first !== undefined && sameName(first[0], lower);
  }

  entries(): readonly (readonly [string, string])[] {
    return this.list;
  }

  /** `Name: value\r\n` per header, without the terminating empty line. CR/LF in values become spaces. */
  serialize(): string {
    return this.list.map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, " ")}\r\n`).join("");
  }
}
