// SPDX-License-Identifier: Apache-2.0
/**
 * Parses the HTML of Matrix `formatted_body` and Skype's RichText XML subset into a small element
 * tree. Tokenizing and character-reference decoding (all 2,231 HTML named references) are done by
 * htmlparser2's streaming `Tokenizer`; the tree is built here, as the tokens arrive, with a bounded
 * stack, tolerating whatever people and clients send: unclosed tags are closed at the end, stray
 * end tags are ignored, `<p>` and `<li>` close implicitly as in HTML, and nesting deeper than
 * `maxDepth` is flattened (the tags are dropped, their text kept) so that rendering never recurses
 * without bound. It never throws and runs in linear time; markup it cannot complete becomes text
 * (later escaped), so hostile input can only ever become text.
 *
 * Why the Tokenizer and not htmlparser2's `Parser`: the Parser keeps its own unbounded stack of
 * open elements and searches it (`lastIndexOf`) for every end tag, so N unclosed tags followed by
 * N unmatched end tags take O(N²) time — about 16 s for 560 KB of `<b>…</x>…` with 8.0.2. The tree
 * builder below does what the Parser would (lower-casing names, collecting attributes) with a stack
 * that never holds more than `maxDepth` elements, so every end tag costs at most `maxDepth` steps.
 */
import { Tokenizer, type TokenizerCallbacks } from "htmlparser2";
import { decodeEntities } from "./escape.js";
import { TreeBuilder, type HtmlElement, type HtmlNode } from "./html-tree-builder.js";

export type { HtmlElement, HtmlNode, HtmlText } from "./html-tree-builder.js";

/** Options for {@link parseHtml}. */
export interface ParseOptions {
  /** Deepest element nesting kept; deeper tags are dropped and their text kept. Default 50 (Element's limit). */
  maxDepth?: number;
  /** Elements removed together with everything inside them (e.g. `mx-reply`, `legacyquote`). */
  dropWithContent?: ReadonlySet<string>;
}

/**
 * Turns htmlparser2 tokenizer events (source offsets) into tree-builder calls. It also tracks
 * `consumed`, the offset just past the last completed token, so that markup left unfinished at the
 * end of the input (a tag, quoted attribute, comment or CDATA section that never closes), which the
 * tokenizer drops or reports only in part, becomes text from its `<` on, as written (only
 * references ending in `;` decoded).
 *
 * The tokenizer's two options are given explicitly, both at their defaults: `xmlMode: false`,
 * because Matrix sends HTML and Skype's RichText uses HTML's entities and case-insensitive tags,
 * and `decodeEntities: true`, so text and attribute values arrive decoded with the full HTML
 * entity table (legacy references without `;`, such as `&copy` followed by a space, are decoded
 * in text as browsers do, never in attribute values). The `Parser` options that would otherwise
 * matter are done here instead:
 * - lowerCaseTags / lowerCaseAttributeNames: names are lower-cased (the Parser's HTML default);
 * - recognizeSelfClosing (not the Parser's HTML default): `<x/>` ends every element, not only void
 *   ones, because Skype writes XML (`<e_m … />`) and a self-closed `<mx-reply/>` must not swallow
 *   the rest of the message;
 * - recognizeCDATA (not the Parser's HTML default): CDATA sections are text, as in Skype's XML.
 * Comments, doctypes and processing instructions are dropped.
 */
class TokenSink implements TokenizerCallbacks {
  private readonly tokenizer = new Tokenizer({ xmlMode: false, decodeEntities: true }, this);
  /** Offset just past the last token that was completely read. */
  private consumed = 0;
  private tagName = "";
  private attrs = new Map<string, string>();
  private attrName = "";
  private attrValue = "";
  /** An end tag whose name was read; it takes effect once its `>` is known to exist. */
  private pendingClose: { name: string; nameEnd: number } | undefined;

  constructor(
    private readonly input: string,
    private readonly tree: TreeBuilder,
  ) {}

