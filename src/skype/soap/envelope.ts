// SPDX-License-Identifier: Apache-2.0
/**
 * SOAP 1.1 request envelopes of the ABCH address book (REFERENCE §12, PROFILE §4): the
 * `ABApplicationHeader`/`ABAuthHeader` header and the bodies of the operations this client uses.
 * Every value is XML-escaped; the ticket token is never logged.
 */
import { escapeXml } from "../xml.js";

export const AB_NAMESPACE = "http://www.msn.com/webservices/AddressBook";
/** Skype's (and Miranda's) ABCH application id. */
export const AB_APPLICATION_ID = "F6D2794D-501F-443A-ADBE-8F1490FF30FD";
/** The default address book id. */
export const DEFAULT_AB_ID = "00000000-0000-0000-0000-000000000000";

/** Which ABCH service an operation belongs to (PROFILE §5: operations are per service). */
export type AbService = "sharing" | "ab";

export type AbOperation =
  "FindMembershipByRole" | "AddMember" | "DeleteMember" | "ABContactAdd" | "FindAllBlockedContacts";

/** Roles the client changes membership of. */
export type MemberRole = "Allow" | "Block" | "Pending";

export const OPERATION_SERVICE: Readonly<Record<AbOperation, AbService>> = {
  FindMembershipByRole: "sharing",
  AddMember: "sharing",
  DeleteMember: "sharing",
  ABContactAdd: "ab",
  FindAllBlockedContacts: "ab",
};

/** `PartnerScenario` per operation, as the Skype/Miranda clients sent it (REFERENCE §12.2). */
export const PARTNER_SCENARIO: Readonly<Record<AbOperation, string>> = {
  FindMembershipByRole: "InviteResponse",
  AddMember: "BlockUnblock",
  DeleteMember: "BlockUnblock",
  ABContactAdd: "ContactSave",
  FindAllBlockedContacts: "InviteResponse",
};

export const SERVICE_PATH: Readonly<Record<AbService, string>> = {
  sharing: "/abservice/SharingService.asmx",
  ab: "/abservice/abservice.asmx",
};

/** The `SOAPAction` header value of an operation. */
export function soapAction(op: AbOperation): string {
  return `${AB_NAMESPACE}/${op}`;
}

export interface EnvelopeHeader {
  partnerScenario: string;
  /** The contacts.msn.com access token (secret). */
  ticketToken: string;
  /** The service's last CacheKey, echoed once the server said it changed. */
  cacheKey?: string;
}

/** Wraps an operation body in the SOAP envelope with the ABCH headers. */
export function buildEnvelope(header: EnvelopeHeader, body: string): string {
  const cacheKey = header.cacheKey ? `<CacheKey>${escapeXml(header.cacheKey)}</CacheKey>` : "";
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"` +
    ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"` +
    ` xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">` +
    `<soap:Header>` +
    `<ABApplicationHeader xmlns="${AB_NAMESPACE}">` +
    `<ApplicationId>${AB_APPLICATION_ID}</ApplicationId>` +
    `<IsMigration>false</IsMigration>` +
    `<PartnerScenario>${escapeXml(header.partnerScenario)}</PartnerScenario>` +
    cacheKey +
    `</ABApplicationHeader>` +
    `<ABAuthHeader xmlns="${AB_NAMESPACE}">` +
    `<ManagedGroupRequest>false</ManagedGroupRequest>` +
    `<TicketToken>${escapeXml(header.ticketToken)}</TicketToken>` +
    `</ABAuthHeader>` +
    `</soap:Header>` +
    `<soap:Body>${body}</soap:Body>` +
    `</soap:Envelope>`
  );
}

/** `FindMembershipByRole` for the given roles (Pending lists incoming requests). */
export function findMembershipByRoleBody(roles: readonly string[]): string {
  const ids = roles.map((r) => `<RoleId>${escapeXml(r)}</RoleId>`).join("");
  return (
    `<FindMembershipByRole xmlns="${AB_NAMESPACE}">` +
    `<serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter>` +
    `<includedRoles>${ids}</includedRoles>` +
    `<view>Full</view>` +
    `<expandMembership>true</expandMembership>` +
    `</FindMembershipByRole>`
  );
}

/** `FindAllBlockedContacts`: an empty element. */
export function findAllBlockedContactsBody(): string {
  return `<FindAllBlockedContacts xmlns="${AB_NAMESPACE}"/>`;
}

/** `AddMember`/`DeleteMember` of one passport member on one role of the Messenger service. */
export function memberBody(op: "AddMember" | "DeleteMember", role: MemberRole, passportName: string): string {
  return (
    `<${op} xmlns="${AB_NAMESPACE}">` +
    `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle>` +
    `<memberships><Membership>` +
    `<MemberRole>${role}</MemberRole>` +
    `<Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<Type>Passport</Type><State>Accepted</State>` +
    `<PassportName>${escapeXml(passportName)}</PassportName>` +
    `</Member></Members>` +
    `</Membership></memberships>` +
    `</${op}>`
  );
}

/** `ABContactAdd`: a contact request to `passportName`, with an optional invitation text. */
export function abContactAddBody(passportName: string, message?: string, ownDisplayName?: string): string {
  const invite =
    message || ownDisplayName
      ? `<MessengerMemberInfo>` +
        (message
          ? `<PendingAnnotations><Annotation><Name>MSN.IM.InviteMessage</Name>` +
            `<Value>${escapeXml(message)}</Value></Annotation></PendingAnnotations>`
          : "") +
        (ownDisplayName ? `<DisplayName>${escapeXml(ownDisplayName)}</DisplayName>` : "") +
        `</MessengerMemberInfo>`
      : "";
  return (
    `<ABContactAdd xmlns="${AB_NAMESPACE}">` +
    `<abId>${DEFAULT_AB_ID}</abId>` +
    `<contacts><Contact><contactInfo>` +
    `<contactType>LivePending</contactType>` +
    `<passportName>${escapeXml(passportName)}</passportName>` +
    `<isMessengerUser>true</isMessengerUser>` +
    invite +
    `<annotations><Annotation><Name>MSN.IM.Display</Name><Value>1</Value></Annotation></annotations>` +
    `</contactInfo></Contact></contacts>` +
    `<options><EnableAllowListManagement>true</EnableAllowListManagement></options>` +
    `</ABContactAdd>`
  );
}
