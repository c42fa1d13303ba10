// SPDX-License-Identifier: Apache-2.0
/**
 * MSNP24 framing (PROFILE §3, REFERENCE §3.2): `CMD <TrID> <type> <len>\r\n` followed by exactly
 * `len` UTF-8 bytes: the top header block, an empty line, then the body. A payload may be empty
 * (`len` 0) or lack the top block; both are accepted.
 */
import { ProtocolParseError, SkypeErrorCode } from "../errors.js";
import { MsnpHeaders } from "./headers.js";

/** One decoded frame. */
export interface Frame {
  /** Three-letter command (`SDG`) or three-digit error code (`911`). */
  readonly command: string;
  /** Transaction id: the client's for replies, 0 for server pushes. */
  readonly trid: number;
  /** Path-like type token (`CON`, `MSGR\PUT`); may be empty for a type-less line. */
  readonly type: string;
  /** The top header block (empty when the payload had none). */
  readonly headers: MsnpHeaders;
  /** The payload after the top block. */
  readonly body: Buffer;
  /** The declared payload length in bytes. */
  readonly length: number;
}

/** A frame to send. */
export interface OutgoingFrame {
  command: string;
  trid: number;
  type: string;
  /** Top header block. */
  headers?: Iterable<readonly [string, string]>;
  body?: string | Buffer;
  /** Send `CMD n type 0` with no payload at all (e.g. `OUT`). */
  bare?: boolean;
}

/** Limits of the incremental parser. */
export interface FrameParserOptions {
  /** Largest accepted payload in bytes (default 1 MiB). */
  maxFrameBytes?: number;
  /** Longest accepted command line in bytes (default 1024). */
  maxLineBytes?: number;
}

const CRLF = Buffer.from("\r\n");
const CRLFCRLF = Buffer.from("\r\n\r\n");
const COMMAND = /^(?:[A-Z]{2,5}|\d{3})$/;
const TYPE = /^[A-Za-z][A-Za-z0-9]*(?:\\[A-Za-z][A-Za-z0-9]*)*$/;
const DIGITS = /^\d{1,15}$/;
/** Content-block names: a payload starting with one of these has no top block. */
const BLOCK_NAMES = new Set(["routing", "reliability", "messaging", "publication", "notification"]);

/** Encodes a frame; `len` is the payload's UTF-8 byte count. */
export function encodeFrame(f: OutgoingFrame): Buffer {
  if (f.bare) return Buffer.from(`${f.command} ${f.trid} ${f.type} 0\r\n`, "utf8");
  const top = new MsnpHeaders(f.headers).serialize();
  const body = typeof f.body === "string" ? Buffer.from(f.body, "utf8") : (f.body ?? Buffer.alloc(0));
  const payload = Buffer.concat([Buffer.from(top + "\r\n", "utf8"), body]);
  return Buffer.concat([
    Buffer.from(`${f.command} ${f.trid} ${f.type} ${payload.length}\r\n`, "utf8"),
    payload,
  ]);
}

/** Splits a payload into the top header block and the rest (REFERENCE §3.4). */
export function splitPayload(payload: Buffer): { headers: MsnpHeaders; body: Buffer } {
  if (payload.length === 0) return { headers: new MsnpHeaders(), body: payload };
  if (payload[0] === 0x0d && payload[1] === 0x0a)
    return { headers: new MsnpHeaders(), body: payload.subarray(2) };
  const end = payload.indexOf(CRLFCRLF);
  const head = payload.toString("utf8", 0, end >= 0 ? end : payload.length);
  const headers = MsnpHeaders.parseAll(head);
  if (headers) {
    const first = headers.firstName()?.toLowerCase() ?? "";
    if (!BLOCK_NAMES.has(first)) {
      if (end >= 0) return { headers, body: payload.subarray(end + 4) };
      // Top block whose final empty line is missing: accept when it ends with a line break.
      if (head.endsWith("\n")) return { headers, body: Buffer.alloc(0) };
    }
  }
  return { headers: new MsnpHeaders(), body: payload };
}

function isPrintableAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20 || bytes[i]! > 0x7e) return false;
  return true;
}

function printable(line: string): string {
  return JSON.stringify(line.length > 60 ? line.slice(0, 60) + "…" : line);
}

interface FrameHead {
  command: string;
  trid: number;
  type: string;
  length: number;
}

function malformedLine(line: string): never {
  throw new ProtocolParseError(SkypeErrorCode.MsnpFraming, `malformed MSNP command line ${printable(line)}`);
}

/**
 * The words of a command line: `line.trim().split(/ +/)` for a line of printable ASCII (the only
 * blank it can hold is the space), without the regex split, which was most of the time spent on a
 * command line; a line of spaces only gives no word (there `split` gave one empty word: both fail
 * the command check).
 */
function words(line: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < line.length;) {
    if (line.charCodeAt(i) === 0x20) {
      i++;
      continue;
    }
    const start = i;
    while (i < line.length && line.charCodeAt(i) !== 0x20) i++;
    out.push(line.slice(start, i));
  }
  return out;
}

