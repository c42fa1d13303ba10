// SPDX-License-Identifier: Apache-2.0
/**
 * Accumulates a Matrix message in two renderings at once: Element-friendly HTML (whitelisted tags
 * only, every text escaped, `<br>` for newlines, no `<p>` wrappers) and the plain-text `body`.
 * Used by the Skype→Matrix converter; it never receives markup from the input, only from code.
 */
import { cleanText } from "./clean-text.js";
import { escapeHtml } from "./escape.js";

export class MatrixWriter {
  // Parts, not growing strings: checking or trimming the end of a large rope would flatten it
  // each time and make big messages quadratic. Each "<br>" is a part of its own.
  private readonly htmlParts: string[] = [];
  private readonly plainParts: string[] = [];
  private plainLast = "";
  /** True once any formatting tag was written, i.e. the HTML says more than the plain text. */
  formatted = false;
  readonly mentions = new Set<string>();
  /** Set after a block element: one newline right after it is implied by the block itself. */
  private swallowNewline = false;

  private addPlain(s: string): void {
    if (s === "") return;
    this.plainParts.push(s);
    this.plainLast = s[s.length - 1] ?? "";
  }

  /** Writes text (already decoded). Outside `<pre>` newlines become `<br>`. */
  text(t: string, inPre = false): void {
    let s = cleanText(t);
    if (s === "") return;
    if (this.swallowNewline && s.startsWith("\n")) s = s.slice(1);
    this.swallowNewline = false;
    if (s === "") return;
    this.addPlain(s);
    if (inPre) {
      this.htmlParts.push(escapeHtml(s));
      return;
    }
    const lines = s.split("\n");
    lines.forEach((line, i) => {
      if (i > 0) this.htmlParts.push("<br>");
      if (line !== "") this.htmlParts.push(escapeHtml(line));
    });
  }

  /** Writes a formatting tag built by the converter (never input markup). */
  tag(markup: string): void {
    this.swallowNewline = false;
    this.htmlParts.push(markup);
    this.formatted = true;
  }

  /** Adds text to the plain rendering only (e.g. a link's URL after its label). */
  plainOnly(t: string): void {
    this.addPlain(cleanText(t));
  }

  /** Starts a block element: the plain text moves to a new line; a `<br>` right before is redundant. */
  blockStart(): void {
    this.swallowNewline = false;
    if (this.plainLast !== "" && this.plainLast !== "\n") this.addPlain("\n");
    if (this.htmlParts[this.htmlParts.length - 1] === "<br>") this.htmlParts.pop();
  }

  /** Ends a block element: the plain text continues on a new line. */
  blockEnd(): void {
    if (this.plainLast !== "" && this.plainLast !== "\n") this.addPlain("\n");
    this.swallowNewline = true;
  }

  /** The HTML rendering, without newlines (`<br>`) at either end. */
  get html(): string {
    let from = 0;
    let to = this.htmlParts.length;
    while (from < to && this.htmlParts[from] === "<br>") from++;
    while (to > from && this.htmlParts[to - 1] === "<br>") to--;
    return this.htmlParts.slice(from, to).join("");
  }

  /** The plain rendering, without newlines at either end. */
  get plain(): string {
    return this.plainParts.join("").replace(/^\n+/, "").replace(/\n+$/, "");
  }

  /**
   * Appends a rendered sub-message as a quotation: `<blockquote>` in HTML, `> `-prefixed lines in
   * plain text. `header` (already escaped markup plus its plain form) introduces the author.
   */
  quote(sub: MatrixWriter, header: { html: string; plain: string } | undefined): void {
    const subHtml = sub.html;
    const subPlain = sub.plain;
    this.blockStart();
    const head = header ? header.html + (subHtml === "" ? "" : "<br>") : "";
    this.tag(`<blockquote>${head}${subHtml}</blockquote>`);
    const lines = header ? header.plain + (subPlain === "" ? "" : `\n${subPlain}`) : subPlain;
    this.addPlain(
      lines
        .split("\n")
        .map((l) => (l === "" ? ">" : `> ${l}`))
        .join("\n"),
    );
    for (const m of sub.mentions) this.mentions.add(m);
    this.blockEnd();
  }
}
