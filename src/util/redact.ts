// SPDX-License-Identifier: Apache-2.0
/**
 * Secret masking for everything the process logs: structured values by key at any depth (objects,
 * arrays, errors) and free text (query strings, HTTP and MSNP headers, JSON or `util.inspect`
 * output, XML and HTML fragments, cookies). One rule decides whether a key names a secret, for
 * structured fields and for text alike: keys are compared as whole words, so `t=` (the MSA ticket)
 * is masked while `count=` and `format=` are not.
 */

export const REDACTED = "[redacted]";

/** A key holding any of these words names a secret (`refreshToken`, `X-Skypetoken`, `set-cookie`). */
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "pwd",
  "pass",
  "passphrase",
  "secret",
  "token",
  "cookie",
  "authorization",
  "authentication",
  "credential",
  "credentials",
  "ticket",
  "uic",
  "ppft",
  "registration",
  "signature",
  "bearer",
  "apikey",
  // MSA sign-in cookies.
  "mspok",
  "mspauth",
  "mspprof",
  "msprequ",
]);

/** Run-together words ending like this are secrets too (`skypetoken`, `usertoken`, `rpstoken`). */
const SECRET_SUFFIXES = ["token", "password", "passwd", "secret", "cookie", "ticket"];

/** Word pairs whose last word alone is harmless (`cacheKey`, `syncKey`) but whose pair is not. */
const SECRET_PAIRS = new Set([
  "token_key",
  "api_key",
  "private_key",
  "secret_key",
  "access_key",
  "signing_key",
  // WS-Trust: the encrypted token in `<CipherValue>`.
  "cipher_value",
]);

/** Keys that are secrets only as a whole key in `key=value` text: the MSA ticket (`t=EwA…&p=`). */
const SHORT_SECRET_KEYS = new Set(["t"]);

/** `refreshToken`, `X-Skypetoken`, `RPSToken`, `access_token` → lower-case words. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

function isSecretWord(word: string): boolean {
  const singular = word.length > 3 && word.endsWith("s") ? word.slice(0, -1) : word;
  return (
    SECRET_WORDS.has(word) ||
    SECRET_WORDS.has(singular) ||
    SECRET_SUFFIXES.some((s) => word.endsWith(s) || singular.endsWith(s))
  );
}

/**
 * Whether a field, header, parameter or element name names a secret. `short` also accepts the
 * one-letter `t` (only meaningful in `t=…` query and form text).
 */
export function isSecretKey(key: string, opts: { short?: boolean } = {}): boolean {
  if (opts.short && SHORT_SECRET_KEYS.has(key.toLowerCase())) return true;
  const words = keyWords(key);
  if (words.length === 0) return false;
  if (words.some(isSecretWord)) return true;
  if (isSecretWord(words.join(""))) return true;
  return words.length >= 2 && SECRET_PAIRS.has(`${words.at(-2)}_${words.at(-1)}`);
}

// ---------------------------------------------------------------------------------------------
// Free text

