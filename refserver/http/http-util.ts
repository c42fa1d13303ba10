// SPDX-License-Identifier: Apache-2.0
/**
 * Small HTTP helpers shared by the reference server's endpoints: the reply type handlers return,
 * bounded body reading, form and cookie parsing, and escaping for HTML, JavaScript strings and XML.
 */
import type { IncomingMessage } from "node:http";

/** What a handler answers; the server writes it (after any injected delay). */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** Thrown by handlers to answer with a plain status and message (never carrying a secret). */
export class HttpFail extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reply?: Reply,
  ) {
    super(message);
    this.name = "HttpFail";
  }
}

/** Body bytes beyond the limit are drained (not kept) up to this multiple before the socket is dropped. */
const DRAIN_FACTOR = 16;

/**
 * Reads a request body of at most `limit` bytes. Returns `undefined` when it was bigger; the excess
 * is read and discarded (bounded memory) so the client still gets a 413 reply.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limit * DRAIN_FACTOR) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const c of req) {
    const chunk = c as Buffer;
    size += chunk.length;
    if (size > limit) {
      over = true;
      chunks.length = 0;
      if (size > limit * DRAIN_FACTOR) {
        req.destroy();
        break;
      }
      continue;
    }
    chunks.push(chunk);
  }
  return over ? undefined : Buffer.concat(chunks);
}

/** Parses `application/x-www-form-urlencoded` text; the first value of a repeated field wins. */
export function parseForm(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(text)) if (!out.has(k)) out.set(k, v);
  return out;
}

/** Parses a `Cookie` header into name → value (first occurrence wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export function htmlEscape(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Escapes text for a single-quoted JavaScript string inside an HTML `<script>`. */
export function jsSingleQuoted(s: string): string {
  return s
    .replace(/\\/g, "\\\\")
    .replace(/'/g, "\\'")
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n")
    .replace(/</g, "\\x3C")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Escapes text for XML element content. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A JSON reply. */
export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
    body: JSON.stringify(value),
  };
}

/** An HTML reply. */
export function htmlReply(
  status: number,
  html: string,
  headers: Record<string, string | string[]> = {},
): Reply {
  return { status, headers: { "content-type": "text/html; charset=utf-8", ...headers }, body: html };
}

/** A plain-text error reply. */
export function textReply(status: number, text: string): Reply {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: text + "\n" };
}

/** The CID as ABCH writes it: the 16-hex-digit CID as a signed 64-bit decimal. */
export function signedCid(hexCid: string): string {
  return BigInt.asIntN(64, BigInt("0x" + hexCid)).toString();
}
