// SPDX-License-Identifier: Apache-2.0
/**
 * Quotes (replies) in `RichText` bodies, PROFILE §7.4 (REFERENCE §16):
 * `<quote author="{mri}" authorname="{name}" timestamp="{unix s}" conversation="{id}" messageid="{Message-ID}">`
 * `<legacyquote>[{time}] {name}: </legacyquote>{quoted rich text}<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>{reply}`.
 *
 * Reading goes through the one XML reader (xml.ts: size, characters, no DOCTYPE, depth, well-formed).
 * A body that is not well-formed XML (say an HTML `<br>` from a liberal client) yields no quotes: the
 * caller then shows the body as it is, quote markup included, which is the §7.4 fallback for a quote
 * it cannot place. `legacyquote` content exists for old clients and is dropped.
 */
import { ProtocolParseError } from "../errors.js";
import { escapeXml, parseXml } from "../xml.js";
import { bareMri, isMessageId } from "./identity.js";

/** One quote found at the top level of a RichText body. Every attribute is optional on the wire. */
export interface SkypeQuote {
  /** `author`: the quoted message's sender (an MRI, `1:` or `8:`, without parameters). */
  author?: string;
  /** `authorname`: the sender's display name as the quoting client knew it. */
  authorName?: string;
  /** `timestamp`: when the quoted message was sent, in unix seconds. */
  timestamp?: number;
  /** `conversation`: the conversation id as the quoting client sees it (for a 1:1, the other party). */
  conversation?: string;
  /** `messageid`: the quoted message's server `Message-ID` (only when it is one: decimal digits). */
  messageId?: string;
  /** The quoted rich text (Skype's XML subset, still escaped), `legacyquote` parts removed. */
  richText: string;
}

/** A quote to write. */
export interface QuoteSpec {
  /** The quoted message's sender MRI. */
  author: string;
  authorName: string;
  /** When the quoted message was sent (ms since the epoch). */
  timestampMs: number;
  /** The conversation id as the writer sees it (the other party's MRI, or the thread id). */
  conversation: string;
  /** The quoted message's server `Message-ID`; left out when unknown. */
  messageId?: string;
  /** The quoted text as Skype rich text (already XML-escaped). */
  richText: string;
}

/** Wrapper element name for parsing a body (a body is a fragment: text and several elements). */
const WRAP = "skype-richtext";
const LEGACY = /<legacyquote\b[^>]*\/>|<legacyquote\b[^>]*>[\s\S]*?<\/legacyquote\s*>/gi;

function attr(attrs: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [k, v] of Object.entries(attrs)) {
    if (k.toLowerCase() === name) {
      const t = v.trim();
      return t === "" ? undefined : t;
    }
  }
  return undefined;
}

/**
 * The quotes at the top level of a RichText body, in order. Never throws: markup that is not
 * well-formed, or that the XML gate refuses, gives `[]`. Quotes nested in other elements (or in a
 * quote) are not replies and are left to the body's rendering.
 */
export function parseQuotes(body: string): SkypeQuote[] {
  if (typeof body !== "string" || !/<quote\b/i.test(body)) return [];
  let doc;
  try {
    doc = parseXml(`<${WRAP}>${body}</${WRAP}>`);
  } catch (e) {
    if (e instanceof ProtocolParseError) return [];
    throw e;
  }
  const root = doc.children[0];
  const out: SkypeQuote[] = [];
  for (const el of root?.children ?? []) {
    if (el.name.toLowerCase() !== "quote") continue;
    const q: SkypeQuote = { richText: el.raw.replace(LEGACY, "") };
    const author = attr(el.attrs, "author");
    if (author !== undefined && /^\d+:\S+$/.test(author)) q.author = bareMri(author);
    const name = attr(el.attrs, "authorname");
    if (name !== undefined) q.authorName = name;
    const ts = Number(attr(el.attrs, "timestamp"));
    if (Number.isSafeInteger(ts) && ts > 0) q.timestamp = ts;
    const conv = attr(el.attrs, "conversation");
    if (conv !== undefined) q.conversation = conv;
    const mid = attr(el.attrs, "messageid");
    if (isMessageId(mid)) q.messageId = mid;
    out.push(q);
  }
  return out;
}

/** `2026-12-04 23:45:20` (UTC) for the legacy text; old clients show it as written. */
function legacyTime(ms: number): string {
  const d = new Date(Number.isFinite(ms) ? ms : 0);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The §7.4 quote element for `spec`, to put before the reply's rich text. Every attribute value and
 * the legacy text are XML-escaped; `richText` goes in as given (it must already be Skype rich text).
 */
export function quoteXml(spec: QuoteSpec): string {
  const seconds = Math.max(0, Math.floor(spec.timestampMs / 1000));
  const attrs = [
    `author="${escapeXml(bareMri(spec.author))}"`,
    `authorname="${escapeXml(spec.authorName)}"`,
    `timestamp="${seconds}"`,
    `conversation="${escapeXml(spec.conversation)}"`,
  ];
  if (isMessageId(spec.messageId)) attrs.push(`messageid="${spec.messageId}"`);
  const head = `[${legacyTime(spec.timestampMs)}] ${spec.authorName}: `;
  return (
    `<quote ${attrs.join(" ")}><legacyquote>${escapeXml(head)}</legacyquote>${spec.richText}` +
    `<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>`
  );
}
