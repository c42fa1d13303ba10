// SPDX-License-Identifier: Apache-2.0
/**
 * Skype message bodies → Matrix `m.room.message` content.
 *
 * Spec: PROFILE.md §3 "Rich text" (`Message-Type: RichText`, Skype's HTML subset `<b> <i> <s> <pre>
 * <a href> <at id> <ss type> <quote>`, XML-escaped; `Text` bodies are not escaped) and REFERENCE.md
 * §7.3. The HTML is rebuilt from a parsed tree using a fixed whitelist, never passed through, so
 * nothing from the sender reaches `formatted_body` except escaped text and checked URLs.
 */
import { cleanText } from "./clean-text.js";
import { emoticonText } from "./emoticons.js";
import { escapeHtml } from "./escape.js";
import { type HtmlElement, parseHtml, textContent } from "./html-parser.js";
import { safeHref, userPillHref } from "./links.js";
import { MatrixWriter } from "./matrix-writer.js";

/** A Skype message as the protocol client delivers it (emote offset already removed from `body`). */
export interface SkypeMessageInput {
  /** `text` = `Message-Type: Text` (body not escaped); `richtext` = `RichText` (XML subset). */
  type: "text" | "richtext";
  body: string;
  /** True for `/me` messages (`Skype-EmoteOffset` present). */
  emote?: boolean;
}

/** Who a Skype identity is on Matrix, for mention pills. */
export interface MentionTarget {
  /** The ghost's MXID, or the real Matrix user's MXID when the mention is of the bridged user. */
  mxid: string;
  displayName: string;
}

/** Options for {@link skypeToMatrix}. */
export interface SkypeToMatrixOptions {
  /** Maps a Skype MRI (`8:live:bob`) to a Matrix user; `undefined` leaves the mention as text. */
  mentionResolver?: (mri: string) => MentionTarget | undefined;
  /**
   * The `messageid` of the quote that became the event's reply relation (`m.in_reply_to`): that
   * quote is left out of the body (the current spec needs no reply fallback); other quotes stay
   * as blockquotes.
   */
  replyQuoteMessageId?: string;
}

/** Matrix message content produced from a Skype message. */
export interface MatrixTextContent {
  msgtype: "m.text" | "m.emote";
  /** Plain text, no Markdown. */
  body: string;
  format?: "org.matrix.custom.html";
  formatted_body?: string;
  /** Intentional mentions (MSC3952): always present, `{}` when nobody is mentioned. */
  "m.mentions": { user_ids?: string[] };
}

/** Skype elements removed with their content: old-client quote fallback text and edit markers. */
const SKYPE_DROP = new Set(["legacyquote", "e_m", "head", "object", "template"]);

/** Skype formatting element → Matrix tag (synonyms accepted to be liberal). */
const INLINE_TAGS: ReadonlyMap<string, string> = new Map([
  ["b", "strong"],
  ["strong", "strong"],
  ["i", "em"],
  ["em", "em"],
  ["s", "del"],
  ["strike", "del"],
  ["del", "del"],
]);

function callResolver(opts: SkypeToMatrixOptions, mri: string): MentionTarget | undefined {
  if (opts.mentionResolver === undefined || mri === "") return undefined;
  try {
    const r = opts.mentionResolver(mri);
    if (r && typeof r.mxid === "string" && r.mxid !== "" && typeof r.displayName === "string") return r;
  } catch {
    // A failing lookup must not lose the message: the mention stays as text.
  }
  return undefined;
}

class SkypeRenderer {
  /** Whether the reply's quote was already left out (only its first occurrence is). */
  private replyQuoteDropped = false;

  constructor(private readonly opts: SkypeToMatrixOptions) {}

  children(el: HtmlElement, w: MatrixWriter): void {
    for (const child of el.children) {
      if (child.type === "text") w.text(child.text);
      else this.element(child, w);
    }
  }

  private element(el: HtmlElement, w: MatrixWriter): void {
    const tag = INLINE_TAGS.get(el.name);
    if (tag !== undefined) {
      w.tag(`<${tag}>`);
      this.children(el, w);
      w.tag(`</${tag}>`);
      return;
    }
    switch (el.name) {
      case "br":
        return w.text("\n");
      case "pre":
      case "code":
        return this.pre(el, w);
      case "a":
        return this.link(el, w);
      case "at":
        return this.mention(el, w);
      case "ss":
        return w.text(emoticonText(el.attrs.get("type") ?? "", textContent(el)));
      case "quote":
        return this.quote(el, w);
      default:
        // Not part of Skype's subset: keep the text, drop the tag.
        return this.children(el, w);
    }
  }

