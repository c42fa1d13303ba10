// SPDX-License-Identifier: Apache-2.0
/**
 * ActiveSync `FolderSync` and `Sync` documents for contacts (MS-ASCMD; REFERENCE §11.5; PROFILE §4):
 * request builders and response readers over the WBXML tree.
 */
import { mriKey, parseMri, sortIdentities, type Contact } from "../model.js";
import { CodePage } from "./code-pages.js";
import { wb, wbChild, wbChildren, wbChildText, wbText, type WbxmlElement } from "./wbxml.js";

const FH = CodePage.FolderHierarchy;
const AS = CodePage.AirSync;
const SP = CodePage.SkypePrivate;

/** `FolderSync` with the SID property-bag request Skype sent (REFERENCE §11.5). */
export function folderSyncRequest(syncKey: string): WbxmlElement {
  return wb(
    FH,
    "FolderSync",
    wb(FH, "SyncKey", syncKey),
    wb(SP, "PropertyBag", wb(SP, "Property", wb(SP, "Name", "SID"))),
  );
}

export interface FolderChange {
  kind: "add" | "update" | "delete";
  serverId: string;
  parentId?: string;
  displayName?: string;
  type?: number;
  /** The `SID` property (`SKYPE`, `WL`, `GBL`, …) when the server sent the bag. */
  sid?: string;
}

export interface FolderSyncResult {
  /** 0 when the answer had no Status. */
  status: number;
  syncKey?: string;
  changes: FolderChange[];
}

function num(text: string | undefined): number {
  const n = Number(text?.trim());
  return text !== undefined && text.trim() !== "" && Number.isInteger(n) ? n : 0;
}

/** The properties of a `PropertyBag` (page 0xFE) as name → value. */
function propertyBag(el: WbxmlElement): Map<string, string> {
  const out = new Map<string, string>();
  for (const bag of wbChildren(el, "PropertyBag", SP)) {
    for (const p of wbChildren(bag, "Property", SP)) {
      const name = wbChildText(p, "Name", SP)?.trim();
      if (name) out.set(name.toUpperCase(), wbChildText(p, "Value", SP)?.trim() ?? "");
    }
  }
  return out;
}

/** Reads a `FolderSync` answer. */
export function parseFolderSyncResponse(root: WbxmlElement): FolderSyncResult {
  const changes: FolderChange[] = [];
  const ch = wbChild(root, "Changes", FH);
  for (const el of ch?.children ?? []) {
    if (typeof el !== "object" || el instanceof Uint8Array || el.page !== FH) continue;
    const kind =
      el.tag === "Add" ? "add" : el.tag === "Update" ? "update" : el.tag === "Delete" ? "delete" : undefined;
    const serverId = wbChildText(el, "ServerId", FH)?.trim();
    if (!kind || !serverId) continue;
    const typeText = wbChildText(el, "Type", FH);
    changes.push({
      kind,
      serverId,
      parentId: wbChildText(el, "ParentId", FH)?.trim(),
      displayName: wbChildText(el, "DisplayName", FH)?.trim(),
      type: typeText === undefined ? undefined : num(typeText),
      sid: propertyBag(el).get("SID") || undefined,
    });
  }
  return {
    status: num(wbChildText(root, "Status", FH)),
    syncKey: wbChildText(root, "SyncKey", FH)?.trim(),
    changes,
  };
}

export interface SyncCollectionRequest {
  syncKey: string;
  collectionId: string;
  getChanges: boolean;
  windowSize?: number;
}

/** `Sync` of one or more collections. */
export function syncRequest(collections: SyncCollectionRequest[]): WbxmlElement {
  return wb(
    AS,
    "Sync",
    wb(
      AS,
      "Collections",
      collections.map((c) =>
        wb(
          AS,
          "Collection",
          wb(AS, "SyncKey", c.syncKey),
          wb(AS, "CollectionId", c.collectionId),
          c.getChanges ? wb(AS, "GetChanges") : undefined,
          c.windowSize !== undefined ? wb(AS, "WindowSize", String(c.windowSize)) : undefined,
        ),
      ),
    ),
  );
}

/** A contact's fields from `ApplicationData`. */
export interface ContactData {
  fileAs?: string;
  firstName?: string;
  lastName?: string;
  nickName?: string;
  email1?: string;
  imAddresses: string[];
}

export interface SyncItemChange {
  kind: "add" | "change" | "delete";
  serverId: string;
  data?: ContactData;
}

export interface SyncCollectionResult {
  collectionId?: string;
  syncKey?: string;
  /** 0 when absent. */
  status: number;
  moreAvailable: boolean;
  commands: SyncItemChange[];
}

export interface SyncResult {
  /** A top-level Status (errors that concern the whole request); 0 when absent. */
  status: number;
  collections: SyncCollectionResult[];
}

function text(el: WbxmlElement | undefined, tag: string, page: number): string | undefined {
  return trimmed(wbChild(el, tag, page));
}

/** The trimmed text of `el`; undefined when there is no element or only blanks. */
function trimmed(el: WbxmlElement | undefined): string | undefined {
  if (!el) return undefined;
  const t = wbText(el)!.trim();
  return t ? t : undefined;
}

/**
 * Reads `ApplicationData` (Contacts page 1 and Contacts2 page 12). One pass over the children that
 * keeps the first element of each field (as a look-up per field would find): eight look-ups per
 * contact were most of parseSyncResponse's time (BENCHMARKS.md, P4).
 */
