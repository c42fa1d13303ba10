// SPDX-License-Identifier: Apache-2.0
/**
 * Routes a client frame to its handler after the gates of PROFILE §3/§5: after `BND` every frame
 * but `OUT` (including `PNG` and `ACK`) needs a current `Registration` (else `715`, knob
 * `registrationErrorCode`); MSGR commands before `BND`, or before a required challenge is
 * answered, get the same code. Unknown commands get `201`.
 */
import { ReplyError, type MsnpConnection } from "./connection.js";
import type { Frame } from "./frame.js";
import type { MsnpHub } from "./hub.js";
import { handleConsumptionHorizon } from "./horizons.js";
import { handleAth, handleBnd, handleChallenge, handleCnt, handleOut, handlePng } from "./login.js";
import { handleAck, handleSdg } from "./messaging.js";
import { handleContacts, handleOtherPut, handlePresence, handleSubscriptions } from "./publish.js";
import {
  handleDelThread,
  handleMessagesByConversation,
  handlePutThread,
  handleRecentConversations,
  handleThreads,
} from "./queries.js";

type Handler = (hub: MsnpHub, conn: MsnpConnection, frame: Frame) => void;

/** Connection-level commands, whatever their type token. */
const CON_ROUTES = new Map<string, Handler>([
  ["CNT", handleCnt],
  ["ATH", handleAth],
  ["BND", handleBnd],
  ["PNG", handlePng],
]);

/** MSGR commands by `CMD TYPE` (type upper-cased). */
const MSGR_ROUTES = new Map<string, Handler>([
  ["PUT MSGR\\CHALLENGE", handleChallenge],
  ["PUT MSGR\\CONSUMPTIONHORIZON", handleConsumptionHorizon],
  ["PUT MSGR\\PRESENCE", handlePresence],
  ["PUT MSGR\\CONTACTS", handleContacts],
  ["DEL MSGR\\CONTACTS", handleContacts],
  ["PUT MSGR\\SUBSCRIPTIONS", handleSubscriptions],
  ["DEL MSGR\\SUBSCRIPTIONS", handleSubscriptions],
  ["GET MSGR\\RECENTCONVERSATIONS", handleRecentConversations],
  ["GET MSGR\\MESSAGESBYCONVERSATION", handleMessagesByConversation],
  ["GET MSGR\\THREADS", handleThreads],
  ["PUT MSGR\\THREAD", handlePutThread],
  ["DEL MSGR\\THREAD", handleDelThread],
  ["SDG MSGR", handleSdg],
  ["ACK MSGR", handleAck],
]);

function msgrRoute(cmd: string, type: string): Handler | undefined {
  const exact = MSGR_ROUTES.get(`${cmd} ${type}`);
  if (exact) return exact;
  if ((cmd === "PUT" || cmd === "DEL") && type.startsWith("MSGR\\")) return handleOtherPut;
  return undefined;
}

/** Handles one client frame; throws ReplyError / typed errors that the connection turns into replies. */
export function dispatch(conn: MsnpConnection, frame: Frame): void {
  const hub = conn.hub;
  if (frame.cmd === "OUT") return handleOut(hub, conn);
  const type = frame.type.toUpperCase();
  const con = CON_ROUTES.get(frame.cmd);
  const handler = con ?? msgrRoute(frame.cmd, type);
  if (!handler) throw new ReplyError(201, `Unknown command ${frame.cmd} ${frame.type}`);
  const code = hub.options.registrationErrorCode;
  if (conn.bound) {
    const problem = conn.registrationProblem(frame.headers);
    if (problem) throw new ReplyError(code, problem);
  } else if (!con) {
    throw new ReplyError(code, "Not registered: BND first");
  }
  if (!con && conn.challenge && !conn.challenge.answered && type !== "MSGR\\CHALLENGE") {
    throw new ReplyError(code, "Challenge not answered");
  }
  handler(hub, conn, frame);
}
