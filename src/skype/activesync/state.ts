// SPDX-License-Identifier: Apache-2.0
/**
 * The persisted ActiveSync contact-sync state and its validation on import: keys are opaque strings,
 * contacts are kept per folder and per item ServerId so incremental syncs can apply changes.
 */
import { SkypeError, SkypeErrorCode } from "../errors.js";
import type { Contact } from "../model.js";

export interface FolderState {
  displayName?: string;
  /** The folder's `SID` property (`SKYPE`, `WL`, …). */
  sid?: string;
  type?: number;
  parentId?: string;
  /** "0" until the first Sync. */
  syncKey: string;
  /** Contacts by item ServerId. */
  items: Record<string, Contact>;
}

export interface ContactSyncState {
  version: 1;
  /** `Skype-<10 digits>`: the server binds sync keys to it. */
  deviceId: string;
  folderSyncKey: string;
  /** Folders by ServerId. */
  folders: Record<string, FolderState>;
}

function invalid(what: string): SkypeError {
  return new SkypeError(SkypeErrorCode.InvalidArgument, `saved ActiveSync state is invalid: ${what}`, false);
}

/**
 * An empty map of server ids (folders, contacts) as a null-prototype object: a hostile server's id
 * such as `__proto__` is then just a key (in a plain `{}` it set the map's prototype and the
 * contact was lost).
 */
export function idMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optString(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw invalid(what);
  return v;
}

function parseContact(v: unknown): Contact {
  if (!isRecord(v)) throw invalid("a contact is not an object");
  const ids = v.identities;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === "string")) {
    throw invalid("a contact without identities");
  }
  if (typeof v.displayName !== "string") throw invalid("a contact without a display name");
  const firstName = optString(v.firstName, "firstName");
  const lastName = optString(v.lastName, "lastName");
  return {
    identities: [...ids],
    displayName: v.displayName,
    ...(firstName !== undefined ? { firstName } : {}),
    ...(lastName !== undefined ? { lastName } : {}),
  };
}

function parseFolder(v: unknown): FolderState {
  if (!isRecord(v)) throw invalid("a folder is not an object");
  if (typeof v.syncKey !== "string" || !v.syncKey) throw invalid("a folder without a sync key");
  if (v.type !== undefined && typeof v.type !== "number") throw invalid("a folder type is not a number");
  if (!isRecord(v.items)) throw invalid("a folder without items");
  const items = idMap<Contact>();
  for (const [id, c] of Object.entries(v.items)) items[id] = parseContact(c);
  return withoutUndefined({
    displayName: optString(v.displayName, "displayName"),
    sid: optString(v.sid, "sid"),
    type: v.type,
    parentId: optString(v.parentId, "parentId"),
    syncKey: v.syncKey,
    items,
  });
}

/** A copy without `undefined` members, so states compare and serialise cleanly. */
export function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Validates a state object (or its JSON text) and returns a private copy. */
export function parseContactSyncState(input: unknown): ContactSyncState {
  let v: unknown = input;
  if (typeof input === "string") {
    try {
      v = JSON.parse(input) as unknown;
    } catch {
      throw invalid("not JSON");
    }
  }
  if (!isRecord(v)) throw invalid("not an object");
  if (v.version !== 1) throw invalid("unknown version");
  if (typeof v.deviceId !== "string" || !/^[\x21-\x7e]{1,32}$/.test(v.deviceId))
    throw invalid("bad device id");
  if (typeof v.folderSyncKey !== "string" || !v.folderSyncKey) throw invalid("no folder sync key");
  if (!isRecord(v.folders)) throw invalid("no folders");
  const folders = idMap<FolderState>();
  for (const [id, f] of Object.entries(v.folders)) folders[id] = parseFolder(f);
  return { version: 1, deviceId: v.deviceId, folderSyncKey: v.folderSyncKey, folders };
}
