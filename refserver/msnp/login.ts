// SPDX-License-Identifier: Apache-2.0
/**
 * Login and connection upkeep (PROFILE §3 "Login", "Keepalive", §5 MSNP24; REFERENCE §4.3.2,
 * §4.3.3): `CNT` → nonce; `ATH` with the ssl.live.com ticket and the UIC bound to that nonce
 * (`911` + reason on failure, close after `maxAuthFailures` in a row; may be repeated for the same
 * account); `BND` → `Set-Registration` (+ `<nonce>` when the challenge is required; a second BND
 * on a connected epid sends the old connection `OUT 0 CON` `OTH`); `PUT MSGR\CHALLENGE` (`540` +
 * close when wrong); `PNG` → `<wait>`; client `OUT` closes.
 */
import { randomInt, randomUUID } from "node:crypto";
import { SCOPES } from "../world.js";
import { ReplyError, type MsnpConnection } from "./connection.js";
import { normaliseEpid, type Frame } from "./frame.js";
import type { MsnpHub } from "./hub.js";
import { challengeAnswer } from "./cs64.js";
import { childText, parseXml, tag, XmlParseError, type XmlElement } from "./xml.js";

function bodyXml(frame: Frame): XmlElement | undefined {
  const text = frame.body.toString("utf8");
  return text.trim() ? parseXml(text) : undefined;
}

/** `CNT n CON` → `<connect-response>` with a fresh nonce (any `<connect>` is accepted). */
export function handleCnt(_hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  bodyXml(frame);
  conn.nonce = randomUUID();
  conn.reply(
    frame,
    `<connect-response><ver>2</ver><qostest>false</qostest>${tag("nonce", conn.nonce)}</connect-response>`,
  );
}

/** Strips the `t=` prefix and a `&p=…` suffix of a compact ticket. */
function ticketToken(ticket: string): string {
  return ticket.replace(/^t=/, "").replace(/&p=[^&]*$/, "");
}

/** Why the ATH payload does not sign in; undefined on success (then `conn.person` is set). */
function authenticate(hub: MsnpHub, conn: MsnpConnection, frame: Frame): string | undefined {
  if (!conn.nonce) return "no CNT nonce on this connection";
  let user: XmlElement | undefined;
  try {
    user = bodyXml(frame);
  } catch (e) {
    if (e instanceof XmlParseError) return "malformed user document";
    throw e;
  }
  if (!user || user.name.toLowerCase() !== "user") return "no user document";
  const ticket = childText(user, "ssl-compact-ticket");
  if (!ticket) return "no ticket";
  const access = hub.world.checkAccess(ticketToken(ticket), SCOPES.ath);
  if (!access.ok) return `ticket ${access.reason.replace("_", " ")}`;
  const person = access.person;
  const uic = childText(user, "uic");
  if (!uic || hub.world.checkUic(uic, conn.nonce) !== person)
    return "UIC not valid for this nonce and account";
  const id = childText(user, "id");
  if (!id || hub.find(id) !== person) return "id does not match the ticket";
  const alias = childText(user, "alias");
  if (alias && hub.find(alias) !== person) return "alias does not match the ticket";
  if (conn.person && conn.person !== person) return "another account is signed in on this connection";
  conn.person = person;
  conn.identities = hub.world.identities(person);
  return undefined;
}

/** `ATH n CON\USER`. */
export function handleAth(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const problem = authenticate(hub, conn, frame);
  if (problem) {
    conn.authFailures++;
    const last = conn.authFailures >= hub.options.maxAuthFailures;
    hub.log.info("msnp authentication failed", {
      conn: conn.id,
      reason: problem,
      failures: conn.authFailures,
    });
    throw new ReplyError(911, `Authentication failed: ${problem}`, last);
  }
  conn.authFailures = 0;
  const plan = hub.pendingDrops.get(conn.person!.key);
  if (plan) {
    hub.pendingDrops.delete(conn.person!.key);
    conn.planDrop(plan);
  }
  hub.log.info("msnp signed in", { conn: conn.id, user: conn.person!.key });
  conn.reply(
    frame,
    "<auth-response><new-thread-allowed>false</new-thread-allowed>" +
      "<p2p-migration-allowed>false</p2p-migration-allowed></auth-response>",
  );
}

/** `BND n CON\MSGR` with `<epid>`. */
export function handleBnd(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  if (!conn.person) throw new ReplyError(911, "Authentication required before BND");
  if (conn.bound) throw new ReplyError(201, "this connection is already bound");
  const msgr = bodyXml(frame);
  const raw = childText(msgr, "epid");
  if (!raw || !normaliseEpid(raw)) throw new ReplyError(201, "BND needs an epid");
  const epid = normaliseEpid(raw);
  for (const other of hub.connectionsOf(conn.person.key)) {
    if (other !== conn && other.epid === epid) {
      hub.log.info("msnp endpoint signed in elsewhere", { conn: other.id, user: conn.person.key });
      other.sendOut("OTH");
    }
  }
  conn.epid = epid;
  conn.bound = true;
  hub.bound(conn);
  const cookie = conn.issueCookie();
  let nonce = "";
  if (hub.options.requireChallenge) {
    const value = Array.from({ length: 20 }, () => randomInt(10)).join("");
    conn.challenge = { value, answered: false };
    nonce = tag("nonce", value);
  }
  const root = hub.options.bndResponseRoot;
  conn.reply(frame, `<${root}>${nonce}</${root}>`, [["Set-Registration", cookie]]);
}

/** `PUT n MSGR\CHALLENGE`: the CS64 answer to the BND nonce. */
export function handleChallenge(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const pending = conn.challenge;
  if (pending && !pending.answered) {
    let ok = false;
    try {
      const doc = bodyXml(frame);
      const expected = challengeAnswer(
        pending.value,
        hub.options.challengeProductId,
        hub.options.challengeProductKey,
      );
      ok =
        childText(doc, "appId") === hub.options.challengeProductId &&
        (childText(doc, "response") ?? "").toLowerCase() === expected;
    } catch (e) {
      if (!(e instanceof XmlParseError)) throw e;
    }
    if (!ok) throw new ReplyError(540, "Challenge failed", true);
    pending.answered = true;
  }
  conn.reply(frame);
}

/** `PNG n CON` → `<ping-response><wait>…</wait></ping-response>`. */
export function handlePng(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const root = hub.options.pingResponseRoot;
  conn.reply(frame, `<${root}>${tag("wait", hub.options.pingWait)}</${root}>`);
}

/** Client `OUT`: close the connection. */
export function handleOut(_hub: MsnpHub, conn: MsnpConnection): void {
  conn.end();
}
