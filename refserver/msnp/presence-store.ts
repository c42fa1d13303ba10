// SPDX-License-Identifier: Apache-2.0
/**
 * Presence documents (REFERENCE §6, PROFILE §3 "Presence"): per person the user-level `<s n=…>`
 * elements (kept byte for byte as published) and, per endpoint, its `<sep n=… epid=…>` elements.
 * A person is visible while they have an endpoint and a status other than HDN / FLN.
 */
import { attrOf, childElements, childText, escapeXml, type XmlElement } from "./xml.js";

/** Statuses accepted in `<s n="IM"><Status>`: PROFILE's five plus legacy ones (be liberal). */
export const STATUSES: ReadonlySet<string> = new Set(["NLN", "BSY", "AWY", "IDL", "HDN", "BRB", "PHN", "LUN", "FLN"]);

/** An unusable presence document (answered with `201`). */
export class PresenceError extends Error {
  override readonly name = "PresenceError";
}

interface EndpointDoc {
  /** Normalised epid (no braces, lower case). */
  readonly epid: string;
  readonly seps: Map<string, string>;
}

interface PersonPresence {
  status?: string;
  readonly services: Map<string, string>;
  readonly endpoints: Map<string, EndpointDoc>;
}

/** `{epid}` as written in documents and `From` parameters. */
export function braced(epid: string): string {
  return `{${epid}}`;
}

export class PresenceStore {
  private readonly people = new Map<string, PersonPresence>();

  private entry(key: string): PersonPresence {
    let p = this.people.get(key);
    if (!p) this.people.set(key, (p = { services: new Map(), endpoints: new Map() }));
    return p;
  }

  /**
   * Merges a published `<user>` document (`src` is its source text) for endpoint `epid`.
   * `<s>` replaces the same-named service, `<sep>` the same-named element of this endpoint.
   * `<s n="IM">` without `<Status>` means hidden.
   * @throws PresenceError for a status outside {@link STATUSES}.
   */
  publish(key: string, epid: string, user: XmlElement, src: string): void {
    const updates: Array<() => void> = [];
    const p = this.entry(key);
    let ep = p.endpoints.get(epid);
    for (const el of childElements(user)) {
      const n = attrOf(el, "n") ?? "";
      const raw = src.slice(el.start, el.end);
      const kind = el.name.toLowerCase();
      if (kind === "s") {
        if (n.toUpperCase() === "IM") {
          const status = (childText(el, "Status") ?? "HDN").toUpperCase();
          if (!STATUSES.has(status)) throw new PresenceError(`unknown status ${JSON.stringify(status)}`);
          updates.push(() => (p.status = status));
        }
        updates.push(() => p.services.set(n, raw));
      } else if (kind === "sep") {
        updates.push(() => {
          ep ??= { epid, seps: new Map() };
          ep.seps.set(n, raw);
        });
      }
    }
    for (const u of updates) u();
    ep ??= { epid, seps: new Map() };
    p.endpoints.set(epid, ep);
  }

  /** Sets a presence on behalf of the control API, with a server-side endpoint `epid`. */
  setControlled(key: string, epid: string, status: string, mood?: string, skypename?: string): void {
    const p = this.entry(key);
    p.status = status;
    p.services.set("IM", `<s n="IM"><Status>${escapeXml(status)}</Status></s>`);
    if (mood !== undefined || skypename !== undefined) {
      p.services.set(
        "SKP",
        `<s n="SKP"><Mood>${escapeXml(mood ?? "")}</Mood><Skypename>${escapeXml(skypename ?? "")}</Skypename></s>`,
      );
    }
    if (!p.endpoints.has(epid)) {
      const seps = new Map([["IM", `<sep n="IM" epid="${braced(epid)}"><Capabilities>0:0</Capabilities></sep>`]]);
      p.endpoints.set(epid, { epid, seps });
    }
  }

  /** Removes an endpoint; true when it was there. */
  removeEndpoint(key: string, epid: string): boolean {
    return this.people.get(key)?.endpoints.delete(epid) ?? false;
  }

  status(key: string): string | undefined {
    return this.people.get(key)?.status;
  }

  /** Normalised epids of the person's endpoints. */
  endpoints(key: string): string[] {
    return [...(this.people.get(key)?.endpoints.keys() ?? [])];
  }

  visible(key: string): boolean {
    const p = this.people.get(key);
    return !!p && p.endpoints.size > 0 && !!p.status && p.status !== "HDN" && p.status !== "FLN";
  }

  /** The full `<user>` document: every service, then every endpoint's elements. */
  document(key: string): string {
    const p = this.people.get(key);
    if (!p) return "<user></user>";
    const seps = [...p.endpoints.values()].flatMap((e) => [...e.seps.values()]);
    return `<user>${[...p.services.values()].join("")}${seps.join("")}</user>`;
  }
}

/** The document of an `NFY 0 MSGR\DEL`: the endpoint that went away. */
export function endpointGoneXml(epid: string): string {
  return `<user><sep n="IM" epid="${braced(epid)}"/></user>`;
}
