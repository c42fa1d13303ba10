// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's own WBXML codec (WBXML 1.3 as used by ActiveSync; REFERENCE §11.3, §11.4;
 * MS-ASWBXML code pages 0 AirSync, 1 Contacts, 7 FolderHierarchy, 12 Contacts2, plus the private
 * page 0xFE [A]). Elements are named `Page:Tag` (e.g. `AirSync:SyncKey`). ActiveSync never uses
 * attributes, so the codec has none. Malformed input gives `WbxmlError`, never a crash.
 */

/** One element: text (STR_I/STR_T/ENTITY), opaque bytes (OPAQUE) and/or child elements. */
export interface WbxmlElement {
  /** `Page:Tag`, e.g. `FolderHierarchy:FolderSync`. */
  tag: string;
  children: WbxmlElement[];
  text?: string;
  opaque?: Uint8Array;
}

/** Malformed or unsupported WBXML. */
export class WbxmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WbxmlError";
  }
}

const words = (s: string): string[] => s.split(" ");

/** Tag names of each code page, from token 0x05 on. */
const PAGES: Record<number, { name: string; tags: string[] }> = {
  0: {
    name: "AirSync",
    tags: words(
      "Sync Responses Add Change Delete Fetch SyncKey ClientId ServerId Status Collection Class Version " +
        "CollectionId GetChanges MoreAvailable WindowSize Commands Options FilterType Truncation " +
        "RTFTruncation Conflict Collections ApplicationData DeletesAsMoves NotifyGUID Supported " +
        "SoftDelete MIMESupport MIMETruncation Wait Limit Partial ConversationMode MaxItems " +
        "HeartbeatInterval",
    ),
  },
  1: {
    name: "Contacts",
    tags: words(
      "Anniversary AssistantName AssistantPhoneNumber Birthday Body BodySize BodyTruncated " +
        "Business2PhoneNumber BusinessAddressCity BusinessAddressCountry BusinessAddressPostalCode " +
        "BusinessAddressState BusinessAddressStreet BusinessFaxNumber BusinessPhoneNumber CarPhoneNumber " +
        "Categories Category Children Child CompanyName Department Email1Address Email2Address " +
        "Email3Address FileAs FirstName Home2PhoneNumber HomeAddressCity HomeAddressCountry " +
        "HomeAddressPostalCode HomeAddressState HomeAddressStreet HomeFaxNumber HomePhoneNumber JobTitle " +
        "LastName MiddleName MobilePhoneNumber OfficeLocation OtherAddressCity OtherAddressCountry " +
        "OtherAddressPostalCode OtherAddressState OtherAddressStreet PagerNumber RadioPhoneNumber Spouse " +
        "Suffix Title WebPage YomiCompanyName YomiFirstName YomiLastName CompressedRTF Picture Alias " +
        "WeightedRank",
    ),
  },
  7: {
    name: "FolderHierarchy",
    tags: words(
      "Folders Folder DisplayName ServerId ParentId Type Response Status ContentClass Changes Add " +
        "Delete Update SyncKey FolderCreate FolderDelete FolderUpdate FolderSync Count",
    ),
  },
  12: {
    name: "Contacts2",
    tags: words(
      "CustomerId GovernmentId IMAddress IMAddress2 IMAddress3 ManagerName CompanyMainPhone AccountName " +
        "NickName MMS",
    ),
  },
  0xfe: { name: "Skype", tags: words("PropertyBag Property Name Value") },
};

const BY_NAME = new Map<string, { page: number; token: number }>();
for (const [page, def] of Object.entries(PAGES)) {
  def.tags.forEach((t, i) => BY_NAME.set(`${def.name}:${t}`, { page: Number(page), token: i + 5 }));
}

const SWITCH_PAGE = 0x00;
const END = 0x01;
const ENTITY = 0x02;
const STR_I = 0x03;
const STR_T = 0x83;
const OPAQUE = 0xc3;
const MAX_DEPTH = 64;

/** Builds an element: strings become its text, elements its children. */
export function wb(tag: string, ...content: (WbxmlElement | string)[]): WbxmlElement {
  const e: WbxmlElement = { tag, children: [] };
  for (const c of content) {
    if (typeof c === "string") e.text = (e.text ?? "") + c;
    else e.children.push(c);
  }
  return e;
}

/** The first child with that tag. */
export function child(e: WbxmlElement | undefined, tag: string): WbxmlElement | undefined {
  return e?.children.find((c) => c.tag === tag);
}

/** All children with that tag. */
export function childrenOf(e: WbxmlElement | undefined, tag: string): WbxmlElement[] {
  return e ? e.children.filter((c) => c.tag === tag) : [];
}

function pushMbUint(out: number[], n: number): void {
  const bytes = [n & 0x7f];
  for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
  out.push(...bytes);
}

