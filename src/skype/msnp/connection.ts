// SPDX-License-Identifier: Apache-2.0
/**
 * One MSNP24 connection: a byte stream, the incremental parser, transaction ids, replies matched
 * to requests, and the registration cookie (PROFILE §3 "Registration cookie", §5: `Registration`
 * on every frame after BND except `OUT`, always the newest `Set-Registration`).
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { MsnpError, ProtocolParseError, SkypeError, SkypeErrorCode } from "../errors.js";
import { redactText } from "../../util/redact.js";
import { type SkypeLogger } from "../log.js";
import { encodeFrame, FrameParser, type Frame } from "./framing.js";
import type { MsnpClock } from "./types.js";

/** Options of a connection. */
export interface ConnectionOptions {
  maxFrameBytes: number;
  requestTimeoutMs: number;
  clock: MsnpClock;
  logger: SkypeLogger;
}

/** What to send. */
export interface SendSpec {
  headers?: [string, string][];
  body?: string | Buffer;
  /** `CMD n type 0` with no payload (used for `OUT`). */
  bare?: boolean;
}

export interface ConnectionEvents {
  /** A frame that answers none of our transaction ids: server pushes. */
  frame: [Frame];
  /** Any frame answering one of our transaction ids (after the request, if any, was settled). */
  reply: [Frame];
  /** The connection is gone; emitted once. */
  closed: [SkypeError];
}

interface Pending {
  resolve(f: Frame): void;
  reject(e: SkypeError): void;
  timer: unknown;
  what: string;
}

let nextConnectionId = 1;

/** Describes an error frame without echoing anything secret. */
function errorText(f: Frame): string {
  const text = f.body.toString("utf8").trim().slice(0, 200);
  return redactText(text) || "no reason given";
}

/** An MSNP24 connection. Frames are written in call order; replies settle requests by TrID. */
export class MsnpConnection extends EventEmitter<ConnectionEvents> {
  /** Distinguishes connections (the outbox records where each message was written). */
  readonly id = nextConnectionId++;
  /** The newest registration cookie, once BND has been answered. */
  registration?: string;
  private nextTrid = 1;
  private readonly parser: FrameParser;
  private readonly pending = new Map<number, Pending>();
  private closedWith?: SkypeError;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: ConnectionOptions,
  ) {
    super();
    this.parser = new FrameParser({ maxFrameBytes: opts.maxFrameBytes });
    socket.on("data", (chunk: Buffer | string) =>
      this.onData(typeof chunk === "string" ? Buffer.from(chunk) : chunk),
    );
    socket.on("error", (e: Error) =>
      this.close(
        new SkypeError(SkypeErrorCode.Network, `MSNP connection error: ${e.message}`, true, { cause: e }),
      ),
    );
    socket.on("close", () =>
      this.close(new SkypeError(SkypeErrorCode.Network, "MSNP connection closed", true)),
    );
    socket.on("end", () =>
      this.close(new SkypeError(SkypeErrorCode.Network, "MSNP server ended the connection", true)),
    );
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  /** The error the connection closed with, if closed. */
  get closeError(): SkypeError | undefined {
    return this.closedWith;
  }

  /** The last transaction id used. */
  get lastTrid(): number {
    return this.nextTrid - 1;
  }

  /**
   * Writes a frame and returns its TrID. With `withRegistration`, the current cookie goes first in
   * the top block. Never throws; a closed connection drops the frame.
   */
  send(command: string, type: string, spec: SendSpec = {}, withRegistration = true): number {
    const trid = this.nextTrid++;
    if (this.closedWith) return trid;
    const headers: [string, string][] = [];
    if (withRegistration && this.registration !== undefined)
      headers.push(["Registration", this.registration]);
    headers.push(...(spec.headers ?? []));
    const buf = encodeFrame({ command, trid, type, headers, body: spec.body, bare: spec.bare });
    this.opts.logger.debug("msnp send", { command, trid, type, bytes: buf.length });
    this.socket.write(buf);
    return trid;
  }

  /**
   * Sends a frame and waits for the frame answering its TrID.
   * @throws MsnpError for an error-code reply, SkypeError (`SKYPE_NETWORK`, retryable) on timeout
   *   or when the connection closes first (then the close error is thrown).
   */
  request(command: string, type: string, spec: SendSpec = {}, withRegistration = true): Promise<Frame> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<Frame>((resolve, reject) => {
      const trid = this.send(command, type, spec, withRegistration);
      const what = `${command} ${type}`;
      const timer = this.opts.clock.setTimeout(() => {
        this.pending.delete(trid);
        const err = new SkypeError(
          SkypeErrorCode.Network,
          `no reply to ${what} within ${this.opts.requestTimeoutMs} ms`,
          true,
        );
        reject(err);
        this.close(err);
      }, this.opts.requestTimeoutMs);
      this.pending.set(trid, { resolve, reject, timer, what });
    });
  }

  /** Closes the stream (idempotent); pending requests fail with `error`. */
  close(error: SkypeError = new SkypeError(SkypeErrorCode.NotConnected, "connection closed", true)): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const p of this.pending.values()) {
      this.opts.clock.clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
    this.socket.destroy();
    this.emit("closed", error);
  }

  /** Ends the stream after flushing what was written (used after `OUT`). */
  end(): void {
    if (this.closedWith) return;
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closedWith) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (e) {
      const err =
        e instanceof SkypeError
          ? e
          : new ProtocolParseError(SkypeErrorCode.MsnpFraming, "bad MSNP frame", { cause: e });
      this.opts.logger.error("msnp: malformed data from the server, closing the connection", {
        error: err.message,
      });
      this.close(err);
      return;
    }
    for (const f of frames) {
      if (this.closedWith) return;
      try {
        this.dispatch(f);
      } catch (e) {
        this.opts.logger.error("msnp: handling a frame failed", { command: f.command, error: String(e) });
      }
    }
  }

  private dispatch(f: Frame): void {
    const setReg = f.headers.get("Set-Registration");
    if (setReg) this.registration = setReg;
    this.opts.logger.debug("msnp recv", { command: f.command, trid: f.trid, type: f.type, bytes: f.length });
    const isReply = f.trid > 0 && f.trid < this.nextTrid;
    if (!isReply) {
      this.emit("frame", f);
      return;
    }
    const p = this.pending.get(f.trid);
    if (p) {
      this.pending.delete(f.trid);
      this.opts.clock.clearTimeout(p.timer);
      const code = /^\d{3}$/.test(f.command) ? Number(f.command) : 0;
      if (code) p.reject(new MsnpError(code, `${p.what} refused with ${code}: ${errorText(f)}`, code >= 500));
      else p.resolve(f);
    }
    this.emit("reply", f);
  }
}

/** The reason text of an error frame or `OUT`, redacted and shortened. */
export function frameReason(f: Frame): string {
  return errorText(f);
}
