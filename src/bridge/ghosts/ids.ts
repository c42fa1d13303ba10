// SPDX-License-Identifier: Apache-2.0
/**
 * Puppet ("ghost") Matrix ids. This is the ONLY module that formats or parses puppet MXIDs.
 *
 * A Skype identity (`8:live:alice_1`, `1:alice@hotmail.co.uk`, `8:Dave.Lister`, …) becomes a Matrix
 * localpart with a reversible escaping in the spirit of the Matrix spec's appendix ("mapping from
 * other character sets"):
 *
 * - `a-z 0-9 . - /` are kept as they are;
 * - `_` becomes `__`;
 * - an ASCII upper-case letter becomes `_` + its lower-case form (`D` → `_d`);
 * - every other character becomes `=xx` for each byte of its UTF-8 encoding (lower-case hex), so
 *   `:` → `=3a`, `@` → `=40`, `=` → `=3d`, `é` → `=c3=a9`.
 *
 * The output uses only `a-z 0-9 . _ = - /`, and the mapping is injective: parsing accepts only the
 * canonical escaping, so one Skype identity has exactly one MXID and vice versa. The mapping must
 * stay stable forever: existing ghosts and rooms depend on it.
 */
import type { Config } from "../../config/schema.js";
import {
  ID_PLACEHOLDER,
  NAME_PLACEHOLDER,
  displayNameTemplateProblem,
  isValidLocalpart,
  localpartTemplateProblem,
} from "../../config/templates.js";

export { ID_PLACEHOLDER, NAME_PLACEHOLDER, isValidLocalpart };

/** Longest user id the Matrix spec allows (`@localpart:domain`), in bytes. */
export const MAX_USER_ID_BYTES = 255;
/** Longest display name Synapse accepts, in characters. */
export const MAX_DISPLAY_NAME_LENGTH = 256;

/** Characters the escaping keeps unchanged. */
const KEPT_RE = /^[a-z0-9.\-/]$/;
/** Control characters and lone surrogates, which never belong in a display name. */
const DISPLAY_NAME_STRIP_RE = /[\p{Cc}\p{Cs}\u2028\u2029]+/gu;

/** A person key or template that cannot be turned into a puppet id. */
export class PuppetIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PuppetIdError";
  }
}

/**
 * Escapes a Skype identity into localpart characters (see the module comment).
 * @throws PuppetIdError for an empty string or one holding a lone UTF-16 surrogate (not encodable).
 */
export function escapeSkypeId(personKey: string): string {
  if (personKey.length === 0) throw new PuppetIdError("a Skype identity must not be empty");
  if (/\p{Cs}/u.test(personKey)) {
    throw new PuppetIdError("a Skype identity must not contain a lone UTF-16 surrogate");
  }
  const encoder = new TextEncoder();
  let out = "";
  for (const ch of personKey) {
    if (KEPT_RE.test(ch)) out += ch;
    else if (ch === "_") out += "__";
    else if (ch >= "A" && ch <= "Z") out += "_" + ch.toLowerCase();
    else for (const byte of encoder.encode(ch)) out += "=" + byte.toString(16).padStart(2, "0");
  }
  return out;
}

/**
 * Reverses {@link escapeSkypeId}. Returns null unless `escaped` is the canonical escaping of some
 * identity (invalid characters, a dangling `_` or `=`, upper-case hex, bad UTF-8, or an escape
 * where a plain character was due all give null).
 */
export function unescapeSkypeId(escaped: string): string | null {
  if (escaped.length === 0) return null;
  const bytes: number[] = [];
  const pushText = (s: string): void => {
    for (const b of new TextEncoder().encode(s)) bytes.push(b);
  };
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped.charAt(i);
    if (KEPT_RE.test(ch)) {
      pushText(ch);
    } else if (ch === "_") {
      const next = escaped.charAt(i + 1);
      if (next === "_") pushText("_");
      else if (next >= "a" && next <= "z") pushText(next.toUpperCase());
      else return null;
      i++;
    } else if (ch === "=") {
      const hex = escaped.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      return null;
    }
  }
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
  // Only the canonical form is accepted, so that two MXIDs never name the same person.
  return escapeSkypeId(decoded) === escaped ? decoded : null;
}

function templateParts(template: string): { prefix: string; suffix: string } {
  const problem = localpartTemplateProblem(template);
  if (problem !== null) throw new PuppetIdError(`puppet localpart template ${problem}`);
  const [prefix = "", suffix = ""] = template.split(ID_PLACEHOLDER);
  return { prefix, suffix };
}

