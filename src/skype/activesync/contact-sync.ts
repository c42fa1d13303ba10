// SPDX-License-Identifier: Apache-2.0
/**
 * Contacts over ActiveSync (PROFILE §4, REFERENCE §11): `FolderSync`, then `Sync` of the contact folders
 * (`SKYPE`, `WL`) with SyncKey handling, `MoreAvailable` paging and the bad-SyncKey restart (Status 3 or 9:
 * start again from SyncKey 0). The sync state, contacts included, is plain JSON the bridge can persist.
 */
import { randomInt } from "node:crypto";
import { ActiveSyncStatusError, ProtocolParseError, type SkypeError, SkypeErrorCode } from "../errors.js";
import { httpRequest, unexpectedStatus, type HttpOptions } from "../http.js";
import { silentLogger, type SkypeLogger } from "../log.js";
import { endpointUrl, type Contact, type SkypeEndpoints } from "../model.js";
import { TokenScope, type TokenSource } from "../tokens.js";
import {
  contactFromData,
  folderSyncRequest,
  mergeContacts,
  parseFolderSyncResponse,
  parseSyncResponse,
  syncRequest,
  type FolderChange,
  type SyncItemChange,
} from "./commands.js";
import { AsCommand, encodeAsQuery } from "./query.js";
import { decodeWbxml, encodeWbxml, type WbxmlElement } from "./wbxml.js";
import {
  idMap,
  parseContactSyncState,
  withoutUndefined,
  type ContactSyncState,
  type FolderState,
} from "./state.js";

export type { ContactSyncState, FolderState } from "./state.js";

export interface ContactSyncOptions extends HttpOptions {
  /** A state exported earlier (object or its JSON text). */
  state?: ContactSyncState | string;
  /** Device id for a fresh state; default `Skype-<10 random digits>`. */
  deviceId?: string;
  /** `WindowSize` of each Sync page. Default 100. */
  windowSize?: number;
  /** Bad-SyncKey restarts allowed per command and run before giving up. Default 2. */
  maxRestarts?: number;
}

const CONTACT_FOLDER_NAMES = new Set(["SKYPE", "WL", "SKYPE CONTACTS", "WINDOWSLIVE CONTACTS"]);
const BAD_SYNC_KEY = new Set([3, 9]);
const MAX_PAGES = 10_000;

/** A fresh device id in Skype's form (`Skype-` and 10 digits). */
export function newDeviceId(): string {
  return `Skype-${String(randomInt(0, 1e10)).padStart(10, "0")}`;
}

/**
 * A contact made read-only: the sync state, its exports and every list handed out share the same
 * contact objects and strings (one copy per session, not one per holder), so none may change them.
 */
function frozenContact(c: Contact): Contact {
  Object.freeze(c.identities);
  return Object.freeze(c);
}

function freezeContacts(state: ContactSyncState): ContactSyncState {
  for (const f of Object.values(state.folders)) for (const c of Object.values(f.items)) frozenContact(c);
  return state;
}

/** Keeps a contact list in step with the server's contact folders. */
export class ContactSync {
  private state: ContactSyncState;
  /** {@link contacts} of the current state, built when first asked for after a change. */
  private merged?: Contact[];
  private running?: Promise<Contact[]>;
  private readonly log: SkypeLogger;
  /** The options without the saved state, which is read once into {@link state}. */
  private readonly opts: Omit<ContactSyncOptions, "state">;

  constructor(
    private readonly endpoints: Pick<SkypeEndpoints, "activesync">,
    private readonly tokens: TokenSource,
    opts: ContactSyncOptions = {},
  ) {
    // Keeping the caller's options whole kept the saved state they name (the stored JSON, parsed)
    // beside the private copy for the session's life: ~13 KB per session with 50 contacts
    // (BENCHMARKS.md, cause 5).
    const { state, ...rest } = opts;
    this.opts = rest;
    this.log = opts.logger ?? silentLogger;
    this.state = state
      ? freezeContacts(parseContactSyncState(state))
      : { version: 1, deviceId: opts.deviceId ?? newDeviceId(), folderSyncKey: "0", folders: idMap() };
  }

