// SPDX-License-Identifier: Apache-2.0
/**
 * ActiveSync `FolderSync` and `Sync` of contacts (REFERENCE §11.5, PROFILE §4, §5; MS-ASCMD):
 * folders `PPL`, `ABCH`, `GBL`, `SKYPE`, `WL` with opaque ServerIds; a contact sits in `WL` when it
 * has a `1:` identity, else in `SKYPE`; `GBL` holds blocked people. Sync keys are opaque and the
 * previous key is answered once more (a retried request gets the same reply again). A bad key is
 * `FolderSync` Status 9 / `Sync` Status 3. `MoreAvailable` pages by the window size.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Person, World } from "../world.js";
import type { HttpServerOptions } from "./options.js";
import { child, childrenOf, wb, type WbxmlElement } from "./wbxml.js";

/** The folders, in the order FolderSync lists them. */
const FOLDERS = [
  { sid: "PPL", name: "People" },
  { sid: "ABCH", name: "Internal Contacts" },
  { sid: "GBL", name: "Block List" },
  { sid: "SKYPE", name: "Skype Contacts" },
  { sid: "WL", name: "WindowsLive Contacts" },
] as const;
type FolderSid = (typeof FOLDERS)[number]["sid"];

/** A key and, for a retried request, the previous key with the reply it got. */
interface Keyed {
  current: string;
  prev?: { key: string; reply: WbxmlElement; replayed: boolean };
}
interface CollectionState extends Keyed {
  /** What the client holds as of `current`: item ServerId → fingerprint of its data. */
  have: Map<string, string>;
}
interface DeviceState {
  folders?: Keyed;
  collections: Map<string, CollectionState>;
}

const hash = (s: string, n: number): string => createHash("sha256").update(s).digest("hex").slice(0, n);
const newKey = (): string => "{" + randomBytes(12).toString("hex") + "}";

/** One contact as an item: ServerId, data, and a fingerprint to notice changes. */
interface Item {
  id: string;
  data: WbxmlElement;
  print: string;
}

/** The ActiveSync state of every (account, device) for one server. */
export class ContactSync {
  private readonly devices = new Map<string, DeviceState>();

  constructor(
    private readonly world: World,
    private readonly options: HttpServerOptions,
  ) {}

  /** A folder's opaque ServerId for this account. */
  folderId(owner: Person, sid: FolderSid): string {
    return hash(`${owner.key}|folder|${sid}`, 12);
  }

  private device(owner: Person, deviceId: string): DeviceState {
    const id = `${owner.key}|${deviceId}`;
    let d = this.devices.get(id);
    if (!d) {
      d = { collections: new Map() };
      this.devices.set(id, d);
    }
    return d;
  }

  /** Handles a `FolderSync` request document. */
  folderSync(
    owner: Person,
    deviceId: string,
    req: WbxmlElement,
    note: (d: Record<string, unknown>) => void,
  ): WbxmlElement {
    const key = child(req, "FolderHierarchy:SyncKey")?.text?.trim();
    if (req.tag !== "FolderHierarchy:FolderSync" || key === undefined) {
      return wb("FolderHierarchy:FolderSync", wb("FolderHierarchy:Status", "10"));
    }
    const d = this.device(owner, deviceId);
    note({ syncKey: key === "0" ? "0" : key === d.folders?.current ? "current" : "other" });
    if (key !== "0" && key !== d.folders?.current) {
      const prev = d.folders?.prev;
      if (prev && prev.key === key && !prev.replayed) {
        prev.replayed = true;
        note({ replay: true });
        return prev.reply;
      }
      return wb("FolderHierarchy:FolderSync", wb("FolderHierarchy:Status", "9"));
    }
    const fresh = newKey();
    const adds = key === "0" ? FOLDERS.map((f) => this.folderAdd(owner, f, wantsSid(req, this.options))) : [];
    const reply = wb(
      "FolderHierarchy:FolderSync",
      wb("FolderHierarchy:Status", "1"),
      wb("FolderHierarchy:SyncKey", fresh),
      wb("FolderHierarchy:Changes", wb("FolderHierarchy:Count", String(adds.length)), ...adds),
    );
    d.folders = { current: fresh, prev: { key, reply, replayed: false } };
    return reply;
  }

  private folderAdd(owner: Person, f: (typeof FOLDERS)[number], sid: boolean): WbxmlElement {
    const type = f.sid === "PPL" ? this.options.folderTypes.default : this.options.folderTypes.user;
    const add = wb(
      "FolderHierarchy:Add",
      wb("FolderHierarchy:ServerId", this.folderId(owner, f.sid)),
      wb("FolderHierarchy:ParentId", "0"),
      wb("FolderHierarchy:DisplayName", f.name),
      wb("FolderHierarchy:Type", String(type)),
    );
    if (sid) {
      add.children.push(
        wb("Skype:PropertyBag", wb("Skype:Property", wb("Skype:Name", "SID"), wb("Skype:Value", f.sid))),
      );
    }
    return add;
  }

  /** Handles a `Sync` request document. */
  sync(
    owner: Person,
    deviceId: string,
    req: WbxmlElement,
    note: (d: Record<string, unknown>) => void,
  ): WbxmlElement {
    const colls = childrenOf(child(req, "AirSync:Collections"), "AirSync:Collection");
    if (req.tag !== "AirSync:Sync" || colls.length === 0)
      return wb("AirSync:Sync", wb("AirSync:Status", "4"));
    const topWindow = numberIn(child(req, "AirSync:WindowSize"));
    const d = this.device(owner, deviceId);
    const notes: Record<string, unknown>[] = [];
    const out = colls.map((c) => this.collection(owner, d, c, topWindow, notes));
    note({ collections: notes });
    return wb("AirSync:Sync", wb("AirSync:Collections", ...out));
  }

