// SPDX-License-Identifier: Apache-2.0
/**
 * Builds a small element tree from {@link tokenizeHtml} tokens, tolerating whatever people and
 * clients send: unclosed tags are closed at the end, stray end tags are ignored, `<p>` and `<li>`
 * close implicitly as in HTML, and nesting deeper than `maxDepth` is flattened (the tags are
 * dropped, their text kept) so that rendering never recurses without bound.
 */
import { tokenizeHtml } from "./html-tokenizer.js";

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

/** Options for {@link parseHtml}. */
export interface ParseOptions {
  /** Deepest element nesting kept; deeper tags are dropped and their text kept. Default 50 (Element's limit). */
  maxDepth?: number;
  /** Elements removed together with everything inside them (e.g. `mx-reply`, `legacyquote`). */
  dropWithContent?: ReadonlySet<string>;
}

/** Elements that never have content or an end tag. */
const VOID = new Set([
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

class TreeBuilder {
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
    if (this.dropDepth > 0) return;
    const kids = this.top.children;
    const last = kids[kids.length - 1];
    if (last?.type === "text") last.text += text;
    else kids.push({ type: "text", text });
  }

  open(name: string, attrs: ReadonlyMap<string, string>, selfClosing: boolean): void {
    if (this.dropDepth > 0) {
      if (name === this.dropName && !selfClosing) this.dropDepth++;
      return;
    }
    if (this.drop.has(name)) {
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

/** Parses `input` into a tree under a synthetic `#root` element. Never throws. */
export function parseHtml(input: string, options: ParseOptions = {}): HtmlElement {
  const builder = new TreeBuilder(Math.max(1, options.maxDepth ?? 50), options.dropWithContent ?? new Set());
  for (const tok of tokenizeHtml(input)) {
    if (tok.kind === "text") builder.text(tok.text);
    else if (tok.kind === "open") builder.open(tok.name, tok.attrs, tok.selfClosing);
    else builder.close(tok.name);
  }
  return builder.root;
}

/** Concatenated text of a subtree (no separators added). Iterative, so depth does not matter. */
export function textContent(node: HtmlNode): string {
  const parts: string[] = [];
  const stack: HtmlNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === undefined) break;
    if (n.type === "text") parts.push(n.text);
    else for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i] as HtmlNode);
  }
  return parts.join("");
}