/** Encodes a document (version 1.3, unknown public id, UTF-8, empty string table). */
export function encodeWbxml(root: WbxmlElement): Buffer {
  const out: number[] = [0x03, 0x01, 0x6a, 0x00];
  let page = 0;
  const emit = (e: WbxmlElement, depth: number): void => {
    if (depth > MAX_DEPTH) throw new WbxmlError("document too deep");
    const def = BY_NAME.get(e.tag);
    if (!def) throw new WbxmlError(`no WBXML token for ${e.tag}`);
    if (def.page !== page) {
      out.push(SWITCH_PAGE, def.page);
      page = def.page;
    }
    const hasContent =
      e.children.length > 0 || (e.text !== undefined && e.text !== "") || e.opaque !== undefined;
    out.push(def.token | (hasContent ? 0x40 : 0));
    if (!hasContent) return;
    if (e.text) {
      if (e.text.includes("\0")) throw new WbxmlError(`NUL in the text of ${e.tag}`);
      out.push(STR_I, ...Buffer.from(e.text, "utf8"), 0x00);
    }
    if (e.opaque) {
      out.push(OPAQUE);
      pushMbUint(out, e.opaque.length);
      out.push(...e.opaque);
    }
    for (const c of e.children) emit(c, depth + 1);
    out.push(END);
  };
  emit(root, 0);
  return Buffer.from(out);
}

/** A cursor over the input with bounds-checked reads. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new WbxmlError(`unexpected end of data at byte ${this.pos}`);
    this.pos++;
    return b;
  }
  mbUint(): number {
    let n = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      n = n * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        if (n > 0xffffffff) throw new WbxmlError("mb_u_int32 out of range");
        return n;
      }
    }
    throw new WbxmlError("mb_u_int32 longer than 5 bytes");
  }
  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) throw new WbxmlError(`length ${n} runs past the end of data`);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  cString(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new WbxmlError("unterminated inline string");
    const s = Buffer.from(this.buf.subarray(this.pos, end)).toString("utf8");
    this.pos = end + 1;
    return s;
  }
}

function tagName(page: number, token: number): string {
  const def = PAGES[page];
  const t = def?.tags[token - 5];
  if (!def || t === undefined)
    throw new WbxmlError(`unknown tag 0x${token.toString(16)} on code page ${page}`);
  return `${def.name}:${t}`;
}

function stringAt(table: Uint8Array, offset: number): string {
  const end = table.indexOf(0, offset);
  if (offset >= table.length || end < 0) throw new WbxmlError("string table reference out of range");
  return Buffer.from(table.subarray(offset, end)).toString("utf8");
}

/** Decodes a document; throws `WbxmlError` on anything malformed or unsupported. */
export function decodeWbxml(data: Uint8Array): WbxmlElement {
  const r = new Reader(data);
  const version = r.byte();
  if (version < 0x01 || version > 0x03)
    throw new WbxmlError(`unsupported WBXML version 0x${version.toString(16)}`);
  if (r.mbUint() === 0) r.mbUint();
  const charset = r.mbUint();
  if (charset !== 106 && charset !== 0) throw new WbxmlError(`unsupported charset ${charset} (only UTF-8)`);
  const table = r.bytes(r.mbUint());
  let page = 0;
  const stack: WbxmlElement[] = [];
  let root: WbxmlElement | undefined;
  while (root === undefined) {
    const tok = r.byte();
    const top = stack[stack.length - 1];
    if (tok === SWITCH_PAGE) {
      page = r.byte();
      if (!PAGES[page]) throw new WbxmlError(`unknown code page ${page}`);
    } else if (tok === END) {
      const done = stack.pop();
      if (!done) throw new WbxmlError("END without an open element");
      if (stack.length === 0) root = done;
    } else if (tok === STR_I || tok === STR_T || tok === ENTITY) {
      if (!top) throw new WbxmlError("text outside the root element");
      const s =
        tok === STR_I
          ? r.cString()
          : tok === STR_T
            ? stringAt(table, r.mbUint())
            : String.fromCodePoint(entity(r));
      top.text = (top.text ?? "") + s;
    } else if (tok === OPAQUE) {
      if (!top) throw new WbxmlError("opaque data outside the root element");
      top.opaque = Buffer.from(r.bytes(r.mbUint()));
    } else if ((tok & 0x3f) < 5) {
      throw new WbxmlError(`unsupported global token 0x${tok.toString(16)}`);
    } else {
      if (tok & 0x80) throw new WbxmlError("attributes are not used by ActiveSync");
      const e: WbxmlElement = { tag: tagName(page, tok & 0x3f), children: [] };
      if (top) top.children.push(e);
      if (tok & 0x40) {
        if (stack.length >= MAX_DEPTH) throw new WbxmlError("document too deep");
        stack.push(e);
      } else if (!top) {
        root = e;
      }
    }
  }
  if (r.pos !== data.length) throw new WbxmlError("data after the root element");
  return root;
}

function entity(r: Reader): number {
  const cp = r.mbUint();
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    throw new WbxmlError("bad character entity");
  return cp;
}