export function parseContactData(app: WbxmlElement | undefined): ContactData {
  let fileAs: WbxmlElement | undefined;
  let firstName: WbxmlElement | undefined;
  let lastName: WbxmlElement | undefined;
  let email1: WbxmlElement | undefined;
  let nickName: WbxmlElement | undefined;
  let im1: WbxmlElement | undefined;
  let im2: WbxmlElement | undefined;
  let im3: WbxmlElement | undefined;
  for (const c of app?.children ?? []) {
    if (typeof c === "string" || c instanceof Uint8Array) continue;
    if (c.page === CodePage.Contacts) {
      if (c.tag === "FileAs") fileAs ??= c;
      else if (c.tag === "FirstName") firstName ??= c;
      else if (c.tag === "LastName") lastName ??= c;
      else if (c.tag === "Email1Address") email1 ??= c;
    } else if (c.page === CodePage.Contacts2) {
      if (c.tag === "IMAddress") im1 ??= c;
      else if (c.tag === "IMAddress2") im2 ??= c;
      else if (c.tag === "IMAddress3") im3 ??= c;
      else if (c.tag === "NickName") nickName ??= c;
    }
  }
  // In tag order (IMAddress, IMAddress2, IMAddress3), not document order.
  const imAddresses: string[] = [];
  for (const el of [im1, im2, im3]) {
    const v = trimmed(el);
    if (v) imAddresses.push(v);
  }
  return {
    fileAs: trimmed(fileAs),
    firstName: trimmed(firstName),
    lastName: trimmed(lastName),
    nickName: trimmed(nickName),
    email1: trimmed(email1),
    imAddresses,
  };
}

const COMMAND_KINDS: Record<string, SyncItemChange["kind"]> = {
  Add: "add",
  Change: "change",
  Delete: "delete",
  SoftDelete: "delete",
};

/** A command's `ServerId` and `ApplicationData` (the first of each), in one pass. */
function commandParts(cmd: WbxmlElement): { serverId?: WbxmlElement; app?: WbxmlElement } {
  let serverId: WbxmlElement | undefined;
  let app: WbxmlElement | undefined;
  for (const c of cmd.children) {
    if (typeof c === "string" || c instanceof Uint8Array || c.page !== AS) continue;
    if (c.tag === "ServerId") serverId ??= c;
    else if (c.tag === "ApplicationData") app ??= c;
  }
  return { serverId, app };
}

/** Reads a `Sync` answer. */
export function parseSyncResponse(root: WbxmlElement): SyncResult {
  const collections: SyncCollectionResult[] = [];
  for (const col of wbChildren(wbChild(root, "Collections", AS), "Collection", AS)) {
    const commands: SyncItemChange[] = [];
    for (const cmd of wbChild(col, "Commands", AS)?.children ?? []) {
      if (typeof cmd !== "object" || cmd instanceof Uint8Array || cmd.page !== AS) continue;
      const kind = COMMAND_KINDS[cmd.tag];
      const parts = commandParts(cmd);
      const serverId = trimmed(parts.serverId);
      if (!kind || !serverId) continue;
      commands.push({ kind, serverId, data: kind === "delete" ? undefined : parseContactData(parts.app) });
    }
    collections.push({
      collectionId: text(col, "CollectionId", AS),
      syncKey: text(col, "SyncKey", AS),
      status: num(wbChildText(col, "Status", AS)),
      moreAvailable: wbChild(col, "MoreAvailable", AS) !== undefined,
      commands,
    });
  }
  return { status: num(wbChildText(root, "Status", AS)), collections };
}

/** An address as an MRI: an existing `<n>:` prefix is kept, else `defaultNetId` is added. */
function asMri(value: string, defaultNetId: 1 | 8): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  const parsed = parseMri(v);
  if (parsed) return `${parsed.netId}:${parsed.account}`;
  return `${defaultNetId}:${v}`;
}

/**
 * Turns `ApplicationData` into a Contact: `Email1Address` gives the `1:` identity, `IMAddress` the `8:`
 * one (PROFILE §4). Undefined when the contact has no identity at all.
 */
export function contactFromData(data: ContactData): Contact | undefined {
  const ids: string[] = [];
  if (data.email1) {
    const m = asMri(data.email1, 1);
    if (m) ids.push(m);
  }
  for (const im of data.imAddresses) {
    const m = asMri(im, 8);
    if (m) ids.push(m);
  }
  if (ids.length === 0) return undefined;
  const identities = sortIdentities(ids);
  const named = [data.firstName, data.lastName].filter(Boolean).join(" ");
  const displayName =
    data.fileAs || named || data.nickName || (parseMri(identities[0]!)?.account ?? identities[0]!);
  return {
    identities,
    displayName,
    ...(data.firstName ? { firstName: data.firstName } : {}),
    ...(data.lastName ? { lastName: data.lastName } : {}),
  };
}

/**
 * Merges contacts that share any identity (case-insensitive for e-mails) into one person each.
 * Contacts merged with no other are returned as they are (not copied); a merge makes a new one.
 */
export function mergeContacts(contacts: Iterable<Contact>): Contact[] {
  const merged: Contact[] = [];
  const byKey = new Map<string, Contact>();
  for (const c of contacts) {
    const hits = [
      ...new Set(c.identities.map((id) => byKey.get(mriKey(id))).filter((x): x is Contact => !!x)),
    ];
    let target: Contact;
    if (hits.length === 0) {
      target = c;
      merged.push(target);
    } else {
      const first = hits[0]!;
      target = { ...first, identities: [...first.identities] };
      merged[merged.indexOf(first)] = target;
      for (const other of [c, ...hits.slice(1)]) {
        target.identities = sortIdentities([...target.identities, ...other.identities]);
        if (target.firstName === undefined && other.firstName !== undefined)
          target.firstName = other.firstName;
        if (target.lastName === undefined && other.lastName !== undefined) target.lastName = other.lastName;
        if (other !== c) merged.splice(merged.indexOf(other), 1);
      }
    }
    for (const id of target.identities) byKey.set(mriKey(id), target);
  }
  return merged;
}
