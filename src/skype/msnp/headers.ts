// SPDX-License-Identifier: Apache-2.0
/**
 * Ordered, case-insensitive MIME-style header blocks as used by MSNP24's top block and the
 * Routing/Reliability/content blocks (REFERENCE §3.2–3.3: names case-insensitive, values trimmed).
 */

const TAB = 9;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const UNDERSCORE = 95;
const DOT = 46;
const HYPHEN = 45;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** `[A-Za-z0-9]` */
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The header on `text[start, end)` (a line without its line break): `Name: value`, the name
 * `[A-Za-z0-9][A-Za-z0-9_.-]*`, blanks allowed around the colon, the value trimmed of SP/HTAB only
 * (not `trim()`, which also eats NBSP, U+2028, BOM…) and holding no CR. Undefined when the line is
 * not a header. A character scan, not a regex: this runs for every header of every message, and
 * the regex (with a split and a trim regex) was most of the parser's time (BENCHMARKS.md, P4).
 */
function headerOn(text: string, start: number, end: number): [string, string] | undefined {
  let i = start;
  if (i >= end || !isAlnum(text.charCodeAt(i))) return undefined;
  for (i++; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!(isAlnum(c) || c === UNDERSCORE || c === DOT || c === HYPHEN)) break;
  }
  const nameEnd = i;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  if (i >= end || text.charCodeAt(i) !== COLON) return undefined;
  i++;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  let valueEnd = end;
  while (valueEnd > i && isBlank(text.charCodeAt(valueEnd - 1))) valueEnd--;
  const cr = text.indexOf("\r", i);
  if (cr !== -1 && cr < end) return undefined;
  return [text.slice(start, nameEnd), text.slice(i, valueEnd)];
}

/**
 * Appends the header of each line of `text` to `into` (lines split at LF with one CR before it
 * dropped, as `/\r?\n/` does; a CR elsewhere stays in the line). Other lines are skipped, or,
 * when `strict`, end the scan: it returns false at the first non-empty line that is no header.
 */
function scanLines(text: string, into: [string, string][], strict: boolean): boolean {
  for (let pos = 0; ;) {
    const lf = text.indexOf("\n", pos);
    const end = lf === -1 ? text.length : lf > pos && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    if (end > pos) {
      const header = headerOn(text, pos, end);
      if (header) into.push(header);
      else if (strict) return false;
    }
    if (lf === -1) return true;
    pos = lf + 1;
  }
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
    return this.list.find(([k]) => k.toLowerCase() === n)?.[1];
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces the first `name` header, or appends one. */
  set(name: string, value: string): this {
    const n = name.toLowerCase();
    const e = this.list.find(([k]) => k.toLowerCase() === n);
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
    for (let i = this.list.length - 1; i >= 0; i--)
      if (this.list[i]![0].toLowerCase() === n) this.list.splice(i, 1);
    return this;
  }

  get size(): number {
    return this.list.length;
  }

  /** The name of the first header (used to recognise Routing/Reliability/content blocks). */
  firstName(): string | undefined {
    return this.list[0]?.[0];
  }

  entries(): readonly (readonly [string, string])[] {
    return this.list;
  }

  /** `Name: value\r\n` per header, without the terminating empty line. CR/LF in values become spaces. */
  serialize(): string {
    return this.list.map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, " ")}\r\n`).join("");
  }
}
