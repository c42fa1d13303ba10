// SPDX-License-Identifier: Apache-2.0
/**
 * Control routes of the MSNP side (loopback HTTP, JSON in and out; see ../control.ts).
 */
import { ControlError, optionalString, requiredString, type ControlApi } from "../control.js";
import type { MsnpServer } from "./server.js";
import type { MemberSpec } from "./thread-ops.js";
import { OptionsError, type MsnpServerOptions } from "./options.js";

type Body = Record<string, unknown>;

const str = requiredString;
const optStr = optionalString;

function text(body: Body, name: string): string {
  const v = body[name];
  if (typeof v !== "string") throw new ControlError(400, `${name} must be a string`);
  return v;
}

function members(body: Body): MemberSpec[] {
  const v = body.members;
  if (!Array.isArray(v)) throw new ControlError(400, "members must be an array");
  return v.map((m: unknown) => {
    if (typeof m === "string") return { mri: m };
    if (m && typeof m === "object" && typeof (m as Body).mri === "string") {
      const role = (m as Body).role;
      if (role !== undefined && typeof role !== "string")
        throw new ControlError(400, "role must be a string");
      return { mri: (m as Body).mri as string, role };
    }
    throw new ControlError(400, "each member is an MRI or {mri, role}");
  });
}

/** A yes/no query parameter: `1` or `true` (anything else, or absent, is no). */
function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  return v === "1" || v === "true";
}

function kind(body: Body): "text" | "richtext" | "emote" | undefined {
  const k = optStr(body, "kind");
  if (k === undefined || k === "text" || k === "richtext" || k === "emote") return k;
  throw new ControlError(400, "kind must be text, richtext or emote");
}

/**
 * Registers the MSNP control routes:
 *
 * - `POST /msnp/send` `{from, to, text, kind?: "text"|"richtext"|"emote", clientMessageId?, displayName?}`
 *   → `{messageId, clientMessageId}`: a contact sends to a user (`to` = the MRI as it should
 *   appear on the wire) or a thread. `from` is an MRI used verbatim or an e-mail / Skype name.
 * - `POST /msnp/send-raw` `{from, to, messageType, contentType?, body, clientMessageId?, displayName?}`
 *   → `{messageId, clientMessageId}`: a message with any `Message-Type` and body, sent as given (a
 *   URIObject pointing elsewhere, a broken quote, …). `contentType` defaults to `application/user+xml`
 *   for `RichText*`, else `Text/plain; charset=UTF-8`; header values must not contain line breaks.
 * - `POST /msnp/edit` `{from, to, editedId, text}` → `{messageId, clientMessageId}`: an edit
 *   (`Skype-EditedId` = the original Client-Message-ID).
 * - `POST /msnp/delete` `{from, to, editedId}` → same: an edit with an empty body.
 * - `POST /msnp/typing` `{from, to, stop?}` → `{}`: `Control/Typing` (or `Control/ClearTyping`).
 * - `POST /msnp/presence` `{user, status, mood?}` → `{}`: status `NLN|BSY|AWY|IDL|HDN` or `offline`.
 * - `POST /msnp/thread/create` `{as, members: (mri | {mri, role})[], topic?}` → `{id}`.
 * - `POST /msnp/thread/add` `{as, thread, members}` → `{}`: add members or change roles.
 * - `POST /msnp/thread/remove` `{as, thread, members: mri[]}` → `{}`: kick, or leave when it is `as`.
 * - `POST /msnp/thread/topic` `{as, thread, topic}` → `{}`.
 * - `GET /msnp/threads` → `{threads}`.
 * - `POST /msnp/drop` `{user, afterFrames?, out?: "OTH"|"SSD"}` → `{connections}`: cut the user's
 *   connections now, or after that many more client frames (the next connection's, if none is open).
 * - `POST /msnp/drop-all` `{out?: "OTH"|"SSD"}` → `{connections}`: cut every open connection at once
 *   (a server outage: every client reconnects at the same moment), with `OUT` first when `out` is given.
 * - `GET /msnp/messages?user=&conversation=` → `{messages}`: stored history (all when no user).
 * - `GET /msnp/received?user=` → `{messages}`: every SDG clients sent (Control/* included).
 * - `GET /msnp/endpoints` → `{endpoints}`: open connections with epid, subscriptions, unacked count.
 *   `?ready=1` lists only ready endpoints (bound, any challenge answered); `?ids=1`
 *   answers `{identities}` instead: the distinct identities of the listed endpoints, without the
 *   views (each of which holds the contact list), for polling many connections.
 * - `POST /msnp/read` `{user, conversation, messageId}` → `{}`: `user` marks `conversation` (a thread
 *   id, or the other party as `user` names them; an e-mail or Skype name stands for their `8:`) read
 *   up to `messageId` (PROFILE §7.5); the horizon
 *   is `{messageId};{now ms};{its Client-Message-ID, else messageId}`, pushed as `NFY
 *   MSGR\CONSUMPTIONHORIZON` to the user's endpoints and the other members'.
 * - `GET /msnp/horizons?conversation=&user=` → `{horizons: [{user, reader, conversation, horizon,
 *   messageId, at}]}`: the latest horizon each reader set (`user` = the reader's identity,
 *   `conversation` = as the reader named it); `conversation` matches any id naming the same
 *   conversation (either identity of a person), `user` any identity of the reader.
 * - `GET /msnp/knobs` → the knobs; `POST /msnp/knobs` `{…partial MsnpServerOptions}` → the knobs.
 *
 * Errors: 400 bad input, 403 not permitted, 404 unknown person / thread / member.
 */