  /** Multi-line → `<pre><code>` block, single line → inline `<code>`. Inner markup becomes text. */
  private pre(el: HtmlElement, w: MatrixWriter): void {
    const content = textContent(el).replace(/^\n/, "");
    if (content === "") return;
    if (!content.includes("\n")) {
      w.tag("<code>");
      w.text(content, true);
      w.tag("</code>");
      return;
    }
    w.blockStart();
    w.tag("<pre><code>");
    w.text(content.replace(/\n$/, ""), true);
    w.tag("</code></pre>");
    w.blockEnd();
  }

  /** Links survive only with http/https/mailto; the plain body shows the URL after the label. */
  private link(el: HtmlElement, w: MatrixWriter): void {
    const href = safeHref(el.attrs.get("href"));
    if (href === undefined) return this.children(el, w);
    const label = textContent(el);
    w.tag(`<a href="${escapeHtml(href)}">`);
    if (label.trim() === "") w.text(href);
    else this.children(el, w);
    w.tag("</a>");
    const bare = href.replace(/^mailto:/i, "");
    if (label.trim() !== "" && label !== href && label !== bare) w.plainOnly(` (${href})`);
  }

  /** `<at id="8:…">Name</at>` → a pill when the MRI maps to a Matrix user, else the name as text. */
  private mention(el: HtmlElement, w: MatrixWriter): void {
    const mri = (el.attrs.get("id") ?? "").trim();
    const label = textContent(el);
    const target = callResolver(this.opts, mri);
    if (target === undefined) {
      w.text(label !== "" ? label : mri);
      return;
    }
    w.tag(`<a href="${escapeHtml(userPillHref(target.mxid))}">`);
    w.text(target.displayName !== "" ? target.displayName : label);
    w.tag("</a>");
    w.mentions.add(target.mxid);
  }

  /** `<quote authorname=… author=…>` → `<blockquote>` led by the author's name. */
  private quote(el: HtmlElement, w: MatrixWriter): void {
    const replyTo = this.opts.replyQuoteMessageId;
    if (replyTo !== undefined && !this.replyQuoteDropped && el.attrs.get("messageid")?.trim() === replyTo) {
      this.replyQuoteDropped = true;
      return;
    }
    const sub = new MatrixWriter();
    this.children(el, sub);
    const author = (el.attrs.get("author") ?? "").trim();
    const name = cleanText(
      (el.attrs.get("authorname") ?? "").trim() || callResolver(this.opts, author)?.displayName || author,
    );
    const header =
      name === ""
        ? undefined
        : { html: `<strong>${escapeHtml(name)}</strong> wrote:`, plain: `${name} wrote:` };
    w.quote(sub, header);
  }
}

function finish(w: MatrixWriter, emote: boolean): MatrixTextContent {
  const body = w.plain;
  const content: MatrixTextContent = {
    msgtype: emote ? "m.emote" : "m.text",
    body,
    "m.mentions": w.mentions.size > 0 ? { user_ids: [...w.mentions] } : {},
  };
  // A plain body starting with "> " could be taken for a reply fallback by Element; the HTML
  // rendering avoids that, so it is sent even without formatting (matrix-conventions §4.3).
  if (w.formatted || body.startsWith("> ")) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = w.html;
  }
  return content;
}

/**
 * Converts a Skype message body to Matrix content. RichText becomes whitelisted HTML
 * (`strong em del code pre a blockquote br`), mentions become pills, emoticons emoji; a plain `body`
 * is always present and `formatted_body` only when it adds something. Never throws, whatever the
 * input (malformed markup, scripts, 1 MB bodies).
 */
export function skypeToMatrix(msg: SkypeMessageInput, opts: SkypeToMatrixOptions = {}): MatrixTextContent {
  const m: Partial<SkypeMessageInput> = msg !== null && typeof msg === "object" ? msg : {};
  const raw = typeof m.body === "string" ? cleanText(m.body) : "";
  const emote = m.emote === true;
  const w = new MatrixWriter();
  if (m.type === "richtext") {
    // Depth 40 leaves room for the tags the renderer adds under Element's nesting limit of 50.
    const tree = parseHtml(raw, { maxDepth: 40, dropWithContent: SKYPE_DROP });
    new SkypeRenderer(opts).children(tree, w);
  } else {
    w.text(raw);
  }
  return finish(w, emote);
}