/**
 * The localpart of the puppet for `personKey`, e.g. `("skype_{id}", "8:live:alice_1")` →
 * `skype_8=3alive=3aalice__1`.
 * @throws PuppetIdError for a bad template or an empty / unencodable key.
 */
export function puppetLocalpart(template: string, personKey: string): string {
  const { prefix, suffix } = templateParts(template);
  return prefix + escapeSkypeId(personKey) + suffix;
}

/**
 * The full MXID of the puppet for `personKey` on homeserver `domain`.
 * @throws PuppetIdError for a bad template, an empty / unencodable key, or an MXID longer than the
 *   255 bytes Matrix allows.
 */
export function puppetMxid(template: string, personKey: string, domain: string): string {
  const mxid = `@${puppetLocalpart(template, personKey)}:${domain}`;
  if (Buffer.byteLength(mxid, "utf8") > MAX_USER_ID_BYTES) {
    throw new PuppetIdError(`the Matrix id for this Skype identity would exceed ${MAX_USER_ID_BYTES} bytes`);
  }
  return mxid;
}

/**
 * The person key of a puppet MXID, or null when `mxid` is not one of this bridge's puppets on
 * `domain` (wrong domain, outside the template, or not a canonical escaping). Never throws for a
 * bad `mxid`; throws PuppetIdError only for a bad template.
 */
export function parsePuppetMxid(template: string, mxid: string, domain: string): string | null {
  const { prefix, suffix } = templateParts(template);
  if (!mxid.startsWith("@")) return null;
  const colon = mxid.indexOf(":");
  if (colon < 0 || mxid.slice(colon + 1) !== domain) return null;
  const localpart = mxid.slice(1, colon);
  if (localpart.length <= prefix.length + suffix.length) return null;
  if (!localpart.startsWith(prefix) || !localpart.endsWith(suffix)) return null;
  return unescapeSkypeId(localpart.slice(prefix.length, localpart.length - suffix.length));
}

/** Escapes `text` for a regular expression valid in both Python (Synapse) and JavaScript. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}

/**
 * The anchored user-id regex covering every puppet of `template` on `domain`, for the `users`
 * namespace of the appservice registration, e.g. `^@skype_[a-z0-9._=/-]+:example\.org$`.
 * @throws PuppetIdError for a bad template.
 */
export function puppetUserIdRegex(template: string, domain: string): string {
  const { prefix, suffix } = templateParts(template);
  return `^@${escapeRegex(prefix)}[a-z0-9._=/-]+${escapeRegex(suffix)}:${escapeRegex(domain)}$`;
}

/** Cuts `text` to at most `max` code points, ending in "…" when something was cut. */
function truncateCodePoints(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return points.slice(0, Math.max(0, max - 1)).join("") + "…";
}

/**
 * The puppet's display name: `template` with every `{name}` replaced by `name` (or by `fallback`,
 * e.g. the Skype id, when `name` is blank). Control characters are removed, whitespace is trimmed,
 * and the name is shortened with "…" so the result fits Synapse's 256-character limit.
 * @throws PuppetIdError when the template lacks `{name}`.
 */
export function displayName(template: string, name: string, fallback = ""): string {
  const problem = displayNameTemplateProblem(template);
  if (problem !== null) throw new PuppetIdError(`display name template ${problem}`);
  const clean = (s: string): string => s.replace(DISPLAY_NAME_STRIP_RE, " ").trim();
  const chosen = clean(name) || clean(fallback);
  const pieces = template.split(NAME_PLACEHOLDER);
  const fixedLength = Array.from(pieces.join("")).length;
  const slots = pieces.length - 1;
  const room = Math.floor((MAX_DISPLAY_NAME_LENGTH - fixedLength) / slots);
  const fitted = truncateCodePoints(chosen, Math.max(1, room));
  return truncateCodePoints(pieces.join(fitted), MAX_DISPLAY_NAME_LENGTH);
}

/** The person key of a puppet MXID, or undefined when `mxid` is not one of our puppets. */
export function puppetPerson(ctx: { readonly config: Config }, mxid: string): string | undefined {
  try {
    const { config } = ctx;
    return parsePuppetMxid(config.puppets.localpart_template, mxid, config.homeserver.domain) ?? undefined;
  } catch {
    return undefined;
  }
}

/** True for the bot and every puppet: their events are never bridged (no loops). */
export function isBridgeUser(
  ctx: { readonly config: Config; readonly botUserId: string },
  mxid: string,
): boolean {
  return mxid === ctx.botUserId || puppetPerson(ctx, mxid) !== undefined;
}
