// SPDX-License-Identifier: Apache-2.0
/**
 * One client connection of the MSNP side: reads frames, runs them one at a time through the
 * dispatcher, and holds the per-connection login state (nonce, account, endpoint, registration
 * cookie, challenge, subscriptions). Errors become `<code> <trid> <type> <len>` frames
 * (PROFILE §3 "Errors"); nothing a client sends can throw out of here.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { Person } from "../world.js";
import { encodeFrame, FrameReader, FramingError, replyType, type Frame, type HeaderList } from "./frame.js";
import { SyncStateError } from "./history.js";
import type { DropPlan, MsnpHub } from "./hub.js";
import { PresenceError } from "./presence-store.js";
import { ThreadError } from "./threads.js";
import { XmlParseError } from "./xml.js";

/** A refused command: answered with `code` (and the connection closed when `close`). */
export class ReplyError extends Error {
  override readonly name = "ReplyError";
  constructor(
    readonly code: number,
    message: string,
    readonly close = false,
  ) {
    super(message);
  }
}

/** What `PUT MSGR\SUBSCRIPTIONS` asked for so far (they add up). */
export interface Subscriptions {
  im: boolean;
  conversations: boolean;
  presence: boolean;
  /** Upper-case partner names (`ABCH`, `HOTMAIL`). */
  readonly partners: Set<string>;
}

/** Handles one frame of a connection (see ./dispatch.ts). */
export type Dispatcher = (conn: MsnpConnection, frame: Frame) => void | Promise<void>;

let nextConnectionId = 1;

