// SPDX-License-Identifier: Apache-2.0
/**
 * MSNP24 framing (REFERENCE §3.2, PROFILE §3): `CMD <trid> <type> <len>\r\n` followed by exactly
 * `len` bytes (UTF-8 byte count) holding the top header block, a blank line and the body; and the
 * Routing / Reliability / content "multi-part MIME" body of SDG, presence and NFY (REFERENCE §3.3).
 */

/** Ordered header list; names compare case-insensitively. */
export type HeaderList = Array<[name: string, value: string]>;

/** A framing violation: the server answers `200` and closes the connection. */
export class FramingError extends Error {
  override readonly name = "FramingError";
}

/** One decoded frame. `type` is the full path-like token (`MSGR\PRESENCE`); `cmd` may be digits. */
export interface Frame {
  readonly cmd: string;
  readonly trid: string;
  readonly type: string;
  readonly headers: HeaderList;
  readonly body: Buffer;
  /** The payload length announced on the command line. */
  readonly length: number;
}

/** A parsed multi-part body. `contentKind` is `Messaging`, `Publication` or `Notification`. */
export interface Mmm {
  readonly routing: HeaderList;
  readonly reliability: HeaderList;
  readonly contentKind: string;
  readonly content: HeaderList;
  readonly body: Buffer;
}

const CRLF = Buffer.from("\r\n");
const BLANK = Buffer.from("\r\n\r\n");
const COMMAND_LINE = /^([A-Z]+|\d{3}) (\d{1,10}) ([A-Za-z]+(?:\\[A-Za-z]+)*) (\d{1,10})$/;
const MAX_LINE = 1024;

/** The value of the first header called `name` (case-insensitive), trimmed. */
export function getHeader(list: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of list) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Parses `Name: value` lines; lines without a colon are ignored (be liberal). */
export function parseHeaderLines(text: string): HeaderList {
  const out: HeaderList = [];
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}

/** Splits a payload into its top header block and the rest (PROFILE §3: both forms accepted). */
export function splitPayload(payload: Buffer): { headers: HeaderList; body: Buffer } {
  if (payload.length === 0) return { headers: [], body: payload };
  if (payload[0] === 0x0d && payload[1] === 0x0a) return { headers: [], body: payload.subarray(2) };
  // A bare XML body without the blank top block: accept it (be liberal).
  if (payload[0] === 0x3c) return { headers: [], body: payload };
  // Likewise a multi-part body that starts straight with its Routing block.
  if (/^routing:/i.test(payload.subarray(0, 8).toString("latin1"))) return { headers: [], body: payload };
  const idx = payload.indexOf(BLANK);
  if (idx < 0) return { headers: parseHeaderLines(payload.toString("utf8")), body: payload.subarray(0, 0) };
  return {
    headers: parseHeaderLines(payload.subarray(0, idx).toString("utf8")),
    body: payload.subarray(idx + 4),
  };
}

/**
 * Incremental decoder of the client's byte stream. `push()` returns every complete frame and, on
 * a malformed command line or a payload larger than `maxFrameBytes`, the FramingError that
 * stopped it (after which the stream is unusable).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxFrameBytes: () => number) {}

  /** The trid of the command line currently buffered, if it can be read (for the `200` reply). */
  pendingTrid(): string {
    const line = this.buf.subarray(0, Math.min(this.buf.length, MAX_LINE)).toString("latin1");
    return /^\S+ (\d{1,10}) /.exec(line)?.[1] ?? "0";
  }

  push(chunk: Buffer): { frames: Frame[]; error?: FramingError } {
    const frames: Frame[] = [];
    if (this.failed) return { frames };
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      for (;;) {
        const frame = this.next();
        if (!frame) return { frames };
        frames.push(frame);
      }
    } catch (e) {
      this.failed = true;
      return { frames, error: e instanceof FramingError ? e : new FramingError(String(e)) };
    }
  }

  private next(): Frame | undefined {
    const eol = this.buf.indexOf(CRLF);
    if (eol < 0) {
      if (this.buf.length > MAX_LINE) throw new FramingError("command line too long");
      return undefined;
    }
    if (eol > MAX_LINE) throw new FramingError("command line too long");
    const line = this.buf.subarray(0, eol).toString("latin1");
    const m = COMMAND_LINE.exec(line);
    if (!m) throw new FramingError("malformed command line");
    const length = Number(m[4]);
    if (length > this.maxFrameBytes()) throw new FramingError("payload larger than the maximum frame size");
    const total = eol + 2 + length;
    if (this.buf.length < total) return undefined;
    const payload = Buffer.from(this.buf.subarray(eol + 2, total));
    this.buf = this.buf.subarray(total);
    const { headers, body } = splitPayload(payload);
    return { cmd: m[1]!, trid: m[2]!, type: m[3]!, headers, body, length };
  }
}

