// SPDX-License-Identifier: Apache-2.0
/**
 * Syntax checks for configuration values. Each `…Problem` function returns why a value is wrong,
 * or null when it is fine; reasons never repeat the value (it might be a secret).
 */
import { isIP } from "node:net";

/** A DNS name: dot-separated labels of letters, digits and inner hyphens. */
const DNS_NAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Historical Matrix user localparts: printable ASCII except ":". */
const MXID_LOCALPART_RE = /^[\x21-\x39\x3b-\x7e]+$/;
/** A raw 256-bit key written as hex. */
const HEX_KEY_RE = /^[0-9a-fA-F]{64}$/;
/** Shortest passphrase accepted as a token key, in characters. */
export const MIN_PASSPHRASE_LENGTH = 16;

/** True for an IPv4 address, a DNS name, or a bracketed IPv6 address (`[::1]`). */
function isHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return isIP(host.slice(1, -1)) === 6;
  return isIP(host) === 4 || DNS_NAME_RE.test(host);
}

function isPort(text: string, allowZero: boolean): boolean {
  if (!/^[0-9]{1,5}$/.test(text)) return false;
  const n = Number(text);
  return n <= 65535 && (allowZero || n > 0);
}

/** Splits `host:port`; the host keeps its brackets. Null when there is no port part. */
function splitHostPort(value: string): { host: string; port: string } | null {
  const colon = value.lastIndexOf(":");
  if (colon < 0) return null;
  const host = value.slice(0, colon);
  // A bare IPv6 address also contains ":"; it must be bracketed to carry a port.
  if (!host.startsWith("[") && host.includes(":")) return null;
  return { host, port: value.slice(colon + 1) };
}

/** An http(s) base URL without credentials, query or fragment. */
export function httpUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an http:// or https:// URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return "must be an http:// or https:// URL";
  }
  if (url.hostname === "") return "must name a host";
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  if (url.search !== "" || url.hash !== "" || value.includes("?") || value.includes("#")) {
    return "must not contain a query (?…) or fragment (#…)";
  }
  return null;
}

/** The canonical form of a valid base URL, without trailing slashes. */
export function normalizeBaseUrl(value: string): string {
  return new URL(value).href.replace(/\/+$/, "");
}

/** A `host:port` address (port 1–65535; IPv6 hosts in brackets). */
export function hostPortProblem(value: string): string | null {
  const parts = splitHostPort(value);
  if (parts === null) return "must be host:port (IPv6 addresses in brackets, e.g. [::1]:1863)";
  if (!isHost(parts.host)) return "has an invalid host name or IP address";
  if (!isPort(parts.port, false)) return "must end in a port number from 1 to 65535";
  return null;
}

/** A Matrix server name: host name or IP address, optionally with `:port`. */
export function serverNameProblem(value: string): string | null {
  if (isHost(value)) return null;
  const parts = splitHostPort(value);
  if (parts !== null && isHost(parts.host) && isPort(parts.port, false)) return null;
  return "must be a server name like example.org or localhost:8448";
}

/** An address to bind a listener to: an IP address or a host name. */
export function bindAddressProblem(value: string): string | null {
  if (isIP(value) !== 0 || isHost(value)) return null;
  return "must be an IP address or a host name";
}

/** True for a syntactically valid MXID `@localpart:server`. */
export function isMxid(value: string): boolean {
  if (!value.startsWith("@")) return false;
  const colon = value.indexOf(":");
  if (colon < 2) return false;
  return MXID_LOCALPART_RE.test(value.slice(1, colon)) && serverNameProblem(value.slice(colon + 1)) === null;
}

/** The server-name part of an MXID (after the first ":"), or null. */
export function mxidServerName(mxid: string): string | null {
  const colon = mxid.indexOf(":");
  return mxid.startsWith("@") && colon > 1 ? mxid.slice(colon + 1) : null;
}

/** How a token key is turned into an encryption key. */
export type TokenKeyKind = "hex" | "passphrase";

/** `hex` for 64 hex digits (a raw 256-bit key), otherwise `passphrase`. */
export function tokenKeyKind(key: string): TokenKeyKind {
  return HEX_KEY_RE.test(key) ? "hex" : "passphrase";
}

/** 64 hex digits, or a passphrase of at least 16 characters. */
export function tokenKeyProblem(key: string): string | null {
  if (HEX_KEY_RE.test(key)) return null;
  if (Array.from(key).length >= MIN_PASSPHRASE_LENGTH && key.trim() === key) return null;
  return `must be 64 hex digits or a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters without leading or trailing spaces`;
}
