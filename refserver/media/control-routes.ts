// SPDX-License-Identifier: Apache-2.0
/**
 * Control routes for media and quotes (PROFILE §6, §7.2–§7.4), loopback JSON like the others.
 * Binary content travels as base64 (`contentBase64`). `from`/`owner` accept an e-mail, a Skype name
 * or an MRI (an MRI is used verbatim as `From`); `to` is the recipient MRI as it should appear on the
 * wire, or a thread id (an e-mail or Skype name stands for the person's `8:` identity).
 *
 * - `POST /media/send {from, to, kind: "image"|"file", name, contentBase64, mime?, thumbnailBase64?}`
 *   → `{messageId, clientMessageId, objectId, uri}`: as a real client would, creates the object with
 *   the conversation as `from` sees it (`to`) in `permissions`, uploads it (and the thumbnail, if
 *   given), then sends the §7.3 URIObject message (stored in history like any message).
 * - `POST /media/object {owner, type: "pish/image"|"sharing/file", filename?, permissions?: string[],
 *   contentBase64?, mime?}` → `{id, uri}`: creates an object without a message; without content its
 *   views stay `none`.
 * - `GET /media/object?id=` → `{id, type, creator, creatorKey, filename, permissions, createdAt,
 *   views: {<view>: {size, sha256, contentType, ready}}, contentBase64}` (the uploaded image or file;
 *   null before the upload), or 404: what a client uploaded.
 * - `POST /media/quote {from, to, messageId, text, kind?: "text"|"richtext"}` → `{messageId,
 *   clientMessageId}`: `from` replies in conversation `to` with a §7.4 quote of stored message
 *   `messageId` followed by `text` (plain text, escaped, unless `kind` is `richtext`); unknown → 404.
 *
 * Errors: 400 bad input, 404 unknown person / thread / message / object, 403 not a thread member.
 */
import { ControlError, optionalString, requiredString, type ControlApi } from "../control.js";
import { base64Field } from "../http/control-routes.js";
import type { HttpServerOptions } from "../http/options.js";
import { bareMri } from "../msnp/frame.js";
import type { MsnpServer } from "../msnp/server.js";
import { escapeXml } from "../msnp/xml.js";
import type { World } from "../world.js";
import { URIOBJECT_MESSAGE_TYPE, quoteXml, uriObjectXml } from "./markup.js";
import { isObjectType, sha256, sniffContentType, viewContent, viewNames, type AmsObject } from "./objects.js";

const str = requiredString;
const optStr = optionalString;

export interface MediaRouteDeps {
  world: World;
  msnp: MsnpServer;
  /** The HTTP side's live options (readiness knobs). */
  httpOptions: HttpServerOptions;
  /** `{ams}`, without a trailing slash. */
  amsBase: () => string;
}