export function registerMsnpControlRoutes(control: ControlApi, server: MsnpServer): void {
  control.route("POST", "/msnp/send", (b) =>
    server.sendMessage({
      from: str(b, "from"),
      to: str(b, "to"),
      text: text(b, "text"),
      kind: kind(b),
      clientMessageId: optStr(b, "clientMessageId"),
      displayName: optStr(b, "displayName"),
    }),
  );
  control.route("POST", "/msnp/send-raw", (b) =>
    server.sendRaw({
      from: str(b, "from"),
      to: str(b, "to"),
      messageType: str(b, "messageType"),
      contentType: optStr(b, "contentType"),
      body: text(b, "body"),
      clientMessageId: optStr(b, "clientMessageId"),
      displayName: optStr(b, "displayName"),
    }),
  );
  control.route("POST", "/msnp/edit", (b) =>
    server.editMessage({
      from: str(b, "from"),
      to: str(b, "to"),
      editedId: str(b, "editedId"),
      text: text(b, "text"),
    }),
  );
  control.route("POST", "/msnp/delete", (b) =>
    server.deleteMessage({ from: str(b, "from"), to: str(b, "to"), editedId: str(b, "editedId") }),
  );
  control.route("POST", "/msnp/typing", (b) => {
    server.sendTyping({ from: str(b, "from"), to: str(b, "to"), stop: b.stop === true });
    return {};
  });
  control.route("POST", "/msnp/presence", (b) => {
    server.setPresence({ user: str(b, "user"), status: str(b, "status"), mood: optStr(b, "mood") });
    return {};
  });
  registerThreadRoutes(control, server);
  control.route("POST", "/msnp/drop", (b) => {
    const after = b.afterFrames;
    if (after !== undefined && typeof after !== "number")
      throw new ControlError(400, "afterFrames must be a number");
    const out = optStr(b, "out");
    if (out !== undefined && out !== "OTH" && out !== "SSD")
      throw new ControlError(400, "out must be OTH or SSD");
    return server.dropUser({ user: str(b, "user"), afterFrames: after, out });
  });
  control.route("POST", "/msnp/drop-all", (b) => {
    const out = optStr(b, "out");
    if (out !== undefined && out !== "OTH" && out !== "SSD")
      throw new ControlError(400, "out must be OTH or SSD");
    return server.dropEveryone({ out });
  });
  control.route("GET", "/msnp/messages", (_b, q) => ({
    messages: server.storedMessages({
      user: q.get("user") ?? undefined,
      conversation: q.get("conversation") ?? undefined,
    }),
  }));
  control.route("GET", "/msnp/received", (_b, q) => ({
    messages: server.receivedMessages({ user: q.get("user") ?? undefined }),
  }));
  control.route("POST", "/msnp/read", (b) => {
    const id = Number(b.messageId);
    if (!Number.isSafeInteger(id) || id < 0) throw new ControlError(400, "messageId must be a Message-ID");
    server.read({ user: str(b, "user"), conversation: str(b, "conversation"), messageId: id });
    return {};
  });
  control.route("GET", "/msnp/horizons", (_b, q) => ({
    horizons: server.horizons({
      conversation: q.get("conversation") || undefined,
      user: q.get("user") || undefined,
    }),
  }));
  control.route("GET", "/msnp/endpoints", (_b, q) => {
    const all = server.endpoints();
    const endpoints = flag(q, "ready") ? all.filter((e) => e.ready) : all;
    if (!flag(q, "ids")) return { endpoints };
    return { identities: [...new Set(endpoints.flatMap((e) => e.identities))] };
  });
  control.route("GET", "/msnp/knobs", () => knobsView(server.options));
  control.route("POST", "/msnp/knobs", (b) => {
    if ("tls" in b) throw new ControlError(400, "tls cannot be changed at run time");
    try {
      return knobsView(server.setOptions(b));
    } catch (e) {
      if (e instanceof OptionsError) throw new ControlError(400, e.message);
      throw e;
    }
  });
}

function registerThreadRoutes(control: ControlApi, server: MsnpServer): void {
  control.route("POST", "/msnp/thread/create", (b) =>
    server.createThread({ as: str(b, "as"), members: members(b), topic: optStr(b, "topic") }),
  );
  control.route("POST", "/msnp/thread/add", (b) => {
    server.addMembers({ as: str(b, "as"), thread: str(b, "thread"), members: members(b) });
    return {};
  });
  control.route("POST", "/msnp/thread/remove", (b) => {
    server.removeMembers({
      as: str(b, "as"),
      thread: str(b, "thread"),
      members: members(b).map((m) => m.mri),
    });
    return {};
  });
  control.route("POST", "/msnp/thread/topic", (b) => {
    server.setTopic({ as: str(b, "as"), thread: str(b, "thread"), topic: text(b, "topic") });
    return {};
  });
  control.route("GET", "/msnp/threads", () => ({ threads: server.threads() }));
}

/** The knobs without TLS key material. */
function knobsView(o: MsnpServerOptions): Omit<MsnpServerOptions, "tls"> & { tls: boolean } {
  const { tls, ...rest } = o;
  return { ...rest, tls: !!tls };
}