/** Authorization schemes kept visible in front of the masked credential. */
const AUTH_SCHEME = /^(?:Bearer|Basic|Digest|Negotiate|RPSToken|MSAuth[\d.]*|skypetoken)[ \t]+/i;
/** A header's credential: one word, quoted parts included (`usertoken="…"` of `MSAuth1.0`). */
const CREDENTIAL = /^(?:[^\s"'<>,;{}[\]]|"[^"\r\n]*"|'[^'\r\n]*')+/;
/** A `Cookie`/`Set-Cookie` value: `a=1; b=2; Path=/; HttpOnly`. */
const COOKIE_LIST = /^[^\s;]+(?:;[ \t]*[^\s;]+)*;?/;
/** A credential after a scheme anywhere in text (`Bearer eyJ…`, `RPSToken t=…`). */
const SCHEME_CREDENTIAL = /\b(Bearer|RPSToken)[ \t]+(?!\[redacted\])[^\s"'<>,;]{6,}/gi;
/** `name: …`, `"name": …`, `name=…` — the value is looked at only when the name is a secret. */
const KEY_AND_SEPARATOR = /(?<![\w.-])(["']?)([A-Za-z][\w.-]*)\1([ \t]*[:=][ \t]*)/g;
/** An upper-case error code (`SKYPE_BAD_CREDENTIALS`, `STORE_NO_KEY`). */
const ERROR_CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
/** An XML element whose text is a secret: `<uic>…`, `<ssl-compact-ticket>…`, `<wsse:BinarySecurityToken …>…`. */
const XML_ELEMENT = /<((?:[\w-]+:)?([\w-]+))(\s[^<>]*)?>([^<]+)/g;
/** An HTML form field with a secret name: `<input name="PPFT" value="…">`. */
const HTML_FIELD = /(\bname=(["'])([\w.-]+)\2[^<>]{0,200}?\bvalue=)(["'])[^"']*\4/gi;
/** A JSON web token (Skype tokens are JWTs) wherever it appears. */
const JWT = /\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g;
/** The password of `scheme://user:password@host`. */
const URL_USERINFO = /(\b[a-z][\w+.-]*:\/\/[^\s/:@]+:)[^\s/@]+@/gi;

/** Masks secrets in free text (query strings, headers, JSON or inspect output, XML, cookies). */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  let out = text
    .replace(JWT, REDACTED)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(SCHEME_CREDENTIAL, `$1 ${REDACTED}`)
    .replace(HTML_FIELD, `$1$4${REDACTED}$4`)
    .replace(XML_ELEMENT, (m: string, tag: string, local: string, attrs: string | undefined) =>
      isSecretKey(local) && !attrs?.endsWith("/") ? `<${tag}${attrs ?? ""}>${REDACTED}` : m,
    );
  out = redactPairs(out);
  return out;
}

/** Masks the values of secret `key: value` / `key=value` pairs, leaving every other pair as is. */
function redactPairs(text: string): string {
  let out = "";
  let copied = 0;
  const re = new RegExp(KEY_AND_SEPARATOR.source, "g");
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const [whole, quote = "", key = "", sep = ""] = m;
    const isEquals = sep.includes("=");
    // `SKYPE_BAD_CREDENTIALS: invalid_grant` is an error code and its message, not a header.
    if (!isEquals && quote === "" && ERROR_CODE.test(key)) continue;
    if (!isSecretKey(key, { short: isEquals && quote === "" })) continue;
    const start = m.index + whole.length;
    const span = valueSpan(text, start, key, isEquals);
    if (span.end <= span.start) continue;
    // A JSON array or object value becomes a JSON string, so the text stays valid JSON.
    const bracketed = text[span.start] === "{" || text[span.start] === "[";
    out += text.slice(copied, span.start) + (bracketed ? `"${REDACTED}"` : REDACTED);
    copied = span.end;
    re.lastIndex = span.end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Where the value starting at `start` lies (quotes and an auth scheme stay outside it). */
function valueSpan(
  text: string,
  start: number,
  key: string,
  isEquals: boolean,
): { start: number; end: number } {
  if (text.startsWith(REDACTED, start)) return { start, end: start }; // masked already
  const first = text[start];
  if (first === '"' || first === "'") {
    return { start: start + 1, end: closingQuote(text, start + 1, first) };
  }
  if (first === "{" || first === "[") return { start, end: closingBracket(text, start) };
  if (isEquals) {
    const m = /^[^&\s"'<>;,]*/.exec(text.slice(start));
    return { start, end: start + (m?.[0].length ?? 0) };
  }
  // A header (`Name: value`): a cookie list, or one credential after an optional auth scheme.
  const rest = text.slice(start);
  if (/cookie/i.test(key)) return { start, end: start + (COOKIE_LIST.exec(rest)?.[0].length ?? 0) };
  const schemeLength = AUTH_SCHEME.exec(rest)?.[0].length ?? 0;
  const credential = CREDENTIAL.exec(rest.slice(schemeLength))?.[0].length ?? 0;
  return { start: start + schemeLength, end: start + schemeLength + credential };
}

function closingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === quote) return i;
    else if (c === "\n") return i;
  }
  return text.length;
}

function closingBracket(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") i = closingQuote(text, i + 1, c);
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

// ---------------------------------------------------------------------------------------------
// Structured values

const MAX_DEPTH = 8;

/** `Name CODE: message` of an error, secrets masked (no stack: stacks can echo arguments). */
export function errorSummary(e: Error): string {
  const code = (e as { code?: unknown }).code;
  return `${redactText(e.name)}${typeof code === "string" ? ` ${redactText(code)}` : ""}: ${redactText(e.message)}`;
}

/**
 * A copy of `value` safe to log and to serialise: secret keys masked at any depth (in objects,
 * arrays, Maps), strings scrubbed with {@link redactText}, errors reduced to their summary, and
 * cycles, bigints, buffers and functions turned into JSON-friendly text.
 */
export function redactValue(value: unknown): unknown {
  return redactAt(value, 0, new WeakSet());
}

/** Returns a copy of a log context with secret keys masked (at any depth) and strings scrubbed. */
export function redactContext(context: Record<string, unknown>): Record<string, unknown> {
  return redactEntries(Object.entries(context), 0, new WeakSet([context]));
}

function redactEntries(
  entries: Iterable<[string, unknown]>,
  depth: number,
  seen: WeakSet<object>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    out[key] = isSecretKey(key) && !harmless(value) ? REDACTED : redactAt(value, depth + 1, seen);
  }
  return out;
}

/** Values that cannot carry a secret, kept under secret-looking keys (`hasToken: true`). */
function harmless(value: unknown): boolean {
  return value === null || value === undefined || typeof value === "boolean";
}

function redactAt(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case "string":
      return redactText(value);
    case "number":
    case "boolean":
    case "undefined":
      return value;
    case "bigint":
      return value.toString();
    case "symbol":
      return value.toString();
    case "function":
      return "[function]";
    case "object":
      break;
  }
  if (value === null) return null;
  const obj: object = value;
  if (obj instanceof Error) return errorSummary(obj);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (obj instanceof URL) return redactText(obj.href);
  if (obj instanceof RegExp) return obj.toString();
  if (ArrayBuffer.isView(obj)) return `[${obj.byteLength} bytes]`;
  if (obj instanceof ArrayBuffer) return `[${obj.byteLength} bytes]`;
  if (seen.has(obj)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[…]";
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v: unknown) => redactAt(v, depth + 1, seen));
    if (obj instanceof Set) return [...obj].map((v: unknown) => redactAt(v, depth + 1, seen));
    if (obj instanceof Map) {
      const entries = [...(obj as Map<unknown, unknown>)].map(([k, v]): [string, unknown] => [String(k), v]);
      return redactEntries(entries, depth, seen);
    }
    return redactEntries(Object.entries(obj), depth, seen);
  } finally {
    seen.delete(obj);
  }
}
