// SPDX-License-Identifier: Apache-2.0
/** Link helpers: scheme allow-listing and recognising Matrix user pills (matrix.to / `matrix:` URIs). */

/** Schemes kept in links in either direction; everything else (javascript:, data:, …) becomes text. */
const SAFE_SCHEME = /^(?:https?:\/\/|mailto:)/i;

/**
 * Returns the trimmed `href` when it uses http, https or mailto, else `undefined`. Control
 * characters and whitespace inside the URL disqualify it too, so `java\tscript:` tricks and
 * broken URLs never become links.
 */
export function safeHref(href: string | undefined): string | undefined {
  if (href === undefined) return undefined;
  const url = href.trim();
  if (!SAFE_SCHEME.test(url)) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) return undefined;
  return url;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** A plausible Matrix user ID: `@localpart:server`, no whitespace, at most 255 characters. */
function asUserId(candidate: string | undefined): string | undefined {
  if (candidate === undefined || candidate.length > 255) return undefined;
  return /^@[^\s:/]+:[^\s/]+$/.test(candidate) ? candidate : undefined;
}

/**
 * The Matrix user a pill link points at, or `undefined` when `href` is not a user link.
 * Accepts `https://matrix.to/#/@user:server` (optionally percent-encoded, with `?via=`) and
 * `matrix:u/user:server` (with an optional query).
 */
export function matrixUserFromHref(href: string | undefined): string | undefined {
  if (href === undefined) return undefined;
  const url = href.trim();
  const m2 = /^https?:\/\/matrix\.to\/#\/([^?]*)/i.exec(url);
  if (m2) return asUserId(safeDecode(m2[1] ?? ""));
  const uri = /^matrix:u\/([^?#]*)/i.exec(url);
  if (uri) {
    const rest = safeDecode(uri[1] ?? "");
    return rest === undefined ? undefined : asUserId(`@${rest}`);
  }
  return undefined;
}

/** The matrix.to permalink Element renders as a user pill. */
export function userPillHref(mxid: string): string {
  return `https://matrix.to/#/${mxid}`;
}
