// SPDX-License-Identifier: Apache-2.0
/**
 * Parsers of ABCH SOAP answers (REFERENCE §12, PROFILE §4/§5): the `ServiceHeader` (CacheKey,
 * PreferredHostName), faults (`detail/errorcode`), pending requests and blocked contacts.
 */
import { ProtocolParseError, SkypeErrorCode } from "../errors.js";
import { toMri, type Mri } from "../model.js";
import {
  parseXmlSafe,
  xmlChild,
  xmlChildren,
  xmlChildText,
  xmlPath,
  xmlText,
  type SafeXmlOptions,
  type XmlValue,
} from "../xml.js";

/** The response `ServiceHeader`. */
export interface ServiceHeader {
  version?: string;
  cacheKey?: string;
  cacheKeyChanged: boolean;
  preferredHostName?: string;
  sessionId?: string;
}

export interface SoapFault {
  /** The address book's `detail/errorcode` (e.g. `MemberDoesNotExist`), else the SOAP `faultcode`. */
  code: string;
  /** The SOAP `faultcode` (`soap:Client`). */
  soapCode?: string;
  faultString?: string;
}

export interface SoapResponse {
  header: ServiceHeader;
  /** The children of `soap:Body`. */
  body: XmlValue | undefined;
  fault?: SoapFault;
}

/** An incoming contact request. */
export interface PendingRequest {
  mri: Mri;
  displayName: string;
  /** The invitation text ("" when none). */
  message: string;
}

export interface BlockedContact {
  mri: Mri;
  displayName: string;
}

/** Parses any ABCH answer; faults are returned, not thrown. */
export function parseSoapResponse(xml: string | Uint8Array, opts?: SafeXmlOptions): SoapResponse {
  const doc = parseXmlSafe(xml, opts);
  const envelope = xmlChild(doc, "Envelope");
  if (envelope === undefined || typeof envelope === "string") {
    throw new ProtocolParseError(SkypeErrorCode.Parse, "the address book's answer is not a SOAP envelope");
  }
  const sh = xmlPath(envelope, "Header", "ServiceHeader");
  const header: ServiceHeader = {
    version: nonEmpty(xmlChildText(sh, "Version")),
    cacheKey: nonEmpty(xmlChildText(sh, "CacheKey")),
    cacheKeyChanged: xmlChildText(sh, "CacheKeyChanged")?.toLowerCase() === "true",
    preferredHostName: nonEmpty(xmlChildText(sh, "PreferredHostName")),
    sessionId: nonEmpty(xmlChildText(sh, "SessionId")),
  };
  const body = xmlChild(envelope, "Body");
  const faultNode = xmlChild(body, "Fault");
  if (faultNode === undefined) return { header, body };
  const soapCode = nonEmpty(xmlChildText(faultNode, "faultcode"));
  const errorCode = nonEmpty(findText(xmlChild(faultNode, "detail"), "errorcode", 4));
  return {
    header,
    body,
    fault: {
      code: errorCode ?? soapCode?.replace(/^.*:/, "") ?? "UnknownFault",
      soapCode,
      faultString: nonEmpty(xmlChildText(faultNode, "faultstring")),
    },
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

/** Depth-limited search for the first element `name` below `node`. */
function findText(node: XmlValue | undefined, name: string, depth: number): string | undefined {
  if (node === undefined || typeof node === "string" || depth < 0) return undefined;
  if (Array.isArray(node)) {
    for (const n of node) {
      const t = findText(n, name, depth);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  const direct = xmlChildText(node, name);
  if (direct !== undefined) return direct;
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("@") || k === "#text") continue;
    const t = findText(v, name, depth - 1);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** The operation's `…Result` element (or the response element itself when the result is not wrapped). */
function resultOf(body: XmlValue | undefined, op: string): XmlValue | undefined {
  const response = xmlChild(body, `${op}Response`);
  return xmlChild(response, `${op}Result`) ?? response;
}

/** The identity of a `Member` element: PassportName, else Email, else a CID-less skip. */
function memberMri(member: XmlValue): Mri | undefined {
  const passport = nonEmpty(xmlChildText(member, "PassportName"));
  if (passport) return toMri(passport);
  const email = nonEmpty(xmlChildText(member, "Email"));
  if (email) return toMri(email.includes(":") ? email : `1:${email}`);
  return undefined;
}

function inviteMessage(member: XmlValue): string {
  for (const a of xmlChildren(xmlChild(member, "Annotations"), "Annotation")) {
    if (xmlChildText(a, "Name") === "MSN.IM.InviteMessage") return xmlChildText(a, "Value") ?? "";
  }
  return "";
}

/** `FindMembershipByRole` → the members of the `Pending` role (incoming requests). */
export function parsePendingRequests(body: XmlValue | undefined): PendingRequest[] {
  return parseMembers(resultOf(body, "FindMembershipByRole"), "Pending").map(({ mri, member }) => ({
    mri,
    displayName: nonEmpty(xmlChildText(member, "DisplayName")) ?? mri.replace(/^\d+:/, ""),
    message: inviteMessage(member),
  }));
}

/** The members of `role` in a `Services/Service/Memberships/Membership` tree. */
export function parseMembers(result: XmlValue | undefined, role: string): { mri: Mri; member: XmlValue }[] {
  const out: { mri: Mri; member: XmlValue }[] = [];
  for (const service of xmlChildren(xmlChild(result, "Services"), "Service")) {
    for (const membership of xmlChildren(xmlChild(service, "Memberships"), "Membership")) {
      if (xmlChildText(membership, "MemberRole")?.trim() !== role) continue;
      for (const member of xmlChildren(xmlChild(membership, "Members"), "Member")) {
        if (xmlChildText(member, "Deleted")?.toLowerCase() === "true") continue;
        const mri = memberMri(member);
        if (mri) out.push({ mri, member });
      }
    }
  }
  return out;
}

/** `FindAllBlockedContacts` → `BlockedContact{Mri, DisplayName}` (PROFILE §4). */
export function parseBlockedContacts(body: XmlValue | undefined): BlockedContact[] {
  const out: BlockedContact[] = [];
  for (const c of xmlChildren(resultOf(body, "FindAllBlockedContacts"), "BlockedContact")) {
    const raw = nonEmpty(xmlChildText(c, "Mri")) ?? nonEmpty(xmlChildText(c, "PassportName"));
    if (!raw) continue;
    const mri = toMri(raw);
    out.push({ mri, displayName: nonEmpty(xmlChildText(c, "DisplayName")) ?? mri.replace(/^\d+:/, "") });
  }
  return out;
}

/** `ABContactAdd` → the new contact's guid ("" when the server sent none). */
export function parseContactAddGuid(body: XmlValue | undefined): string {
  const result = resultOf(body, "ABContactAdd");
  return xmlChildText(result, "guid")?.trim() ?? xmlText(result)?.trim() ?? "";
}
