// SPDX-License-Identifier: Apache-2.0
/**
 * Ordered, case-insensitive MIME-style header blocks as used by MSNP24's top block and the
 * Routing/Reliability/content blocks (REFERENCE §3.2–3.3: names case-insensitive, values trimmed).
 */

// The value is everything up to the line break. Not `(.*)`: `.` stops at U+2028/U+2029 too, so a
// display name holding one made the whole line unreadable (and a top block a body).
const HEADER_LINE = /^([A-Za-z0-9][A-Za-z0-9_.-]*)[ \t]*:[ \t]*([^\r\n]*)$/;
/** Blanks around a value (MIME's SP/HTAB): not `trim()`, which also eats NBSP, U+2028, BOM… */
const OUTER_BLANKS = /^[ \t]+|[ \t]+$/g;

/** A header block. Order is kept for output; lookups ignore case. */
export class MsnpHeaders {
  private readonly list: [string, string][] = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [k, v] of init) this.list.push([k, v]);
  }

  /** Parses `Name: value` lines (CRLF or LF). Lines that are not headers are skipped. */
  static parse(text: string): MsnpHeaders {
    const h = new MsnpHeaders();
    for (const line of text.split(/\r?\n/)) {
      const m = HEADER_LINE.exec(line);
      if (m) h.list.push([m[1]!, m[2]!.replace(OUTER_BLANKS, "")]);
    }
    return h;
  }

  /** True when every non-empty line of `text` looks like a header. */
  static looksLikeHeaders(text: string): boolean {
    const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
    return lines.length > 0 && lines.every((l) => HEADER_LINE.test(l));
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
