// SPDX-License-Identifier: Apache-2.0
/**
 * The MSNP24 login (PROFILE §3 "Login", §5; REFERENCE §4.3.2): `CNT` → wait for the nonce →
 * `ATH` (ticket, UIC bound to that nonce, e-mail, Skype name) → `BND` with the epid →
 * `PUT MSGR\CHALLENGE` when the BND reply carries a nonce. Online after that.
 */
import { ProtocolParseError, SkypeErrorCode } from "../errors.js";
import type { MsnpConnection } from "./connection.js";
import { cs64Response } from "./cs64.js";
import { bodyText } from "./framing.js";
import { challengeXml, connectXml, msgrXml, userXml } from "./payloads.js";
import type { MsnpCredentials } from "./types.js";
import { findFirst, parseXml } from "../xml.js";

/** Where an `XFR` reply sends the client. */
export interface Redirect {
  host: string;
  port: number;
  state?: string;
}

/** The result of a login attempt on one connection. */
export type LoginOutcome = { kind: "online"; nonce: string } | { kind: "redirect"; redirect: Redirect };

/** Parses an `XFR` body (`<target>host:port</target>`, `<state>`). */
export function parseRedirect(xml: string): Redirect {
  const doc = parseXml(xml);
  const target = findFirst(doc, "target")?.text.trim() ?? "";
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(target);
  if (!m) throw new ProtocolParseError(SkypeErrorCode.Parse, "XFR without a usable <target>");
  const state = findFirst(doc, "state")?.text;
  const r: Redirect = { host: m[1]!, port: Number(m[2]) };
  if (state !== undefined) r.state = state;
  return r;
}

/** Sends `CNT` and returns the nonce, or the redirect. */
async function connectStep(conn: MsnpConnection, xfrState?: string): Promise<LoginOutcome> {
  const reply = await conn.request("CNT", "CON", { body: connectXml(xfrState) }, false);
  if (reply.command === "XFR") return { kind: "redirect", redirect: parseRedirect(bodyText(reply)) };
  const text = bodyText(reply).trim();
  const nonce = text ? findFirst(parseXml(text), "nonce")?.text.trim() : undefined;
  return { kind: "online", nonce: nonce ?? "" };
}

/**
 * Sends `ATH` with a fresh ticket and a UIC for `nonce`. Used at login and to re-authenticate
 * on a live connection (then the registration cookie is included).
 * @throws whatever the credentials throw; MsnpError 911 when the server refuses.
 */
export async function authenticate(
  conn: MsnpConnection,
  creds: MsnpCredentials,
  nonce: string,
  withRegistration: boolean,
): Promise<void> {
  const ticket = await creds.getTicket();
  const uic = await creds.getUic(nonce);
  await conn.request(
    "ATH",
    "CON\\USER",
    { body: userXml(ticket, uic, creds.email, creds.skypename) },
    withRegistration,
  );
}

/**
 * Runs the whole login on a fresh connection.
 * @throws MsnpError (911 bad credentials, 540 wrong challenge, …), the credentials' errors,
 *   ProtocolParseError on a malformed reply, SkypeError `SKYPE_NETWORK` on timeout or close.
 */
export async function login(
  conn: MsnpConnection,
  creds: MsnpCredentials,
  epid: string,
  xfrState?: string,
): Promise<LoginOutcome> {
  const cnt = await connectStep(conn, xfrState);
  if (cnt.kind === "redirect") return cnt;
  await authenticate(conn, creds, cnt.nonce, false);
  const bnd = await conn.request("BND", "CON\\MSGR", { body: msgrXml(epid) }, false);
  if (conn.registration === undefined) {
    throw new ProtocolParseError(SkypeErrorCode.MsnpFraming, "BND reply without Set-Registration");
  }
  const text = bodyText(bnd).trim();
  const challenge = text ? findFirst(parseXml(text), "nonce")?.text.trim() : undefined;
  if (challenge) {
    await conn.request("PUT", "MSGR\\CHALLENGE", { body: challengeXml(cs64Response(challenge)) });
  }
  return cnt;
}
