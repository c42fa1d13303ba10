// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix `m.room.message` content → a Skype message body.
 *
 * Output per PROFILE.md §3 "Rich text": `richtext` bodies use Skype's subset (`<b> <i> <s> <pre>
 * <a href> <at id> <quote>`) with text XML-escaped; when no formatting is left the result is a
 * plain `text` body, not escaped. Matrix conventions followed (matrix-conventions.md §4): edits
 * carry the new text in `m.new_content`; reply fallbacks (`> <@…>` lines, `<mx-reply>`) are removed.
 */
import { cleanText } from "./clean-text.js";
import { escapeHtml } from "./escape.js";
import { type HtmlElement, parseHtml, textContent } from "./html-parser.js";
import { matrixUserFromHref, safeHref } from "./links.js";
import { stripReplyFallback } from "./reply-fallback.js";
import { SkypeWriter } from "./skype-writer.js";

/** Matrix message content as found in an event (fields are checked, not trusted). */
export interface MatrixMessageContent {
  msgtype?: unknown;
  body?: unknown;
  format?: unknown;
  formatted_body?: unknown;
  "m.new_content"?: unknown;
  "m.relates_to"?: unknown;
  [key: string]: unknown;
}

/** Options for {@link matrixToSkype}. */
export interface MatrixToSkypeOptions {
  /** Maps a Matrix user (a ghost) to its Skype MRI; `undefined` = not a Skype user, pill stays text. */
  puppetResolver?: (mxid: string) => string | undefined;
}

/** A Skype message body ready for the protocol client. */
export interface SkypeMessageOutput {
  /** `text` → `Message-Type: Text` (body unescaped); `richtext` → `RichText` (body XML). */
  type: "text" | "richtext";
  body: string;
  /** True for `m.emote`: the client sends it as `/me` with `Skype-EmoteOffset`. */
  emote: boolean;
}

/** Removed with their content: reply fallbacks and things that are never message text. */
const MATRIX_DROP = new Set(["mx-reply", "head", "template", "object", "select"]);

const INLINE_TAGS: ReadonlyMap<string, string> = new Map([
  ["b", "b"],
  ["strong", "b"],
  ["i", "i"],
  ["em", "i"],
  ["cite", "i"],
  ["s", "s"],
  ["del", "s"],
  ["strike", "s"],
]);

/** Block elements and how many newlines separate them from their surroundings. */
const BLOCK_BREAKS: ReadonlyMap<string, number> = new Map([
  ["p", 2],
  ["div", 1],
  ["section", 1],
  ["article", 1],
  ["header", 1],
  ["footer", 1],
  ["details", 1],
  ["summary", 1],
  ["figure", 1],
  ["dl", 1],
  ["dt", 1],
  ["dd", 1],
  ["table", 1],
  ["tr", 1],
  ["caption", 1],
  ["address", 1],
]);

const HEADINGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);

function callResolver(opts: MatrixToSkypeOptions, mxid: string): string | undefined {
  if (opts.puppetResolver === undefined) return undefined;
  try {
    const mri = opts.puppetResolver(mxid);
    return typeof mri === "string" && mri.trim() !== "" ? mri.trim() : undefined;
  } catch {
    return undefined;
  }
}

class MatrixRenderer {
  private listDepth = 0;

  constructor(
    private readonly opts: MatrixToSkypeOptions,
    private readonly w: SkypeWriter,
  ) {}

  children(el: HtmlElement): void {
    for (const child of el.children) {
      if (child.type === "text") this.w.text(child.text);
      else this.element(child);
    }
  }

  private element(el: HtmlElement): void {
    const tag = INLINE_TAGS.get(el.name);
    if (tag !== undefined) return this.wrap(el, tag);
    const breaks = BLOCK_BREAKS.get(el.name);
    if (breaks !== undefined) return this.block(el, breaks);
    if (HEADINGS.has(el.name)) {
      this.w.lineBreak(2);
      this.wrap(el, "b");
      return this.w.lineBreak(2);
    }
    switch (el.name) {
      case "br":
        return this.w.hardBreak();
      case "code":
        return this.code(el, false);
      case "pre":
        return this.code(el, true);
      case "a":
        return this.link(el);
      case "blockquote":
        return this.quote(el);
      case "ul":
      case "ol":
        return this.list(el);
      case "hr":
        this.w.lineBreak(1);
        this.w.literal("----------");
        return this.w.lineBreak(1);
      case "img":
        return this.w.text(el.attrs.get("alt") ?? el.attrs.get("title") ?? "");
      case "td":
      case "th":
        return this.cell(el);
      default:
        return this.children(el);
    }
  }

  /** Inline formatting; an element with no visible text is not worth a tag. */
  private wrap(el: HtmlElement, tag: string): void {
    if (textContent(el).trim() === "") return this.children(el);
    this.w.open(`<${tag}>`);
    this.children(el);
    this.w.close(`</${tag}>`);
  }

  private block(el: HtmlElement, breaks: number): void {
    this.w.lineBreak(breaks);
    this.children(el);
    this.w.lineBreak(breaks);
  }

  /** `<code>` → inline `<pre>`; `<pre>` (usually `<pre><code>`) → a `<pre>` block on its own lines. */
  private code(el: HtmlElement, block: boolean): void {
    let content = textContent(el);
    if (block) content = content.replace(/^\n/, "").replace(/\n$/, "");
    if (content === "") return;
    if (block) this.w.lineBreak(1);
    this.w.open("<pre>", block);
    this.w.literal(content);
    this.w.close("</pre>", block);
    if (block) this.w.lineBreak(1);
  }

  /** Pills of Skype ghosts → `<at id>`; other user pills → their text; safe links → `<a href>`. */
  private link(el: HtmlElement): void {
    const href = el.attrs.get("href");
    const mxid = matrixUserFromHref(href);
    if (mxid !== undefined) {
      const mri = callResolver(this.opts, mxid);
      if (mri === undefined) return this.children(el);
      const label = textContent(el).trim();
      this.w.open(`<at id="${escapeHtml(mri)}">`);
      this.w.text(label !== "" ? label : mri);
      return this.w.close("</at>");
    }
    const url = safeHref(href);
    if (url === undefined) return this.children(el);
    this.w.open(`<a href="${escapeHtml(url)}">`);
    if (textContent(el).trim() === "") this.w.text(url);
    else this.children(el);
    this.w.close("</a>");
  }

  private quote(el: HtmlElement): void {
    if (textContent(el).trim() === "") return;
    this.w.lineBreak(1);
    this.w.open("<quote>", true);
    this.children(el);
    this.w.close("</quote>", true);
    this.w.lineBreak(1);
  }

  /** Lists become lines prefixed "• " or "1. ", nested lists indented by two spaces per level. */
  private list(el: HtmlElement): void {
    const ordered = el.name === "ol";
    const start = Number.parseInt(el.attrs.get("start") ?? "1", 10);
    let n = Number.isSafeInteger(start) && Math.abs(start) < 1e9 ? start : 1;
    const indent = "  ".repeat(this.listDepth);
    this.listDepth++;
    this.w.lineBreak(1);
    for (const child of el.children) {
      if (child.type === "text") {
        this.w.text(child.text);
        continue;
      }
      if (child.name !== "li") {
        this.element(child);
        continue;
      }
      this.w.lineBreak(1, true);
      this.w.literal(indent + (ordered ? `${n++}. ` : "• "));
      this.w.afterPrefix();
      this.children(child);
      this.w.lineBreak(1, true);
    }
    this.listDepth--;
    this.w.lineBreak(1);
  }

  private cell(el: HtmlElement): void {
    this.w.separator(" | ");
    this.children(el);
  }
}

/** Picks the content that carries the message: `m.new_content` for edits, else the event itself. */
function effectiveContent(content: MatrixMessageContent): { c: MatrixMessageContent; staleEdit: boolean } {
  const nc = content["m.new_content"];
  if (nc !== null && typeof nc === "object" && !Array.isArray(nc)) {
    return { c: nc as MatrixMessageContent, staleEdit: false };
  }
  const rel = content["m.relates_to"];
  const isEdit =
    rel !== null && typeof rel === "object" && (rel as Record<string, unknown>)["rel_type"] === "m.replace";
  return { c: content, staleEdit: isEdit };
}

function fromHtml(
  html: string,
  opts: MatrixToSkypeOptions,
): { type: "text" | "richtext"; body: string } | undefined {
  const w = new SkypeWriter();
  new MatrixRenderer(opts, w).children(parseHtml(html, { dropWithContent: MATRIX_DROP }));
  return w.empty ? undefined : w.result();
}

/**
 * Converts Matrix message content (`m.text`, `m.emote`, `m.notice`, edits via `m.new_content`)
 * to a Skype body. HTML is rebuilt into Skype's subset (unknown tags dropped, text kept);
 * plain bodies are sent as `text`. Reply fallbacks are removed. Never throws.
 */
export function matrixToSkype(
  content: MatrixMessageContent,
  opts: MatrixToSkypeOptions = {},
): SkypeMessageOutput {
  const safe: MatrixMessageContent = content !== null && typeof content === "object" ? content : {};
  const { c, staleEdit } = effectiveContent(safe);
  const msgtype = typeof c.msgtype === "string" ? c.msgtype : safe.msgtype;
  const emote = msgtype === "m.emote";
  // An edit without m.new_content only has the "* "-prefixed fallback; its plain body is the best we have.
  if (!staleEdit && c.format === "org.matrix.custom.html" && typeof c.formatted_body === "string") {
    const rich = fromHtml(cleanText(c.formatted_body), opts);
    if (rich !== undefined) return { ...rich, emote };
  }
  let body = stripReplyFallback(cleanText(typeof c.body === "string" ? c.body : ""));
  if (staleEdit) body = body.replace(/^\* /, "");
  return { type: "text", body, emote };
}
