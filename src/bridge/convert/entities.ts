// SPDX-License-Identifier: Apache-2.0
/**
 * Character-level helpers shared by both converters: entity decoding, HTML/XML escaping and
 * removal of characters that neither Matrix JSON consumers nor XML 1.0 (Skype RichText) accept.
 */

/** HTML's Latin-1 entity names, in code point order from U+00A0 to U+00FF. */
const LATIN1_NAMES =
  "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 " +
  "acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml " +
  "Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde " +
  "Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig " +
  "ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide " +
  "oslash ugrave uacute ucirc uuml yacute thorn yuml";

/**
 * Named entities we decode: the five XML ones (all Skype RichText normally uses), HTML's Latin-1
 * set and the punctuation people actually meet in chat text. Unknown names are left untouched.
 */
const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ...LATIN1_NAMES.split(" ").map((name, i): [string, string] => [name, String.fromCharCode(0xa0 + i)]),
  ["amp", "&"],
  ["lt", "<"],
  ["gt", ">"],
  ["quot", '"'],
  ["apos", "'"],
  ["ensp", "\u2002"],
  ["emsp", "\u2003"],
  ["thinsp", "\u2009"],
  ["zwnj", "\u200c"],
  ["zwj", "\u200d"],
  ["trade", "\u2122"],
  ["hellip", "\u2026"],
  ["mdash", "\u2014"],
  ["ndash", "\u2013"],
  ["lsquo", "\u2018"],
  ["rsquo", "\u2019"],
  ["sbquo", "\u201a"],
  ["ldquo", "\u201c"],
  ["rdquo", "\u201d"],
  ["bdquo", "\u201e"],
  ["bull", "\u2022"],
  ["euro", "\u20ac"],
  ["larr", "\u2190"],
  ["rarr", "\u2192"],
  ["uarr", "\u2191"],
  ["darr", "\u2193"],
  ["hearts", "\u2665"],
]);

const ENTITY = /&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]{1,31});/g;

function decodeNumeric(ref: string): string {
  const hex = ref[1] === "x" || ref[1] === "X";
  const cp = hex ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
  if (!Number.isFinite(cp) || cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return "\ufffd";
  }
  return String.fromCodePoint(cp);
}

/**
 * Decodes character references: the named entities above and decimal/hex numeric references.
 * Invalid numeric references (0, surrogates, beyond U+10FFFF) become U+FFFD; unknown names and
 * references without the closing `;` are kept as written. Never throws.
 */
export function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (whole, ref: string) => {
    if (ref.startsWith("#")) return decodeNumeric(ref);
    return NAMED_ENTITIES.get(ref) ?? NAMED_ENTITIES.get(ref.toLowerCase()) ?? whole;
  });
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes `& < > " '` for use in HTML text or a quoted attribute value (Matrix `formatted_body`). */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const XML_TEXT_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Escapes character data for Skype RichText (`& < >`); quotes stay as they are in text. */
export function xmlEscapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => XML_TEXT_ESCAPES[c] ?? c);
}

const XML_ATTR_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes a value for a double-quoted attribute in Skype RichText. */
export function xmlEscapeAttr(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ATTR_ESCAPES[c] ?? c);
}

// C0 controls except TAB and LF, DEL, and lone UTF-16 surrogates: invalid in XML 1.0 and useless in chat.
const BAD_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Normalises line endings to `\n`, drops control characters (keeping TAB and LF) and replaces lone
 * surrogates with U+FFFD, so the text is valid both in Matrix events and in XML.
 */
export function cleanText(text: string): string {
  const unified = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  return unified.replace(BAD_CHARS, (c) => (c.length === 1 && c.charCodeAt(0) >= 0xd800 ? "\ufffd" : ""));
}