function parseCommandLine(line: string): FrameHead {
  const t = words(line);
  if (!COMMAND.test(t[0] ?? "") || !DIGITS.test(t[1] ?? "")) return malformedLine(line);
  const command = t[0]!;
  const trid = Number(t[1]);
  if (t.length === 4 && TYPE.test(t[2]!) && DIGITS.test(t[3]!)) {
    return { command, trid, type: t[2]!, length: Number(t[3]) };
  }
  // Liberal forms: `OUT 0 CON` (no length) and `CMD trid len` (no type).
  if (t.length === 3 && TYPE.test(t[2]!)) return { command, trid, type: t[2]!, length: 0 };
  if (t.length === 3 && DIGITS.test(t[2]!)) return { command, trid, type: "", length: Number(t[2]) };
  return malformedLine(line);
}

/**
 * Incremental frame parser: feed it chunks as they arrive (partial frames, several frames per
 * chunk). After the first error it stays failed: the stream cannot be resynchronised.
 */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks of a payload still incomplete, joined only once it is whole (no quadratic copying). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private head?: FrameHead;
  private failure?: ProtocolParseError;
  private readonly maxFrameBytes: number;
  private readonly maxLineBytes: number;

  constructor(options: FrameParserOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 1024 * 1024;
    this.maxLineBytes = options.maxLineBytes ?? 1024;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.buf.length + this.pendingBytes;
  }

  /**
   * Adds a chunk and returns the frames it completes, in order.
   * @throws ProtocolParseError (code `SKYPE_MSNP_FRAMING`) on a malformed or oversize frame.
   */
  push(chunk: Buffer): Frame[] {
    if (this.failure) throw this.failure;
    const held = this.buf.length + this.pendingBytes;
    if (this.head && held + chunk.length < this.head.length) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return [];
    }
    const out: Frame[] = [];
    try {
      if (this.head && held > 0) {
        // The chunk completes a frame begun earlier: its bytes are joined once, into a buffer of
        // the frame's own size (not the whole chunk joined, then the frame copied out of that).
        const need = this.head.length - held;
        const payload = Buffer.concat([this.buf, ...this.pending, chunk.subarray(0, need)], this.head.length);
        this.buf = chunk.subarray(need);
        out.push(this.frameOf(payload));
      } else {
        this.buf = held > 0 ? Buffer.concat([this.buf, ...this.pending, chunk]) : chunk;
      }
      this.pending = [];
      this.pendingBytes = 0;
      for (;;) {
        if (!this.head && !this.readHead()) break;
        const head = this.head!;
        if (this.buf.length < head.length) break;
        // A copy: a kept frame must not pin the whole read it came in.
        const payload = Buffer.from(this.buf.subarray(0, head.length));
        this.buf = this.buf.subarray(head.length);
        out.push(this.frameOf(payload));
      }
    } catch (e) {
      this.failure =
        e instanceof ProtocolParseError
          ? e
          : new ProtocolParseError(SkypeErrorCode.MsnpFraming, "undecodable MSNP frame", { cause: e });
      this.buf = Buffer.alloc(0);
      this.pending = [];
      this.pendingBytes = 0;
      throw this.failure;
    }
    return out;
  }

  /** The frame of the current head with `payload`; the next frame starts with a new head. */
  private frameOf(payload: Buffer): Frame {
    const head = this.head!;
    this.head = undefined;
    const { headers, body } = splitPayload(payload);
    return { command: head.command, trid: head.trid, type: head.type, headers, body, length: head.length };
  }

  private readHead(): boolean {
    for (;;) {
      const nl = this.buf.indexOf(CRLF);
      if (nl < 0) {
        // A line of exactly maxLineBytes may have its CR here and its LF in the next chunk: the
        // limit may not depend on where TCP cut the stream.
        const len = this.buf.length;
        const waitsForLf = len === this.maxLineBytes + 1 && this.buf[len - 1] === 0x0d;
        if (len > this.maxLineBytes && !waitsForLf) this.fail("MSNP command line too long");
        return false;
      }
      if (nl > this.maxLineBytes) this.fail("MSNP command line too long");
      if (nl === 0) {
        this.buf = this.buf.subarray(2); // tolerate stray empty lines between frames
        continue;
      }
      const raw = this.buf.subarray(0, nl);
      if (!isPrintableAscii(raw)) {
        this.fail(`non-ASCII MSNP command line ${printable(raw.toString("latin1"))}`);
      }
      const head = parseCommandLine(raw.toString("latin1"));
      if (head.length > this.maxFrameBytes) {
        this.fail(`MSNP frame of ${head.length} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
      }
      this.buf = this.buf.subarray(nl + 2);
      this.head = head;
      return true;
    }
  }

  private fail(message: string): never {
    throw new ProtocolParseError(SkypeErrorCode.MsnpFraming, message);
  }
}

/** The body as UTF-8 text. */
export function bodyText(f: { body: Buffer }): string {
  return f.body.toString("utf8");
}