  /**
   * A copy of the sync state (keys, folders, contacts): JSON-serialisable, no secrets. Its folders
   * and item maps are copies; the contacts in them are the state's own, frozen.
   */
  exportState(): ContactSyncState {
    const folders = idMap<FolderState>();
    for (const [id, f] of Object.entries(this.state.folders))
      folders[id] = { ...f, items: Object.assign(idMap<Contact>(), f.items) };
    return { ...this.state, folders };
  }

  /** Replaces the sync state with one exported earlier. @throws SkypeError `InvalidArgument`. */
  importState(state: ContactSyncState | string): void {
    this.state = freezeContacts(parseContactSyncState(state));
    this.merged = undefined;
  }

  /**
   * The contacts known from the last sync, merged by shared identity, sorted by display name. The
   * list and its contacts are frozen and shared with the sync state (and every other caller until
   * the next change): copy before changing anything. A sync that changed no folder and no contact
   * returns the very same list, so callers can tell "unchanged" by identity (after a server outage
   * every session re-reads its contacts at once, nearly always unchanged).
   */
  contacts(): Contact[] {
    if (!this.merged) {
      const all: Contact[] = [];
      for (const f of Object.values(this.state.folders)) all.push(...Object.values(f.items));
      const sorted = mergeContacts(all).sort(
        (a, b) =>
          a.displayName.localeCompare(b.displayName) || a.identities[0]!.localeCompare(b.identities[0]!),
      );
      this.merged = Object.freeze(sorted.map(frozenContact)) as Contact[];
    }
    return this.merged;
  }

  /**
   * Brings every contact folder up to date and returns all contacts. Concurrent calls share one run.
   * @throws ActiveSyncStatusError for statuses it cannot handle; SkypeError `Network`/`Wbxml`/…
   */
  syncAll(signal?: AbortSignal): Promise<Contact[]> {
    this.running ??= this.run(signal).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(signal?: AbortSignal): Promise<Contact[]> {
    // Each change drops the merged list as it is applied, so a run that fails half-way leaves no
    // stale list behind, and one that changed nothing keeps it.
    await this.folderSync(signal);
    const targets = Object.entries(this.state.folders).filter(([, f]) => isContactFolder(f));
    if (targets.length === 0) this.log.warn("ActiveSync: the server lists no SKYPE or WL contact folder");
    for (const [id] of targets) await this.syncFolder(id, signal);
    return this.contacts();
  }

  private async folderSync(signal?: AbortSignal): Promise<void> {
    for (let restarts = 0; ;) {
      const key = this.state.folderSyncKey;
      const root = await this.post(AsCommand.FolderSync, folderSyncRequest(key), signal);
      if (!root) throw new ProtocolParseError(SkypeErrorCode.Parse, "ActiveSync FolderSync: empty answer");
      const r = parseFolderSyncResponse(root);
      if (BAD_SYNC_KEY.has(r.status)) {
        if (restarts++ >= (this.opts.maxRestarts ?? 2)) throw statusError("FolderSync", r.status);
        this.log.info("ActiveSync: FolderSync key refused; starting again from 0", { status: r.status });
        this.state.folderSyncKey = "0";
        this.state.folders = idMap();
        this.merged = undefined;
        continue;
      }
      if (r.status !== 1) throw statusError("FolderSync", r.status);
      if (key === "0") this.state.folders = idMap();
      if (key === "0" || r.changes.length > 0) this.merged = undefined;
      for (const c of r.changes) this.applyFolderChange(c);
      if (r.syncKey) this.state.folderSyncKey = r.syncKey;
      return;
    }
  }

  private applyFolderChange(c: FolderChange): void {
    if (c.kind === "delete") {
      delete this.state.folders[c.serverId];
      return;
    }
    const old = this.state.folders[c.serverId];
    this.state.folders[c.serverId] = withoutUndefined({
      displayName: c.displayName ?? old?.displayName,
      sid: c.sid ?? old?.sid,
      type: c.type ?? old?.type,
      parentId: c.parentId ?? old?.parentId,
      syncKey: old?.syncKey ?? "0",
      items: old?.items ?? idMap(),
    });
  }

  private async syncFolder(id: string, signal?: AbortSignal): Promise<void> {
    let restarts = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const folder = this.state.folders[id]!;
      const initial = folder.syncKey === "0";
      const request = syncRequest([
        {
          syncKey: folder.syncKey,
          collectionId: id,
          getChanges: !initial,
          windowSize: initial ? undefined : (this.opts.windowSize ?? 100),
        },
      ]);
      const root = await this.post(AsCommand.Sync, request, signal);
      if (!root) return; // An empty Sync answer means "no changes".
      const r = parseSyncResponse(root);
      const col = r.collections.find((c) => c.collectionId === id) ?? r.collections[0];
      const status = col?.status || r.status || (col ? 1 : 0);
      if (BAD_SYNC_KEY.has(status)) {
        if (restarts++ >= (this.opts.maxRestarts ?? 2)) throw statusError("Sync", status);
        this.log.info("ActiveSync: Sync key refused; starting the folder again from 0", { status });
        folder.syncKey = "0";
        folder.items = idMap();
        this.merged = undefined;
        continue;
      }
      if (status !== 1 || !col) throw statusError("Sync", status);
      if (initial || col.commands.length > 0) this.merged = undefined;
      if (initial) folder.items = idMap();
      for (const cmd of col.commands) applyItem(folder, cmd);
      if (initial && (!col.syncKey || col.syncKey === "0")) {
        throw new ProtocolParseError(SkypeErrorCode.Parse, "ActiveSync Sync: no new SyncKey for SyncKey 0");
      }
      if (col.syncKey) folder.syncKey = col.syncKey;
      if (!initial && !col.moreAvailable) return;
    }
    throw new ProtocolParseError(SkypeErrorCode.Parse, `ActiveSync Sync: more than ${MAX_PAGES} pages`);
  }