  private collection(
    owner: Person,
    d: DeviceState,
    c: WbxmlElement,
    topWindow: number | undefined,
    notes: Record<string, unknown>[],
  ): WbxmlElement {
    const key = child(c, "AirSync:SyncKey")?.text?.trim() ?? "";
    const id = child(c, "AirSync:CollectionId")?.text?.trim() ?? "";
    const folder = FOLDERS.find((f) => this.folderId(owner, f.sid) === id);
    const status = (s: string, k = "0"): WbxmlElement =>
      wb(
        "AirSync:Collection",
        wb("AirSync:SyncKey", k),
        wb("AirSync:CollectionId", id),
        wb("AirSync:Status", s),
      );
    if (!folder) {
      notes.push({ collection: id, status: 8 });
      return status("8");
    }
    const st = d.collections.get(id);
    const entry: Record<string, unknown> = {
      folder: folder.sid,
      syncKey: key === "0" ? "0" : key === st?.current ? "current" : "other",
    };
    notes.push(entry);
    if (key === "0") {
      const fresh = newKey();
      const reply = status("1", fresh);
      d.collections.set(id, { current: fresh, have: new Map(), prev: { key, reply, replayed: false } });
      return reply;
    }
    if (!st || key !== st.current) {
      if (st?.prev && st.prev.key === key && !st.prev.replayed) {
        st.prev.replayed = true;
        entry.replay = true;
        return st.prev.reply;
      }
      entry.status = 3;
      return status("3");
    }
    const getChanges = child(c, "AirSync:GetChanges");
    const wanted = getChanges === undefined || (getChanges.text ?? "1").trim() !== "0";
    const cap = this.options.activesyncWindowSize;
    const window = Math.max(
      1,
      Math.min(numberIn(child(c, "AirSync:WindowSize")) ?? topWindow ?? cap, cap, 512),
    );
    const { commands, have, more } = wanted
      ? this.changes(st.have, this.items(owner, folder.sid), window)
      : { commands: [], have: st.have, more: false };
    const fresh = newKey();
    const reply = status("1", fresh);
    if (commands.length > 0) reply.children.push(wb("AirSync:Commands", ...commands));
    if (more) reply.children.push(wb("AirSync:MoreAvailable"));
    Object.assign(entry, { sent: commands.length, more });
    d.collections.set(id, { current: fresh, have, prev: { key, reply, replayed: false } });
    return reply;
  }

  /** Up to `window` changes from what the client has to what the folder holds. */
  private changes(
    have: Map<string, string>,
    items: Item[],
    window: number,
  ): { commands: WbxmlElement[]; have: Map<string, string>; more: boolean } {
    const next = new Map(have);
    const byId = new Map(items.map((i) => [i.id, i]));
    const todo: (() => WbxmlElement)[] = [];
    for (const id of have.keys()) {
      if (!byId.has(id)) todo.push(() => (next.delete(id), wb("AirSync:Delete", wb("AirSync:ServerId", id))));
    }
    for (const i of items) {
      const old = have.get(i.id);
      if (old === i.print) continue;
      const kind = old === undefined ? "AirSync:Add" : "AirSync:Change";
      todo.push(() => (next.set(i.id, i.print), wb(kind, wb("AirSync:ServerId", i.id), i.data)));
    }
    const commands = todo.slice(0, window).map((f) => f());
    return { commands, have: next, more: todo.length > window };
  }

  /** The items of one folder now. */
  private items(owner: Person, sid: FolderSid): Item[] {
    const keys =
      sid === "GBL" ? [...owner.blocked] : sid === "SKYPE" || sid === "WL" ? [...owner.contacts] : [];
    const out: Item[] = [];
    for (const k of keys) {
      const p = this.world.people.get(k);
      if (!p) continue;
      if (sid === "WL" && !p.email) continue;
      if (sid === "SKYPE" && p.email) continue;
      const data = this.applicationData(p);
      out.push({
        id: `${this.folderId(owner, sid).slice(0, 4)}:${hash(p.key, 10)}`,
        data,
        print: JSON.stringify(data),
      });
    }
    return out;
  }

  /** `FileAs`/`FirstName`/`LastName`, `Email1Address` (bare) and `Contacts2:IMAddress` [A]. */
  private applicationData(p: Person): WbxmlElement {
    const data = wb("AirSync:ApplicationData");
    if (p.email) data.children.push(wb("Contacts:Email1Address", p.email));
    data.children.push(wb("Contacts:FileAs", p.displayName));
    if (p.firstName) data.children.push(wb("Contacts:FirstName", p.firstName));
    if (p.lastName) data.children.push(wb("Contacts:LastName", p.lastName));
    if (p.skypename) {
      const im = this.options.imAddressFormat === "bare" ? p.skypename : `8:${p.skypename}`;
      data.children.push(wb("Contacts2:IMAddress", im));
    }
    return data;
  }
}

/** Whether a FolderSync reply should carry each folder's `SID` property bag. */
function wantsSid(req: WbxmlElement, o: HttpServerOptions): boolean {
  if (o.folderSidProperty !== "requested") return o.folderSidProperty === "always";
  const props = childrenOf(child(req, "Skype:PropertyBag"), "Skype:Property");
  return props.some((p) => child(p, "Skype:Name")?.text?.trim() === "SID");
}

function numberIn(e: WbxmlElement | undefined): number | undefined {
  const n = Number(e?.text?.trim());
  return e?.text !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}