/** One client socket and its protocol state. */
export class MsnpConnection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  person?: Person;
  identities: string[] = [];
  nonce?: string;
  authFailures = 0;
  /** Normalised endpoint id, once bound. */
  epid?: string;
  bound = false;
  challenge?: { value: string; answered: boolean };
  readonly subs: Subscriptions = { im: false, conversations: false, presence: false, partners: new Set() };
  /** MRIs from `PUT MSGR\CONTACTS`. */
  readonly contactList = new Set<string>();
  /** This endpoint published presence. */
  published = false;
  /** person key → epids of theirs this connection was told about (for `NFY MSGR\DEL`). */
  readonly knownPresence = new Map<string, Set<string>>();
  /** Unacknowledged pushes of an earlier connection were re-sent here. */
  resent = false;
  framesReceived = 0;
  closed = false;
  private drop?: DropPlan;
  private cookie?: string;
  private previousCookie?: string;
  private previousUntil = 0;
  private cookieIssuedAt = 0;
  private readonly reader: FrameReader;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly hub: MsnpHub,
    private readonly socket: Socket,
    private readonly dispatch: Dispatcher,
    onClose: (c: MsnpConnection) => void,
  ) {
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    this.reader = new FrameReader(() => this.hub.options.maxFrameBytes);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.hub.log.warn("msnp socket error", { conn: this.id, error: e.message }));
    socket.on("close", () => {
      this.closed = true;
      onClose(this);
    });
  }

  /** `<person key>|<epid>`: where unacknowledged pushes are kept. */
  get endpointKey(): string {
    return `${this.person?.key ?? ""}|${this.epid ?? ""}`;
  }

  /** Bound, challenge answered (if one was asked) and open. */
  get ready(): boolean {
    return this.bound && !this.closed && (!this.challenge || this.challenge.answered);
  }

  /** Ready and subscribed to `<messaging><im/>`: may receive SDG and thread pushes. */
  get canPush(): boolean {
    return this.ready && this.subs.im;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const { frames, error } = this.reader.push(chunk);
    for (const f of frames) this.enqueue(() => this.process(f));
    if (error) {
      const trid = this.reader.pendingTrid();
      this.enqueue(() => this.fail(trid, "CON", error));
    }
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.queue = this.queue.then(task).catch((e: unknown) => {
      this.hub.log.warn("msnp connection task failed", { conn: this.id, error: String(e) });
    });
  }

  private async process(frame: Frame): Promise<void> {
    if (this.closed) return;
    const delay = this.hub.options.replyDelayMs;
    if (delay > 0) await this.hub.sleep(delay);
    if (this.closed) return;
    this.framesReceived++;
    const armed = this.drop !== undefined;
    try {
      await this.dispatch(this, frame);
    } catch (e) {
      this.fail(frame.trid, replyType(frame.type), e);
    }
    if (armed && this.drop && --this.drop.afterFrames <= 0) {
      const plan = this.drop;
      this.drop = undefined;
      this.hub.log.info("msnp dropping connection as planned", { conn: this.id });
      if (plan.out) this.sendOut(plan.out);
      else this.destroy();
    }
  }

  /** Maps an error to its reply frame. */
  private fail(trid: string, type: string, e: unknown): void {
    if (e instanceof FramingError) {
      this.hub.log.info("msnp framing error", { conn: this.id, reason: e.message });
      this.sendError(200, trid, type, `Syntax error: ${e.message}`);
      this.end();
    } else if (e instanceof ReplyError) {
      this.sendError(e.code, trid, type, e.message);
      if (e.close) this.end();
    } else if (e instanceof ThreadError) {
      this.sendError(e.code, trid, type, e.message);
    } else if (e instanceof XmlParseError) {
      this.sendError(201, trid, type, `Invalid XML: ${e.message}`);
    } else if (e instanceof PresenceError || e instanceof SyncStateError) {
      this.sendError(201, trid, type, e.message);
    } else {
      this.hub.log.warn("msnp internal error", {
        conn: this.id,
        error: e instanceof Error ? e.message : String(e),
      });
      this.sendError(500, trid, type, "Internal server error");
    }
  }

  /** Arms a planned drop: after `afterFrames` more client frames the connection goes away. */
  planDrop(plan: DropPlan): void {
    this.drop = { ...plan };
  }

  write(buf: Buffer): void {
    if (!this.closed && !this.socket.destroyed && this.socket.writable) this.socket.write(buf);
  }

  /**
   * Replies to `frame` with the same command and trid and the first segment of its type. Replies
   * to PUT, DEL, GET and PNG on a bound connection may carry a rotated `Set-Registration`.
   */
  reply(frame: Frame, body = "", extra: HeaderList = []): void {
    const headers = [...extra];
    if (this.bound && ["PUT", "DEL", "GET", "PNG"].includes(frame.cmd)) headers.push(...this.rotation());
    const zero =
      this.hub.options.emptyReplyStyle === "zero-length" && (frame.cmd === "PUT" || frame.cmd === "DEL");
    this.write(encodeFrame(frame.cmd, frame.trid, replyType(frame.type), headers, body, zero));
  }

  sendError(code: number, trid: string, type: string, text: string): void {
    this.write(encodeFrame(String(code), trid, type, [], text));
  }

  /** Sends `OUT 0 CON` with a reason (`OTH`, `SSD`) and closes. */
  sendOut(reason: string): void {
    this.write(encodeFrame("OUT", 0, "CON", [], reason));
    this.end();
  }

  /** Closes after pending writes are flushed. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroySoon();
  }

  /** Drops the connection at once, like a network failure. */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Issues the first registration cookie (at BND). */
  issueCookie(): string {
    this.previousCookie = undefined;
    return this.newCookie();
  }

  private newCookie(): string {
    this.cookie = randomBytes(24).toString("base64");
    this.cookieIssuedAt = Date.now();
    return this.cookie;
  }

  private rotation(): HeaderList {
    const mode = this.hub.options.rotateCookie;
    const now = Date.now();
    const due =
      mode === "per-reply" || (typeof mode === "object" && now - this.cookieIssuedAt >= mode.intervalMs);
    if (!due || !this.cookie) return [];
    this.previousCookie = this.cookie;
    this.previousUntil = now + this.hub.options.cookieGraceMs;
    return [["Set-Registration", this.newCookie()]];
  }

  /** Why the frame's `Registration` is not acceptable, or undefined when it is. */
  registrationProblem(headers: HeaderList): string | undefined {
    const given = headers.find(([k]) => k.toLowerCase() === "registration")?.[1];
    if (!given) return "Registration required";
    if (given === this.cookie) {
      this.previousCookie = undefined;
      return undefined;
    }
    if (
      this.previousCookie !== undefined &&
      given === this.previousCookie &&
      Date.now() < this.previousUntil
    ) {
      return undefined;
    }
    return "Registration is stale or unknown";
  }
}