/**
 * Encodes a frame. With no headers and an empty body the payload is the empty top block (`len` 2)
 * unless `zeroLength` asks for `len` 0.
 */
export function encodeFrame(
  cmd: string,
  trid: string | number,
  type: string,
  headers: HeaderList,
  body: Buffer | string = "",
  zeroLength = false,
): Buffer {
  const bodyBuf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  let payload: Buffer;
  if (headers.length === 0 && bodyBuf.length === 0 && zeroLength) payload = Buffer.alloc(0);
  else {
    const top = headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
    payload = Buffer.concat([Buffer.from(top, "utf8"), bodyBuf]);
  }
  return Buffer.concat([Buffer.from(`${cmd} ${trid} ${type} ${payload.length}\r\n`, "latin1"), payload]);
}

const CONTENT_KINDS = new Set(["messaging", "publication", "notification"]);

/**
 * Parses a Routing/Reliability/content body. Blocks are recognised by their first header; a
 * missing content block or a `Content-Length` that disagrees with the body is a FramingError.
 */
export function parseMmm(buf: Buffer): Mmm {
  let routing: HeaderList = [];
  let reliability: HeaderList = [];
  let pos = 0;
  for (let blocks = 0; blocks < 3; blocks++) {
    const idx = buf.indexOf(BLANK, pos);
    if (idx < 0) throw new FramingError("incomplete header blocks");
    const headers = parseHeaderLines(buf.subarray(pos, idx).toString("utf8"));
    pos = idx + 4;
    const first = headers[0]?.[0].toLowerCase();
    if (first === "routing") routing = headers;
    else if (first === "reliability") reliability = headers;
    else if (first !== undefined && CONTENT_KINDS.has(first)) {
      const body = buf.subarray(pos);
      const cl = getHeader(headers, "Content-Length");
      if (cl !== undefined && (!/^\d+$/.test(cl) || Number(cl) !== body.length)) {
        throw new FramingError("Content-Length disagrees with the body");
      }
      return { routing, reliability, contentKind: headers[0]![0], content: headers, body };
    } else throw new FramingError("unknown header block");
  }
  throw new FramingError("no Messaging, Publication or Notification block");
}

/** Encodes a multi-part body; `Content-Length` is computed from `body` and appended last. */
export function encodeMmm(parts: {
  routing: HeaderList;
  reliability: HeaderList;
  content: HeaderList;
  body: Buffer | string;
}): Buffer {
  const body = typeof parts.body === "string" ? Buffer.from(parts.body, "utf8") : parts.body;
  const block = (h: HeaderList): string => h.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  const content: HeaderList = [
    ...parts.content.filter(([k]) => k.toLowerCase() !== "content-length"),
    ["Content-Length", String(body.length)],
  ];
  const head = block(parts.routing) + block(parts.reliability) + block(content);
  return Buffer.concat([Buffer.from(head, "utf8"), body]);
}

/** Strips `;epid=…` and other `;` parameters from an MRI. */
export function bareMri(mri: string): string {
  return mri.split(";")[0]!.trim();
}

/** The `epid` parameter of an MRI (`8:bob;epid={guid}`), normalised. */
export function epidOf(mri: string): string | undefined {
  const m = /;\s*epid=([^;]+)/i.exec(mri);
  return m ? normaliseEpid(m[1]!) : undefined;
}

/** Endpoint ids compare without braces and case-insensitively. */
export function normaliseEpid(epid: string): string {
  return epid
    .trim()
    .replace(/^\{|\}$/g, "")
    .toLowerCase();
}

/** The reply type: the first path segment of the request's type (`MSGR\PRESENCE` → `MSGR`). */
export function replyType(type: string): string {
  return type.split("\\")[0] ?? type;
}
