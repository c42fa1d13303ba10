// SPDX-License-Identifier: Apache-2.0
/**
 * The element tree the HTML parser builds (html-parser.ts), and its builder: a bounded stack that
 * tolerates what people and clients send (unclosed tags closed at the end, stray end tags ignored,
 * `<p>` and `<li>` closing implicitly as in HTML, nesting past `maxDepth` flattened).
 */

/** An element node. `name` is lower-case; attribute values are entity-decoded. */
export interface HtmlElement {
  type: "element";
  name: string;
  attrs: ReadonlyMap<string, string>;
  children: HtmlNode[];
}

/** A text node (entity-decoded). */
export interface HtmlText {
  type: "text";
  text: string;
}

export type HtmlNode = HtmlElement | HtmlText;

/** Elements that never have content or an end tag. */
export const VOID = new Set([
  "br",
  "hr",
  "img",
  "wbr",
  "input",
  "meta",
  "link",
  "area",
  "base",
  "col",
  "embed",
  "param",
  "source",
  "track",
]);

/**
 * Elements whose content is never shown; always removed with their content, up to their first end
 * tag. The tokenizer already reads the content of script, style and title as raw text; for the
 * others the tags inside are tokenized but dropped all the same.
 */
export const RAW_TEXT = new Set([
  "script",
  "style",
  "textarea",
  "title",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
]);

/** Opening one of these closes an open `<p>` first (a subset of HTML's rule; enough for chat). */
const CLOSES_P = new Set([
  "p",
  "div",
  "ul",
  "ol",
  "pre",
  "blockquote",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "table",
  "hr",
  "details",
]);

export class TreeBuilder {
  readonly root: HtmlElement = { type: "element", name: "#root", attrs: new Map(), children: [] };
  private readonly stack: HtmlElement[] = [this.root];
  /** While > 0 we are inside a dropped element; counts nested opens of `dropName`. */
  private dropDepth = 0;
  private dropName = "";

  constructor(
    private readonly maxDepth: number,
    private readonly drop: ReadonlySet<string>,
  ) {}

  private get top(): HtmlElement {
    return this.stack[this.stack.length - 1] ?? this.root;
  }

  text(text: string): void {
    if (this.dropDepth > 0 || text === "") return;
    const kids = this.top.children;
    const last = kids[kids.length - 1];
    if (last?.type === "text") last.text += text;
    else kids.push({ type: "text", text });
  }

  open(name: string, attrs: ReadonlyMap<string, string>, selfClosing: boolean): void {
    if (this.dropDepth > 0) {
      // Raw-text elements do not nest: their first end tag ends them.
      if (name === this.dropName && !selfClosing && !RAW_TEXT.has(name)) this.dropDepth++;
      return;
    }
    if (this.drop.has(name) || RAW_TEXT.has(name)) {
      if (!selfClosing && !VOID.has(name)) {
        this.dropDepth = 1;
        this.dropName = name;
      }
      return;
    }
    if (CLOSES_P.has(name) && this.top.name === "p") this.stack.pop();
    if (name === "li") this.closeOpenListItem();
    const el: HtmlElement = { type: "element", name, attrs, children: [] };
    if (VOID.has(name) || selfClosing) {
      this.top.children.push(el);
      return;
    }
    // The root counts as level 0, so at most maxDepth real elements are ever open at once.
    if (this.stack.length > this.maxDepth) return;
    this.top.children.push(el);
    this.stack.push(el);
  }

  close(name: string): void {
    if (this.dropDepth > 0) {
      if (name === this.dropName) this.dropDepth--;
      return;
    }
    for (let i = this.stack.length - 1; i >= 1; i--) {
      if (this.stack[i]?.name === name) {
        this.stack.length = i;
        return;
      }
    }
  }

  /** `<li>` while an `<li>` of the same list is open closes that one first. */
  private closeOpenListItem(): void {
    for (let i = this.stack.length - 1; i >= 1; i--) {
      const n = this.stack[i]?.name;
      if (n === "ul" || n === "ol") return;
      if (n === "li") {
        this.stack.length = i;
        return;
      }
    }
  }
}
