// SPDX-License-Identifier: Apache-2.0
/**
 * A small, tolerant tokenizer for the HTML found in Matrix `formatted_body` and for Skype's
 * RichText XML subset. It never throws and runs in linear time: anything that is not well-formed
 * markup is returned as text (and later escaped), so hostile input can only ever become text.
 *
 * Deliberately not a full HTML5 tokenizer: no character-set sniffing, no foreign content, and
 * "raw text" elements (script, style, …) are skipped whole because nothing in them is ever shown.
 */
import { decodeEntities } from "./entities.js";

/** One token. Tag and attribute names are lower-cased; text and attribute values are entity-decoded. */
export type HtmlToken =
  | { kind: "text"; text: string }
  | { kind: "open"; name: string; attrs: ReadonlyMap<string, string>; selfClosing: boolean }
  | { kind: "close"; name: string };

/** Elements whose content is not markup; the tokenizer skips their content entirely. */
const RAW_TEXT = new Set(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"]);

const WS = new Set([" ", "\t", "\n", "\r", "\f"]);

type Scan = { token: HtmlToken | null; end: number } | "text" | "eof";

function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i] ?? "")) i++;
  return i;
}

/** Reads a run of characters up to (not including) one of the stop characters or whitespace. */
function readName(s: string, i: number, stops: string): number {
  while (i < s.length) {
    const c = s[i] ?? "";
    if (WS.has(c) || stops.includes(c)) break;
    i++;
  }
  return i;
}

/** Parses one attribute value starting at `i` (just after `=` and whitespace). */
function readValue(s: string, i: number): { value: string; end: number } | "eof" {
  const q = s[i];
  if (q === '"' || q === "'") {
    const close = s.indexOf(q, i + 1);
    if (close < 0) return "eof";
    return { value: decodeEntities(s.slice(i + 1, close)), end: close + 1 };
  }
  const end = readName(s, i, ">");
  return { value: decodeEntities(s.slice(i, end)), end };
}

/** Parses a start tag whose `<` is at `lt` and whose name starts at `lt + 1`. */
function scanStartTag(s: string, lt: number): Scan {
  const nameEnd = readName(s, lt + 1, "/>");
  const name = s.slice(lt + 1, nameEnd).toLowerCase();
  const attrs = new Map<string, string>();
  let i = nameEnd;
  let selfClosing = false;
  for (;;) {
    i = skipWs(s, i);
    if (i >= s.length) return "eof";
    const c = s[i];
    if (c === ">") return { token: { kind: "open", name, attrs, selfClosing }, end: i + 1 };
    if (c === "/") {
      selfClosing = s[i + 1] === ">";
      i++;
      continue;
    }
    selfClosing = false;
    const attrEnd = Math.max(readName(s, i + 1, "=>/"), i + 1);
    const attrName = s.slice(i, attrEnd).toLowerCase();
    i = skipWs(s, attrEnd);
    let value = "";
    if (s[i] === "=") {
      const v = readValue(s, skipWs(s, i + 1));
      if (v === "eof") return "eof";
      value = v.value;
      i = v.end;
    }
    if (!attrs.has(attrName)) attrs.set(attrName, value);
  }
}

function scanEndTag(s: string, lt: number): Scan {
  const nameEnd = readName(s, lt + 2, "/>");
  const gt = s.indexOf(">", nameEnd);
  if (gt < 0) return "eof";
  return { token: { kind: "close", name: s.slice(lt + 2, nameEnd).toLowerCase() }, end: gt + 1 };
}

/** Comments, CDATA, doctype and processing instructions. */
function scanSpecial(s: string, lt: number): Scan {
  if (s.startsWith("<!--", lt)) {
    const close = s.indexOf("-->", lt + 4);
    return close < 0 ? "eof" : { token: null, end: close + 3 };
  }
  if (s.startsWith("<![CDATA[", lt)) {
    const close = s.indexOf("]]>", lt + 9);
    if (close < 0) return "eof";
    return { token: { kind: "text", text: s.slice(lt + 9, close) }, end: close + 3 };
  }
  const gt = s.indexOf(">", lt + 2);
  return gt < 0 ? "eof" : { token: null, end: gt + 1 };
}

function scanMarkup(s: string, lt: number): Scan {
  const next = s[lt + 1];
  if (isAsciiLetter(next)) return scanStartTag(s, lt);
  if (next === "/" && isAsciiLetter(s[lt + 2])) return scanEndTag(s, lt);
  if (next === "!" || next === "?") return scanSpecial(s, lt);
  return "text";
}

/** Returns the index just past the end tag that closes raw-text element `name`, or `s.length`. */
function skipRawText(s: string, from: number, name: string): number {
  const re = new RegExp(`</${name}(?=[\\s/>]|$)`, "gi");
  re.lastIndex = from;
  const m = re.exec(s);
  if (!m) return s.length;
  const gt = s.indexOf(">", m.index);
  return gt < 0 ? s.length : gt + 1;
}

/**
 * Splits `input` into tokens. Unterminated markup at the end of the input (a tag, comment or quoted
 * attribute that never closes) turns the rest of the input into text, which keeps the work linear.
 * Raw-text elements yield their open and close tokens with nothing in between.
 */
export function tokenizeHtml(input: string): HtmlToken[] {
  const out: HtmlToken[] = [];
  const pushText = (raw: string, decode: boolean): void => {
    if (raw === "") return;
    const text = decode ? decodeEntities(raw) : raw;
    const last = out[out.length - 1];
    if (last?.kind === "text") last.text += text;
    else out.push({ kind: "text", text });
  };
  let i = 0;
  while (i < input.length) {
    const lt = input.indexOf("<", i);
    if (lt < 0) break;
    const scan = scanMarkup(input, lt);
    if (scan === "text") {
      pushText(input.slice(i, lt + 1), true);
      i = lt + 1;
      continue;
    }
    pushText(input.slice(i, lt), true);
    if (scan === "eof") {
      pushText(input.slice(lt), true);
      return out;
    }
    i = scan.end;
    const tok = scan.token;
    if (tok === null) continue;
    if (tok.kind === "text") pushText(tok.text, false);
    else out.push(tok);
    if (tok.kind === "open" && !tok.selfClosing && RAW_TEXT.has(tok.name)) {
      i = skipRawText(input, i, tok.name);
      out.push({ kind: "close", name: tok.name });
    }
  }
  pushText(input.slice(i), true);
  return out;
}
