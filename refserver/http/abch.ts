// SPDX-License-Identifier: Apache-2.0
/**
 * The ABCH SOAP endpoints (REFERENCE §12, PROFILE §4, §5): `/abservice/SharingService.asmx` and
 * `/abservice/abservice.asmx`. Checks, in order: the document is safe XML (no DOCTYPE/ENTITY: 400
 * fault), the operation belongs to that service, `SOAPAction` (when sent) names the body's
 * operation, and `ABAuthHeader/TicketToken` is a live contacts.msn.com token (else `PassportAuthFail`).
 * Replies carry a `ServiceHeader` with the [A] `CacheKey`/`PreferredHostName` behaviour.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { SCOPES, type Person } from "../world.js";
import { AB_OPS } from "./abch-ab.js";
import { SHARING_OPS } from "./abch-sharing.js";
import { AbFault } from "./address-book.js";
import type { HttpContext, HttpRequest, Route } from "./context.js";
import type { Reply } from "./http-util.js";
import { at, childNames, textOf, UnsafeXmlError, parseSafeXml, type XmlNode } from "./safe-xml.js";
import { soapFault, soapReply, type AbOp } from "./soap.js";

const ACTION_PREFIX = "http://www.msn.com/webservices/AddressBook/";

/** Where the request's CacheKey stood against the server's, for the request log. */
type CacheKeyState = "absent" | "current" | "stale";

function operationOf(doc: XmlNode): { op: string; body: XmlNode } | undefined {
  const body = at(doc, "Envelope", "Body");
  const op = childNames(body)[0];
  if (!op) return undefined;
  const node = at(body, op);
  return node === undefined ? undefined : { op, body: node };
}

/** The `SOAPAction` header without quotes, or undefined when absent. */
function soapAction(rq: HttpRequest): string | undefined {
  const h = rq.headers["soapaction"];
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? undefined : v.trim().replace(/^"(.*)"$/, "$1");
}

/** Checks the TicketToken (raw token; a WLM-style `t=…&p=` wrapper is also understood). */
function ticketOwner(ctx: HttpContext, doc: XmlNode): { person?: Person; reason?: string } {
  const raw = textOf(at(doc, "Envelope", "Header", "ABAuthHeader", "TicketToken")).trim();
  if (!raw) return { reason: "missing" };
  let check = ctx.world.checkAccess(raw, SCOPES.contacts);
  const wrapped = /^t=([^&]*)(?:&p=.*)?$/.exec(raw);
  if (!check.ok && wrapped?.[1]) check = ctx.world.checkAccess(wrapped[1], SCOPES.contacts);
  return check.ok ? { person: check.person } : { reason: check.reason };
}

/** Parses a SOAP request and finds its operation, or answers with a 400 fault. */
function readRequest(rq: HttpRequest): { doc: XmlNode; op: string; body: XmlNode } | Reply {
  let doc: XmlNode;
  try {
    doc = parseSafeXml(rq.body.toString("utf8"));
  } catch (e) {
    if (!(e instanceof UnsafeXmlError)) throw e;
    rq.note({ outcome: e.kind });
    return soapFault(e.kind === "doctype" ? "UnsafeXml" : "BadArgument", e.message, 400);
  }
  const found = operationOf(doc);
  if (!found) return soapFault("BadArgument", "the SOAP body holds no operation", 400);
  return { doc, ...found };
}

/** One ABCH service; cache keys live as long as the server. */
class AbchService {
  private readonly cacheKeys = new Map<string, string>();

  constructor(
    private readonly ctx: HttpContext,
    private readonly ops: ReadonlyMap<string, AbOp>,
  ) {}

  /** The [A] CacheKey for this reply, given the one the request carried. */
  private cacheKey(owner: Person, sent: string): { key?: string; changed: boolean; state: CacheKeyState } {
    const current = this.cacheKeys.get(owner.key);
    const state: CacheKeyState = !sent ? "absent" : sent === current ? "current" : "stale";
    const mode = this.ctx.options.abchCacheKey;
    if (mode === "none") return { changed: false, state };
    if (mode === "rotate" || current === undefined) {
      const key = "14r2;" + randomBytes(48).toString("base64");
      this.cacheKeys.set(owner.key, key);
      return { key, changed: true, state };
    }
    return { key: current, changed: state !== "current", state };
  }

  handle(rq: HttpRequest): Reply {
    const parsed = readRequest(rq);
    if ("status" in parsed) return parsed;
    const { doc, op, body } = parsed;
    const action = soapAction(rq);
    rq.note({ op, soapAction: action ?? null });
    const run = this.ops.get(op);
    if (!run) return soapFault("UnknownOperation", `${op} is not an operation of this service`);
    if (action !== undefined && action !== ACTION_PREFIX + op) {
      return soapFault("SoapActionMismatch", `SOAPAction does not match the body's ${op}`);
    }
    const { person: owner, reason } = ticketOwner(this.ctx, doc);
    if (!owner) {
      rq.note({ outcome: "PassportAuthFail", reason });
      return soapFault("PassportAuthFail", `The TicketToken is ${reason ?? "invalid"}.`);
    }
    const header = at(doc, "Envelope", "Header", "ABApplicationHeader");
    const ck = this.cacheKey(owner, textOf(at(header, "CacheKey")).trim());
    rq.note({
      user: owner.key,
      partnerScenario: textOf(at(header, "PartnerScenario")) || null,
      cacheKey: ck.state,
    });
    try {
      const result = run({
        world: this.ctx.world,
        owner,
        body,
        options: this.ctx.options,
        note: (d) => rq.note(d),
      });
      rq.note({ outcome: "ok" });
      return soapReply(op, result, {
        cacheKey: ck.key,
        cacheKeyChanged: ck.changed,
        preferredHostName: this.ctx.options.abchPreferredHostName ?? undefined,
        sessionId: randomUUID(),
      });
    } catch (e) {
      if (!(e instanceof AbFault)) throw e;
      rq.note({ outcome: e.code });
      return soapFault(e.code, e.message);
    }
  }
}

/** The ABCH routes. */
export function abchRoutes(ctx: HttpContext): Map<string, Route> {
  const sharing = new AbchService(ctx, SHARING_OPS);
  const ab = new AbchService(ctx, AB_OPS);
  const routes = new Map<string, Route>();
  routes.set("/abservice/SharingService.asmx", {
    endpoint: "sharing",
    methods: ["POST"],
    handler: (rq) => sharing.handle(rq),
  });
  routes.set("/abservice/abservice.asmx", {
    endpoint: "abservice",
    methods: ["POST"],
    handler: (rq) => ab.handle(rq),
  });
  return routes;
}
