// SPDX-License-Identifier: Apache-2.0
/**
 * What a command's `<id>` names: an e-mail, a Skype name, an MRI (`8:…`, `1:…`), or the display
 * name of someone the user knows (a contact, a requester, someone blocked) when only one matches.
 * Known people win over the bare syntax, so `dave` finds "Dave Lister" (whose Skype name is
 * `dave.lister`), and an ambiguous name is never guessed.
 */
import { msaMri, mriKey, parseMri, skypeMri } from "../../../skype/model.js";
import { CommandError } from "./types.js";

/** Someone the user knows: their identities (`1:` / `8:`) and display name. */
export interface Known {
  readonly identities: readonly string[];
  readonly displayName: string;
}

export type Resolution<T extends Known> =
  | { kind: "known"; person: T }
  | { kind: "identity"; mri: string }
  | { kind: "ambiguous"; matches: T[] }
  | { kind: "none" };

/** The identity `text` spells out on its own (an MRI, an e-mail or a Skype name), if any. */
export function identityOf(text: string): string | undefined {
  const q = text.trim();
  if (!q || /\s/.test(q)) return undefined;
  if (/^\d{1,3}:/.test(q)) return parseMri(q) ? q : undefined;
  if (/^[^@\s:]+@[^@\s]+\.[^@\s]+$/.test(q)) return msaMri(q);
  if (/^(live:)?[a-z][a-z0-9._,-]+$/i.test(q)) return skypeMri(q);
  return undefined;
}

/** Same identity: MRIs compared by key, or the query without its network prefix. */
function namesIdentity(identity: string, query: string, asIdentity: string | undefined): boolean {
  if (asIdentity !== undefined && mriKey(identity) === mriKey(asIdentity)) return true;
  const q = query.toLowerCase();
  return identity.toLowerCase() === q || identity.slice(2).toLowerCase() === q;
}

/** Resolves `query` among `known` people, falling back to the identity it spells out. */
export function resolveId<T extends Known>(known: readonly T[], query: string): Resolution<T> {
  const q = query.trim();
  if (!q) return { kind: "none" };
  const asIdentity = identityOf(q);
  const exact = known.find((p) => p.identities.some((id) => namesIdentity(id, q, asIdentity)));
  if (exact) return { kind: "known", person: exact };
  const lower = q.toLowerCase();
  const sameName = known.filter((p) => p.displayName.toLowerCase() === lower);
  if (sameName.length === 1) return { kind: "known", person: sameName[0]! };
  const byName =
    sameName.length > 1 ? sameName : known.filter((p) => p.displayName.toLowerCase().includes(lower));
  if (byName.length === 1) return { kind: "known", person: byName[0]! };
  if (byName.length > 1) return { kind: "ambiguous", matches: byName };
  return asIdentity ? { kind: "identity", mri: asIdentity } : { kind: "none" };
}

/** The identity to use for a known person: their `8:` one, else the first. */
export function preferredIdentity(p: Known): string {
  return p.identities.find((id) => id.startsWith("8:")) ?? p.identities[0] ?? "";
}

/**
 * The MRI and a name to show for `query`, or a CommandError that says what went wrong (nobody
 * matches, or several do). `allowUnknown`: a spelled-out identity of someone not in `known` is fine.
 */
export function pickPerson<T extends Known>(
  known: readonly T[],
  query: string,
  opts: { allowUnknown: boolean; listCommand: string },
): { mri: string; name: string; person?: T } {
  const r = resolveId(known, query);
  switch (r.kind) {
    case "known":
      return { mri: preferredIdentity(r.person), name: r.person.displayName || query, person: r.person };
    case "identity":
      if (opts.allowUnknown) return { mri: r.mri, name: parseMri(r.mri)?.account ?? r.mri };
      break;
    case "ambiguous":
      throw new CommandError(
        "ambiguous id",
        `"${query}" matches ${r.matches.map((p) => `${p.displayName} (${preferredIdentity(p).slice(2)})`).join(", ")}; be more precise (an e-mail or Skype name always works).`,
      );
    case "none":
      break;
  }
  throw new CommandError(
    "unknown id",
    `No one matches "${query}". Give an e-mail, a Skype name or a name from \`${opts.listCommand}\`.`,
  );
}