/** Registers `/media/...` on the control API. */
export function registerMediaRoutes(control: ControlApi, deps: MediaRouteDeps): void {
  const { world, msnp } = deps;
  const personOf = (id: string): NonNullable<ReturnType<World["find"]>> => {
    const p = world.find(id);
    if (!p) throw new ControlError(404, `unknown person ${id}`);
    return p;
  };
  /** `to` as on the wire: an MRI or thread id verbatim, an e-mail or Skype name as the person's `8:`. */
  const wireTo = (to: string): string => {
    const t = to.trim();
    if (/^\d+:/.test(t)) return t;
    return world.primaryMri(personOf(t));
  };
  const uriOf = (o: AmsObject): string => `${deps.amsBase()}/v1/objects/${o.id}`;
  const upload = (o: AmsObject, slot: "full" | "thumbnail", bytes: Buffer, mime?: string): void => {
    o[slot] = { bytes, contentType: sniffContentType(bytes, mime), uploadedAt: world.now() };
  };

  control.route("POST", "/media/send", (b) => {
    const kind = b.kind;
    if (kind !== "image" && kind !== "file") throw new ControlError(400, 'kind must be "image" or "file"');
    const from = str(b, "from");
    const to = wireTo(str(b, "to"));
    const name = str(b, "name");
    const sender = personOf(from);
    const content = base64Field(b, "contentBase64");
    const thumbnail = b.thumbnailBase64 === undefined ? undefined : base64Field(b, "thumbnailBase64");
    const o = world.objects.create({
      creator: sender.key,
      type: kind === "image" ? "pish/image" : "sharing/file",
      permissions: { [bareMri(to)]: ["read"] },
      filename: kind === "file" ? name : undefined,
      now: world.now(),
    });
    upload(o, "full", content, optStr(b, "mime"));
    if (thumbnail) upload(o, "thumbnail", thumbnail);
    const sent = msnp.sendRaw({
      from,
      to,
      messageType: URIOBJECT_MESSAGE_TYPE[kind],
      contentType: "application/user+xml",
      body: uriObjectXml({ kind, amsBase: deps.amsBase(), id: o.id, name, size: content.length }),
    });
    return { ...sent, objectId: o.id, uri: uriOf(o) };
  });

  control.route("POST", "/media/object", (b) => {
    const owner = personOf(str(b, "owner"));
    if (!isObjectType(b.type)) throw new ControlError(400, 'type must be "pish/image" or "sharing/file"');
    const perms = b.permissions ?? [];
    if (!Array.isArray(perms) || !perms.every((p) => typeof p === "string" && p))
      throw new ControlError(400, "permissions must be a list of conversation ids");
    const o = world.objects.create({
      creator: owner.key,
      type: b.type,
      permissions: Object.fromEntries((perms as string[]).map((p) => [p, ["read"]])),
      filename: optStr(b, "filename"),
      now: world.now(),
    });
    if (b.contentBase64 !== undefined) upload(o, "full", base64Field(b, "contentBase64"), optStr(b, "mime"));
    return { id: o.id, uri: uriOf(o) };
  });

  control.route("GET", "/media/object", (_b, q) => {
    const o = world.objects.get(q.get("id") ?? "");
    if (!o) throw new ControlError(404, "no such object");
    const creator = world.people.get(o.creator);
    const views: Record<string, { size: number; sha256: string; contentType: string; ready: boolean }> = {};
    for (const view of viewNames(o.type)) {
      const c = viewContent(o, view);
      if (!c) continue;
      const ready =
        !deps.httpOptions.ams_never_ready &&
        world.now() >= c.uploadedAt + deps.httpOptions.ams_view_ready_delay_ms;
      views[view] = { size: c.bytes.length, sha256: sha256(c.bytes), contentType: c.contentType, ready };
    }
    return {
      id: o.id,
      type: o.type,
      creator: creator ? world.primaryMri(creator) : o.creator,
      creatorKey: o.creator,
      filename: o.filename ?? null,
      permissions: o.permissions,
      createdAt: o.createdAt,
      views,
      contentBase64: o.full ? o.full.bytes.toString("base64") : null,
    };
  });

  control.route("POST", "/media/quote", (b) => {
    const from = str(b, "from");
    const to = wireTo(str(b, "to"));
    const text = b.text;
    if (typeof text !== "string") throw new ControlError(400, "text must be a string");
    const kind = optStr(b, "kind") ?? "text";
    if (kind !== "text" && kind !== "richtext")
      throw new ControlError(400, 'kind must be "text" or "richtext"');
    const id = Number(b.messageId);
    if (!Number.isSafeInteger(id) || id <= 0) throw new ControlError(400, "messageId must be a Message-ID");
    const quoted = msnp.storedMessage({ owner: from, conversation: to, messageId: id });
    if (!quoted) throw new ControlError(404, `no message ${id} in ${to}`);
    const m = quoted.message;
    const authorName = m.imDisplayName || world.find(m.from)?.displayName || m.from;
    const body = quoteXml({
      author: m.from,
      authorName,
      arrival: m.arrival,
      conversation: bareMri(to),
      messageId: m.id,
      quotedRichText: /^richtext/i.test(m.messageType) ? m.content : escapeXml(m.content),
      replyRichText: kind === "richtext" ? text : escapeXml(text),
    });
    return msnp.sendRaw({ from, to, messageType: "RichText", contentType: "application/user+xml", body });
  });
}
