// SPDX-License-Identifier: Apache-2.0
/**
 * Scraping the Microsoft sign-in pages (PROFILE §2.1, password flow): the hidden PPFT input, the
 * form's action, the wrong-password message (`sErrTxt:'…'`) and the second-factor marker.
 * Deliberately tolerant: attributes in any order and quoting, the input also inside a JS string.
 */

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Decodes HTML character references (`&amp;`, `&#39;`, `&#x2F;`, a few named ones). */
export function htmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]{2,6});/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** Decodes the escapes of a JavaScript string literal (`\'`, `\\`, `\x3c`, `\u00e9`, `\n`). */
export function jsUnescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_m, e: string) => {
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e === "n") return "\n";
    if (e === "r") return "\r";
    if (e === "t") return "\t";
    return e;
  });
}

/** Parses the attributes of one tag (`name="v"`, `name='v'`, `name=v`, bare `name`). */
export function parseAttributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  const inner = tag.replace(/^<\s*[^\s>/]+/, "").replace(/\/?>$/, "");
  for (const m of inner.matchAll(re)) {
    const name = m[1]!.toLowerCase();
    if (!attrs.has(name)) attrs.set(name, htmlUnescape(m[2] ?? m[3] ?? m[4] ?? ""));
  }
  return attrs;
}

/** The value of the hidden input named `name` (PPFT), or undefined. */
export function findHiddenInput(html: string, name: string): string | undefined {
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    // Inside a JS string the tag's own quotes may be escaped (\"): undo that first.
    const attrs = parseAttributes(m[0].replace(/\\(["'])/g, "$1"));
    if (attrs.get("name") === name && attrs.has("value")) return attrs.get("value");
  }
  return undefined;
}

/**
 * The sign-in form's action, HTML-unescaped: the first `<form>` whose action mentions `post.srf`,
 * else the first form with an action, else a JS `urlPost:'…'`.
 */
export function findFormAction(html: string): string | undefined {
  let first: string | undefined;
  for (const m of html.matchAll(/<form\b[^>]*>/gi)) {
    const action = parseAttributes(m[0]).get("action");
    if (!action) continue;
    if (action.includes("post.srf")) return action;
    first ??= action;
  }
  if (first) return first;
  const js = /urlPost\s*:\s*'((?:[^'\\]|\\.)*)'/.exec(html) ?? /urlPost\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(html);
  return js ? htmlUnescape(jsUnescape(js[1]!)) : undefined;
}

/**
 * The wrong-credentials message of `sErrTxt:'<message>'` as plain text (JS escapes undone, tags removed),
 * or undefined when the page has none or an empty one.
 */
export function findErrorText(html: string): string | undefined {
  const m = /sErrTxt\s*:\s*'((?:[^'\\]|\\.)*)'/.exec(html) ?? /sErrTxt\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(html);
  if (!m) return undefined;
  const text = htmlUnescape(jsUnescape(m[1]!).replace(/<[^>]*>/g, ""))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (!text) return undefined;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** True when the page asks for a second factor (`id="idDiv_SAOTCC_Title"`). */
export function isSecondFactorPage(html: string): boolean {
  return /\bidDiv_SAOTCC_Title\b/.test(html);
}