  /** POSTs one command; undefined for an empty answer. Renews the token once when it is refused. */
  private async post(
    command: number,
    doc: WbxmlElement,
    signal?: AbortSignal,
  ): Promise<WbxmlElement | undefined> {
    const name = command === AsCommand.FolderSync ? "FolderSync" : "Sync";
    const query = encodeAsQuery({
      protocolVersion: 140,
      command,
      locale: 0x0409,
      deviceId: this.state.deviceId,
      deviceType: "ClassicSkype",
      parameters: [],
    });
    const body = encodeWbxml(doc);
    for (let attempt = 0; ; attempt++) {
      const token = await this.tokens.getToken(TokenScope.ActiveSync, { signal, forceRefresh: attempt > 0 });
      const res = await httpRequest(this.opts, {
        method: "POST",
        url: `${endpointUrl(this.endpoints.activesync, "/Microsoft-Server-ActiveSync")}?${query}`,
        what: `ActiveSync ${name}`,
        headers: {
          "content-type": "application/vnd.ms-sync.wbxml",
          accept: "application/vnd.ms-sync.wbxml",
          authorization: `RPSToken ${token}`,
        },
        body,
        signal,
      });
      if ((res.status === 401 || res.status === 403) && attempt === 0) {
        this.tokens.invalidate(TokenScope.ActiveSync);
        continue;
      }
      if (res.status !== 200) throw unexpectedStatus(`ActiveSync ${name}`, res.status);
      return res.body.length === 0 ? undefined : decodeWbxml(res.body);
    }
  }
}

function isContactFolder(f: FolderState): boolean {
  return (
    CONTACT_FOLDER_NAMES.has((f.sid ?? "").toUpperCase()) ||
    CONTACT_FOLDER_NAMES.has((f.displayName ?? "").toUpperCase())
  );
}

function applyItem(folder: FolderState, cmd: SyncItemChange): void {
  const contact = cmd.data ? contactFromData(cmd.data) : undefined;
  if (contact) folder.items[cmd.serverId] = frozenContact(contact);
  else delete folder.items[cmd.serverId];
}

function statusError(command: string, status: number): SkypeError {
  return new ActiveSyncStatusError(command, status, `ActiveSync ${command} failed with Status ${status}`);
}
