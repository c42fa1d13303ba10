// SPDX-License-Identifier: Apache-2.0
/**
 * The ActiveSync endpoint `/Microsoft-Server-ActiveSync` (REFERENCE §11, PROFILE §4, §5): only the
 * base64 query form, `Authorization: RPSToken <m.hotmail.com token>`, WBXML bodies, the commands
 * `FolderSync` and `Sync` (others: 501). `OPTIONS` answers the supported versions and commands.
 */
import { SCOPES } from "../world.js";
import type { HttpContext, HttpRequest, Route } from "./context.js";
import { decodeEasQuery, EAS_COMMANDS, EasQueryError, type EasQuery } from "./eas-query.js";
import { ContactSync } from "./eas-sync.js";
import { textReply, type Reply } from "./http-util.js";
import { decodeWbxml, encodeWbxml, WbxmlError, type WbxmlElement } from "./wbxml.js";

const WBXML_TYPE = "application/vnd.ms-sync.wbxml";

function options(): Reply {
  return {
    status: 200,
    headers: {
      "ms-server-activesync": "14.0",
      "ms-asprotocolversions": "2.5,12.0,12.1,14.0",
      "ms-asprotocolcommands": "Sync,FolderSync",
      allow: "OPTIONS,POST",
    },
    body: "",
  };
}

/** The `RPSToken` from the Authorization header, if that is the scheme used. */
function rpsToken(rq: HttpRequest): string | undefined {
  const m = /^RPSToken\s+(\S+)\s*$/i.exec(rq.headers.authorization ?? "");
  return m?.[1];
}

/** The ActiveSync route; sync state lives as long as the server. */
export function activesyncRoute(ctx: HttpContext): Route {
  const sync = new ContactSync(ctx.world, ctx.options);

  const handler = (rq: HttpRequest): Reply => {
    if (rq.method === "OPTIONS") return options();
    const check = ctx.world.checkAccess(rpsToken(rq), SCOPES.activesync);
    if (!check.ok) {
      rq.note({ outcome: check.reason });
      return { status: 401, headers: { "www-authenticate": "RPSToken" }, body: "" };
    }
    const owner = check.person;
    let q: EasQuery;
    try {
      q = decodeEasQuery(rq.url.search.slice(1));
    } catch (e) {
      if (!(e instanceof EasQueryError)) throw e;
      rq.note({ user: owner.key, outcome: "bad_query" });
      return textReply(400, e.message);
    }
    const cmd = EAS_COMMANDS[q.command] ?? `#${q.command}`;
    rq.note({
      user: owner.key,
      cmd,
      protocolVersion: q.protocolVersion,
      deviceId: q.deviceId,
      deviceType: q.deviceType,
      locale: q.locale,
    });
    if (cmd !== "FolderSync" && cmd !== "Sync") return textReply(501, `${cmd} is not supported`);
    let doc: WbxmlElement;
    try {
      if (rq.body.length === 0) throw new WbxmlError("empty body");
      doc = decodeWbxml(rq.body);
    } catch (e) {
      if (!(e instanceof WbxmlError)) throw e;
      rq.note({ outcome: "bad_wbxml" });
      return textReply(400, `malformed WBXML: ${e.message}`);
    }
    const note = (d: Record<string, unknown>): void => rq.note(d);
    const reply =
      cmd === "FolderSync"
        ? sync.folderSync(owner, q.deviceId, doc, note)
        : sync.sync(owner, q.deviceId, doc, note);
    return {
      status: 200,
      headers: { "content-type": WBXML_TYPE, "cache-control": "private" },
      body: encodeWbxml(reply),
    };
  };

  return { endpoint: "activesync", methods: ["POST", "OPTIONS"], handler };
}