  /** Feeds the whole input to the tokenizer; its events build the tree. */
  run(): void {
    this.tokenizer.write(this.input);
    this.tokenizer.end();
  }

  /** Applies a pending end tag if its `>` exists; an end tag cut off by the end of input is text. */
  private settle(): void {
    const pending = this.pendingClose;
    if (pending === undefined) return;
    this.pendingClose = undefined;
    const gt = this.input.indexOf(">", pending.nameEnd);
    if (gt < 0) return;
    this.tree.close(pending.name);
    this.consumed = gt + 1;
  }

  private name(start: number, end: number): string {
    return this.input.slice(start, end).toLowerCase();
  }

  ontext(start: number, end: number): void {
    this.settle();
    if (start < 0 || start > this.consumed) {
      // Only at the end of input: the tokenizer reports unfinished markup without its start (or
      // from offset -1). Everything since the last complete token becomes text, as written.
      this.tree.text(decodeEntities(this.input.slice(this.consumed, end)));
    } else {
      this.tree.text(this.input.slice(start, end));
    }
    this.consumed = Math.max(this.consumed, end);
  }

  ontextentity(codepoint: number): void {
    this.settle();
    this.tree.text(String.fromCodePoint(codepoint));
    // The tokenizer resumes text right after the reference: its current section start.
    this.consumed = this.tokenizer.getSectionStart();
  }

  onopentagname(start: number, end: number): void {
    this.settle();
    this.tagName = this.name(start, end);
    this.attrs = new Map();
  }

  onattribname(start: number, end: number): void {
    this.attrName = this.name(start, end);
    this.attrValue = "";
  }

  onattribdata(start: number, end: number): void {
    this.attrValue += this.input.slice(start, end);
  }

  onattribentity(codepoint: number): void {
    this.attrValue += String.fromCodePoint(codepoint);
  }

  onattribend(): void {
    // The first of repeated attributes wins, as in HTML. A Map, so no name is an object key.
    if (!this.attrs.has(this.attrName)) this.attrs.set(this.attrName, this.attrValue);
    this.attrValue = "";
  }

  onopentagend(end: number): void {
    this.tree.open(this.tagName, this.attrs, false);
    this.consumed = end + 1;
  }

  onselfclosingtag(end: number): void {
    this.tree.open(this.tagName, this.attrs, true);
    this.consumed = end + 1;
  }

  onclosetag(start: number, end: number): void {
    this.settle();
    this.pendingClose = { name: this.name(start, end), nameEnd: end };
  }

  oncdata(start: number, end: number, endOffset: number): void {
    this.settle();
    if (end >= this.input.length) return; // never closed: text at the end
    this.tree.text(this.input.slice(start, end - endOffset));
    this.consumed = end + 1;
  }

  oncomment(_start: number, end: number): void {
    this.settle();
    if (end >= this.input.length) return; // never closed: text at the end
    this.consumed = end + 1;
  }

  ondeclaration(_start: number, end: number): void {
    this.settle();
    this.consumed = end + 1;
  }

  onprocessinginstruction(_start: number, end: number): void {
    this.settle();
    this.consumed = end + 1;
  }

  onend(): void {
    this.settle();
    if (this.consumed < this.input.length) this.tree.text(decodeEntities(this.input.slice(this.consumed)));
    this.consumed = this.input.length;
  }
}

/** Parses `input` into a tree under a synthetic `#root` element. Never throws. */
export function parseHtml(input: string, options: ParseOptions = {}): HtmlElement {
  const builder = new TreeBuilder(Math.max(1, options.maxDepth ?? 50), options.dropWithContent ?? new Set());
  try {
    new TokenSink(input, builder).run();
    return builder.root;
  } catch {
    // Not expected from the library; if it ever happens the whole input is shown as text.
    return { type: "element", name: "#root", attrs: new Map(), children: [{ type: "text", text: input }] };
  }
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
