// SPDX-License-Identifier: Apache-2.0
/**
 * Accumulates a Skype message from rendered HTML: text and Skype tags interleaved, with HTML's
 * whitespace rules (runs of spaces collapse, block elements start new lines) turned into the
 * literal newlines Skype shows. At the end it yields RichText (text XML-escaped) when any tag was
 * written, else plain `Text` (unescaped), per PROFILE.md §3 "Rich text".
 */
import { cleanText } from "./clean-text.js";
import { escapeHtml } from "./escape.js";

interface Segment {
  tag: boolean;
  s: string;
}

export class SkypeWriter {
  private readonly segs: Segment[] = [];
  private hasText = false;
  private hasTags = false;
  private trailingNewlines = 0;
  private pendingBreak = 0;
  private pendingSpace = false;
  /** True right after a list prefix or an opening block tag: breaks requested now are redundant. */
  private suppressBreaks = false;

  private get atLineStart(): boolean {
    return !this.hasText || this.trailingNewlines > 0;
  }

  private write(s: string): void {
    if (s === "") return;
    this.segs.push({ tag: false, s });
    this.hasText = true;
    this.suppressBreaks = false;
    let trailing = 0;
    while (trailing < s.length && s[s.length - 1 - trailing] === "\n") trailing++;
    this.trailingNewlines = trailing === s.length ? this.trailingNewlines + trailing : trailing;
  }

  /** Emits pending line breaks and the pending space before new content. */
  private flush(): void {
    if (this.pendingBreak > 0 && this.hasText) {
      const need = this.pendingBreak - this.trailingNewlines;
      if (need > 0) this.write("\n".repeat(need));
    }
    this.pendingBreak = 0;
    if (this.pendingSpace && !this.atLineStart) this.write(" ");
    this.pendingSpace = false;
  }

  /** Normal HTML text: whitespace runs collapse to one space, none at the start of a line. */
  text(t: string): void {
    const collapsed = cleanText(t).replace(/[ \t\n\f]+/g, " ");
    if (collapsed === "") return;
    const core = collapsed.trim();
    if (collapsed.startsWith(" ")) this.pendingSpace = true;
    if (core === "") return;
    this.flush();
    this.write(core);
    this.pendingSpace = collapsed.endsWith(" ");
  }

  /** Text written exactly as given (code blocks, list prefixes). */
  literal(t: string): void {
    const s = cleanText(t);
    if (s === "") return;
    this.flush();
    this.write(s);
  }

  /** Writes `s` between items on one line (table cells); nothing at the start of a line. */
  separator(s: string): void {
    if (this.pendingBreak > 0 || this.atLineStart) return;
    this.pendingSpace = false;
    this.write(s);
  }

  /** A `<br>`: one newline, always. */
  hardBreak(): void {
    this.pendingSpace = false;
    this.flush();
    this.write("\n");
  }

  /**
   * Requests that the next content starts after at least `n` newlines (block boundaries).
   * With `exact` (list items), a larger pending request is lowered to `n` so items stay tight,
   * and the break is kept even right after a prefix, so an empty item still ends its line.
   */
  lineBreak(n: number, exact = false): void {
    this.pendingSpace = false;
    if (exact) {
      this.suppressBreaks = false;
      this.pendingBreak = n;
      return;
    }
    if (this.suppressBreaks) return;
    this.pendingBreak = Math.max(this.pendingBreak, n);
  }

  /** Marks the next content as following a list prefix, so a `<p>` inside `<li>` stays on its line. */
  afterPrefix(): void {
    this.suppressBreaks = true;
  }

  /** An opening Skype tag (built by the converter). `block` tags suppress breaks right after them. */
  open(markup: string, block = false): void {
    this.flush();
    this.segs.push({ tag: true, s: markup });
    this.hasTags = true;
    if (block) this.suppressBreaks = true;
  }

  /** A closing Skype tag. Closing a block drops breaks and spaces pending inside it. */
  close(markup: string, block = false): void {
    if (block) {
      this.pendingBreak = 0;
      this.pendingSpace = false;
    }
    this.segs.push({ tag: true, s: markup });
    this.hasTags = true;
    this.suppressBreaks = false;
  }

  /** True when nothing visible was written. */
  get empty(): boolean {
    return !this.hasText;
  }

  /** Drops whitespace at both ends of the message (up to the first/last tag). */
  private trimEdges(): void {
    let to = this.segs.length;
    for (let last = this.segs[to - 1]; last !== undefined && !last.tag; last = this.segs[to - 1]) {
      last.s = last.s.trimEnd();
      if (last.s !== "") break;
      to--;
    }
    let from = 0;
    for (
      let first = this.segs[from];
      from < to && first !== undefined && !first.tag;
      first = this.segs[from]
    ) {
      first.s = first.s.trimStart();
      if (first.s !== "") break;
      from++;
    }
    this.segs.splice(to);
    this.segs.splice(0, from);
  }

  /** The finished message: RichText when any tag was written, else plain text. */
  result(): { type: "text" | "richtext"; body: string } {
    this.trimEdges();
    if (!this.hasTags) {
      return { type: "text", body: this.segs.map((x) => x.s).join("") };
    }
    return { type: "richtext", body: this.segs.map((x) => (x.tag ? x.s : escapeHtml(x.s))).join("") };
  }
}
