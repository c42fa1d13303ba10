// SPDX-License-Identifier: Apache-2.0
/**
 * Knobs of the reference server's MSNP24 side. Every choice PROFILE.md marks [A] is one of these,
 * so a real server's behaviour can be matched later without code changes. All can be changed at
 * run time (`MsnpServer.setOptions`, control route `POST /msnp/knobs`).
 */
import { SKYPE_PRODUCT_ID, SKYPE_PRODUCT_KEY } from "./cs64.js";

/** How the registration cookie is rotated. */
export type CookieRotation = "never" | "per-reply" | { intervalMs: number };

/** The knobs; every field is documented with its default. */
export interface MsnpServerOptions {
  /** Seconds put in the PNG reply's `<wait>` [A]. Default 50. */
  pingWait: number;
  /** Root element of the PNG reply body [A]. Default `ping-response`. */
  pingResponseRoot: string;
  /** Root element of the BND reply body [A]. Default `msgr-response`. */
  bndResponseRoot: string;
  /**
   * Whether the BND reply carries a `<nonce>` that must be answered with `PUT MSGR\CHALLENGE`
   * before any other MSGR command (those get `715`); a wrong answer gets `540` and a close.
   * Default false (PROFILE: the nonce is optional).
   */
  requireChallenge: boolean;
  /** Product id expected in `<appId>` of the challenge answer. Default `PROD0090YUAUV{2B`. */
  challengeProductId: string;
  /** Product key used to compute the expected challenge answer. Default `YMM8C_H7KCQ2S_KL`. */
  challengeProductKey: string;
  /**
   * Registration cookie rotation: `never`; `per-reply` (a new `Set-Registration` on every reply
   * to PUT, DEL, GET and PNG); or `{ intervalMs }` (on the first such reply once the cookie is
   * that old). Default `never`.
   */
  rotateCookie: CookieRotation;
  /** How long a rotated-out cookie stays valid, unless the new one is used first. Default 5000 ms. */
  cookieGraceMs: number;
  /** Error code for a missing or stale `Registration` [A]. Default 715. */
  registrationErrorCode: number;
  /**
   * Body of PUT/DEL replies [A]: `top-block` = `PUT n MSGR 2` (just the empty top block),
   * `zero-length` = `PUT n MSGR 0` (when no `Set-Registration` must be carried). Default `top-block`.
   */
  emptyReplyStyle: "top-block" | "zero-length";
  /** Delay before each client command is processed (so every reply is late), in ms. Default 0. */
  replyDelayMs: number;
  /** Server maximum page size of `MESSAGESBYCONVERSATION` / `RECENTCONVERSATIONS`. Default 100. */
  pageSize: number;
  /** Largest accepted payload in bytes; a larger one is a framing error (`200` + close). Default 1 MiB. */
  maxFrameBytes: number;
  /** Failed `ATH` attempts in a row after which the connection is closed. Default 3 (PROFILE §5). */
  maxAuthFailures: number;
  /**
   * `From` of `ThreadActivity/*` messages: the thread id (`thread`) or the initiator's MRI
   * (`initiator`). PROFILE is silent. Default `thread`.
   */
  threadActivityFrom: "thread" | "initiator";
  /** Unacknowledged pushes kept per endpoint for re-sending; the oldest are dropped. Default 1000. */
  maxUnackedPerEndpoint: number;
  /** TLS key and certificate (PEM). When both are set the listener speaks TLS. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** The defaults listed on each option. */
export const DEFAULT_OPTIONS: MsnpServerOptions = {
  pingWait: 50,
  pingResponseRoot: "ping-response",
  bndResponseRoot: "msgr-response",
  requireChallenge: false,
  challengeProductId: SKYPE_PRODUCT_ID,
  challengeProductKey: SKYPE_PRODUCT_KEY,
  rotateCookie: "never",
  cookieGraceMs: 5000,
  registrationErrorCode: 715,
  emptyReplyStyle: "top-block",
  replyDelayMs: 0,
  pageSize: 100,
  maxFrameBytes: 1024 * 1024,
  maxAuthFailures: 3,
  threadActivityFrom: "thread",
  maxUnackedPerEndpoint: 1000,
};

/** Thrown by `checkOptions` for an unusable knob value. */
export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

const XML_NAME = /^[A-Za-z_][\w.-]*$/;

function nonNegative(name: string, v: unknown, integer = true): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new OptionsError(`${name} must be a non-negative ${integer ? "integer" : "number"}`);
  }
}

/** Validates a partial set of knobs (values from the control API are untyped JSON). */
export function checkOptions(o: Partial<MsnpServerOptions>): void {
  for (const k of Object.keys(o)) {
    if (!(k in DEFAULT_OPTIONS) && k !== "tls") throw new OptionsError(`unknown option ${k}`);
  }
  for (const k of ["pingWait", "cookieGraceMs", "replyDelayMs"] as const) {
    if (o[k] !== undefined) nonNegative(k, o[k]);
  }
  for (const k of ["pageSize", "maxFrameBytes", "maxAuthFailures", "maxUnackedPerEndpoint"] as const) {
    if (o[k] !== undefined) {
      nonNegative(k, o[k]);
      if (o[k] < 1) throw new OptionsError(`${k} must be at least 1`);
    }
  }
  for (const k of ["pingResponseRoot", "bndResponseRoot"] as const) {
    if (o[k] !== undefined && (typeof o[k] !== "string" || !XML_NAME.test(o[k]))) {
      throw new OptionsError(`${k} must be an XML element name`);
    }
  }
  for (const k of ["challengeProductId", "challengeProductKey"] as const) {
    if (o[k] !== undefined && (typeof o[k] !== "string" || !o[k]))
      throw new OptionsError(`${k} must be a string`);
  }
  if (o.requireChallenge !== undefined && typeof o.requireChallenge !== "boolean") {
    throw new OptionsError("requireChallenge must be a boolean");
  }
  if (o.registrationErrorCode !== undefined) {
    const c = o.registrationErrorCode;
    if (!Number.isInteger(c) || c < 100 || c > 999)
      throw new OptionsError("registrationErrorCode must be 3 digits");
  }
  const r = o.rotateCookie;
  if (r !== undefined && r !== "never" && r !== "per-reply") {
    if (typeof r !== "object" || r === null)
      throw new OptionsError("rotateCookie: never, per-reply or {intervalMs}");
    nonNegative("rotateCookie.intervalMs", r.intervalMs);
  }
  if (o.emptyReplyStyle !== undefined && !["top-block", "zero-length"].includes(o.emptyReplyStyle)) {
    throw new OptionsError("emptyReplyStyle must be top-block or zero-length");
  }
  if (o.threadActivityFrom !== undefined && !["thread", "initiator"].includes(o.threadActivityFrom)) {
    throw new OptionsError("threadActivityFrom must be thread or initiator");
  }
  if (o.tls !== undefined && (typeof o.tls !== "object" || !o.tls.key || !o.tls.cert)) {
    throw new OptionsError("tls needs key and cert");
  }
}
