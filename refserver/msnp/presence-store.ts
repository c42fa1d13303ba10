// SPDX-License-Identifier: Apache-2.0
/**
 * Presence documents (REFERENCE §6, PROFILE §3 "Presence"): per person the user-level `<s n=…>`
 * elements (kept byte for byte as published) and, per endpoint, its `<sep n=… epid=…>` elements.
 * A person is visible while they have an endpoint and a status other than HDN / FLN.
 */
import { attrOf, childElements, childText, escapeXml, type XmlElement } from "./xml.js";

/** Statuses accepted in `<s n="IM"><Status>`: PROFILE's five plus legacy ones (be liberal). */
export const STATUSES: ReadonlySet<string> = new Set([
  "NLN",
  "BSY",
  "AWY",
  "IDL",
  "HDN",
  "BRB",
  "PHN",
  "LUN",
  "FLN",
]);

/** An unusable presence document (answered with `201`). */
export class PresenceError extends Error {
  override readonly name = "PresenceError";
}

interface PersonPresence {
  status?: string;
  /**
   * The document's elements in the order first published: `s:<n>` for user-level services,
   * `sep:<epid>:<n>` for endpoint elements. Replacing an element keeps its place.
   */
  readonly elements: Map<string, string>;
  /** Normalised epids of the endpoints present. */
  readonly endpoints: Set<string>;
}

/** `{epid}` as written in documents and `From` parameters. */
export function braced(epid: string): string {
  return `{${epid}}`;
}

/** Published presence per person (in memory). */
export class PresenceStore {
  private readonly people = new Map<string, PersonPresence>();

  private entry(key: string): PersonPresence {
    let p = this.people.get(key);
    if (!p) this.people.set(key, (p = { elements: new Map(), endpoints: new Set() }));
    return p;
  }

  /**
   * Merges a published `<user>` document (`src` is its source text) for endpoint `epid`.
   * `<s>` replaces the same-named service, `<sep>` the same-named element of this endpoint.
   * `<s n="IM">` without `<Status>` means hidden.
   * @throws PresenceError for a status outside {@link STATUSES}; nothing is changed then.
   */
  publish(key: string, epid: string, user: XmlElement, src: string): void {
    const changes: Array<[string, string]> = [];
    let status: string | undefined;
    for (const el of childElements(user)) {
      const n = attrOf(el, "n") ?? "";
      const raw = src.slice(el.start, el.end);
      const kind = el.name.toLowerCase();
      if (kind === "s") {
        if (n.toUpperCase() === "IM") {
          status = (childText(el, "Status") ?? "HDN").toUpperCase();
          if (!STATUSES.has(status)) throw new PresenceError(`unknown status ${JSON.stringify(status)}`);
        }
        changes.push([`s:${n}`, raw]);
      } else if (kind === "sep") {
        changes.push([`sep:${epid}:${n}`, raw]);
      }
    }
    const p = this.entry(key);
    if (status !== undefined) p.status = status;
    for (const [k, raw] of changes) p.elements.set(k, raw);
    p.endpoints.add(epid);
  }

  /** Sets a presence on behalf of the control API, with a server-side endpoint `epid`. */
  setControlled(key: string, epid: string, status: string, mood?: string, skypename?: string): void {
    const p = this.entry(key);
    p.status = status;
    p.elements.set("s:IM", `<s n="IM"><Status>${escapeXml(status)}</Status></s>`);
    if (mood !== undefined) {
      p.elements.set(
        "s:SKP",
        `<s n="SKP"><Mood>${escapeXml(mood)}</Mood><Skypename>${escapeXml(skypename ?? "")}</Skypename></s>`,
      );
    }
    if (!p.endpoints.has(epid)) {
      p.endpoints.add(epid);
      p.elements.set(
        `sep:${epid}:IM`,
        `<sep n="IM" epid="${braced(epid)}"><Capabilities>0:0</Capabilities></sep>`,
      );
    }
  }

  /** Removes an endpoint and its elements; true when it was there. */
  removeEndpoint(key: string, epid: string): boolean {
    const p = this.people.get(key);
    if (!p?.endpoints.delete(epid)) return false;
    for (const k of [...p.elements.keys()]) if (k.startsWith(`sep:${epid}:`)) p.elements.delete(k);
    return true;
  }

  status(key: string): string | undefined {
    return this.people.get(key)?.status;
  }

  /** Normalised epids of the person's endpoints. */
  endpoints(key: string): string[] {
    return [...(this.people.get(key)?.endpoints ?? [])];
  }

  visible(key: string): boolean {
    const p = this.people.get(key);
    return !!p && p.endpoints.size > 0 && !!p.status && p.status !== "HDN" && p.status !== "FLN";
  }

  /** The full `<user>` document: every element, in the order first published. */
  document(key: string): string {
    const p = this.people.get(key);
    return `<user>${p ? [...p.elements.values()].join("") : ""}</user>`;
  }
}

/** The document of an `NFY 0 MSGR\DEL`: the endpoint that went away. */
export function endpointGoneXml(epid: string): string {
  return `<user><sep n="IM" epid="${braced(epid)}"/></user>`;
}
