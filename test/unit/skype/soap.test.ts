import { test } from "node:test";
import assert from "node:assert/strict";
import {
  abContactAddBody,
  buildEnvelope,
  findAllBlockedContactsBody,
  findMembershipByRoleBody,
  memberBody,
  soapAction,
} from "../../../src/skype/soap/envelope.js";
import {
  parseBlockedContacts,
  parseContactAddGuid,
  parsePendingRequests,
  parseSoapResponse,
} from "../../../src/skype/soap/parse.js";
import { parseXmlSafe, xmlChildText, xmlPath } from "../../../src/skype/xml.js";
import { ProtocolParseError, SkypeErrorCode } from "../../../src/skype/errors.js";

const NS = "http://www.msn.com/webservices/AddressBook";
const TOKEN = "EwA<+/=>&x";

function envelope(header: string, body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Header>${header}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

test("the envelope carries the ABCH headers, the escaped ticket and the CacheKey", () => {
  const xml = buildEnvelope(
    { partnerScenario: "InviteResponse", ticketToken: TOKEN, cacheKey: "ck&1" },
    findAllBlockedContactsBody(),
  );
  const doc = parseXmlSafe(xml);
  const app = xmlPath(doc, "Envelope", "Header", "ABApplicationHeader");
  assert.equal(xmlChildText(app, "ApplicationId"), "F6D2794D-501F-443A-ADBE-8F1490FF30FD");
  assert.equal(xmlChildText(app, "IsMigration"), "false");
  assert.equal(xmlChildText(app, "PartnerScenario"), "InviteResponse");
  assert.equal(xmlChildText(app, "CacheKey"), "ck&1");
  const auth = xmlPath(doc, "Envelope", "Header", "ABAuthHeader");
  assert.equal(xmlChildText(auth, "ManagedGroupRequest"), "false");
  assert.equal(xmlChildText(auth, "TicketToken"), TOKEN);
  assert.ok(xml.includes(`<FindAllBlockedContacts xmlns="${NS}"/>`));
  assert.ok(!buildEnvelope({ partnerScenario: "x", ticketToken: "t" }, "").includes("CacheKey"));
  assert.equal(soapAction("AddMember"), `${NS}/AddMember`);
});

test("FindMembershipByRole asks for the Pending role of the Messenger service", () => {
  const doc = parseXmlSafe(findMembershipByRoleBody(["Pending"]));
  const op = doc.FindMembershipByRole;
  assert.equal(xmlPath(op, "serviceFilter", "Types", "ServiceType"), "Messenger");
  assert.equal(xmlChildText(xmlPath(op, "includedRoles"), "RoleId"), "Pending");
  assert.equal(xmlChildText(op, "view"), "Full");
  assert.equal(xmlChildText(op, "expandMembership"), "true");
});

test("AddMember/DeleteMember name one PassportMember on the role", () => {
  for (const opName of ["AddMember", "DeleteMember"] as const) {
    const doc = parseXmlSafe(memberBody(opName, "Block", "mallory@hotmail.com"));
    const op = doc[opName];
    assert.equal(xmlChildText(xmlPath(op, "serviceHandle"), "Type"), "Messenger");
    const m = xmlPath(op, "memberships", "Membership");
    assert.equal(xmlChildText(m, "MemberRole"), "Block");
    const member = xmlPath(m, "Members", "Member");
    assert.equal((member as Record<string, string>)["@type"], "PassportMember");
    assert.equal(xmlChildText(member, "Type"), "Passport");
    assert.equal(xmlChildText(member, "State"), "Accepted");
    assert.equal(xmlChildText(member, "PassportName"), "mallory@hotmail.com");
  }
});

test("ABContactAdd carries the passport name and the invitation text", () => {
  const doc = parseXmlSafe(abContactAddBody("dave.lister", "Hi <Dave> & co", "Alice"));
  const info = xmlPath(doc, "ABContactAdd", "contacts", "Contact", "contactInfo");
  assert.equal(xmlChildText(info, "contactType"), "LivePending");
  assert.equal(xmlChildText(info, "passportName"), "dave.lister");
  assert.equal(xmlChildText(info, "isMessengerUser"), "true");
  const ann = xmlPath(info, "MessengerMemberInfo", "PendingAnnotations", "Annotation");
  assert.equal(xmlChildText(ann, "Name"), "MSN.IM.InviteMessage");
  assert.equal(xmlChildText(ann, "Value"), "Hi <Dave> & co");
  assert.equal(xmlChildText(xmlPath(doc, "ABContactAdd", "options"), "EnableAllowListManagement"), "true");
  assert.ok(!abContactAddBody("x").includes("MessengerMemberInfo"));
});

const SERVICE_HEADER = `<ServiceHeader xmlns="${NS}"><Version>15.01.1408.0000</Version><CacheKey>14r2;abc==</CacheKey><CacheKeyChanged>true</CacheKeyChanged><PreferredHostName>byrdr.omega.contacts.msn.com</PreferredHostName><SessionId>s-1</SessionId></ServiceHeader>`;

test("ServiceHeader: CacheKey, CacheKeyChanged, PreferredHostName", () => {
  const r = parseSoapResponse(envelope(SERVICE_HEADER, `<FindAllBlockedContactsResponse xmlns="${NS}"/>`));
  assert.deepEqual(r.header, {
    version: "15.01.1408.0000",
    cacheKey: "14r2;abc==",
    cacheKeyChanged: true,
    preferredHostName: "byrdr.omega.contacts.msn.com",
    sessionId: "s-1",
  });
  assert.equal(r.fault, undefined);
});

test("faults give the address book's errorcode, else the SOAP faultcode", () => {
  const fault = (detail: string) =>
    envelope(
      "",
      `<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Member does not exist</faultstring><detail>${detail}</detail></soap:Fault>`,
    );
  const r = parseSoapResponse(
    fault(`<errorcode xmlns="${NS}">MemberDoesNotExist</errorcode><errorstring>x</errorstring>`),
  );
  assert.deepEqual(r.fault, {
    code: "MemberDoesNotExist",
    soapCode: "soap:Client",
    faultString: "Member does not exist",
  });
  assert.equal(
    parseSoapResponse(fault(`<x><errorcode>PassportAuthFail</errorcode></x>`)).fault?.code,
    "PassportAuthFail",
  );
  assert.equal(parseSoapResponse(fault("")).fault?.code, "Client");
});

test("a non-envelope is a Parse error", () => {
  assert.throws(
    () => parseSoapResponse("<html/>"),
    (e: unknown) => e instanceof ProtocolParseError && e.code === SkypeErrorCode.Parse,
  );
});

const PENDING = `<FindMembershipByRoleResponse xmlns="${NS}"><FindMembershipByRoleResult><Services><Service>
<Memberships>
<Membership><MemberRole>Pending</MemberRole><Members>
 <Member xsi:type="PassportMember"><MembershipId>1</MembershipId><Type>Passport</Type><DisplayName>Carol Ånström</DisplayName><State>Accepted</State>
  <Annotations><Annotation><Name>MSN.IM.BuddyType</Name><Value>01:</Value></Annotation><Annotation><Name>MSN.IM.InviteMessage</Name><Value>Hi Alice, it&apos;s Carol from work</Value></Annotation></Annotations>
  <PassportName>carol@live.com</PassportName><CID>-123</CID></Member>
 <Member xsi:type="PassportMember"><Type>Passport</Type><PassportName>dave.lister</PassportName></Member>
</Members></Membership>
<Membership><MemberRole>Allow</MemberRole><Members><Member xsi:type="PassportMember"><PassportName>bob@outlook.com</PassportName></Member></Members></Membership>
</Memberships>
<Info><Handle><Id>1</Id><Type>Messenger</Type></Handle></Info></Service></Services>
<OwnerNamespace><Info><Handle><Id>00000000-0000-0000-0000-000000000000</Id></Handle></Info></OwnerNamespace></FindMembershipByRoleResult></FindMembershipByRoleResponse>`;

test("pending requests: MRI from PassportName, display name and invitation text", () => {
  const r = parseSoapResponse(envelope("", PENDING));
  assert.deepEqual(parsePendingRequests(r.body), [
    { mri: "1:carol@live.com", displayName: "Carol Ånström", message: "Hi Alice, it's Carol from work" },
    { mri: "8:dave.lister", displayName: "dave.lister", message: "" },
  ]);
  const none = parseSoapResponse(
    envelope(
      "",
      `<FindMembershipByRoleResponse xmlns="${NS}"><FindMembershipByRoleResult><OwnerNamespace/></FindMembershipByRoleResult></FindMembershipByRoleResponse>`,
    ),
  );
  assert.deepEqual(parsePendingRequests(none.body), []);
});

test("blocked contacts and the ABContactAdd guid", () => {
  const blocked = parseSoapResponse(
    envelope(
      "",
      `<FindAllBlockedContactsResponse xmlns="${NS}"><FindAllBlockedContactsResult><BlockedContact><Mri>8:live:mallory</Mri><DisplayName>Mallory</DisplayName></BlockedContact><BlockedContact><Mri>1:eve@x.com</Mri></BlockedContact></FindAllBlockedContactsResult></FindAllBlockedContactsResponse>`,
    ),
  );
  assert.deepEqual(parseBlockedContacts(blocked.body), [
    { mri: "8:live:mallory", displayName: "Mallory" },
    { mri: "1:eve@x.com", displayName: "eve@x.com" },
  ]);
  const empty = parseSoapResponse(
    envelope(
      "",
      `<FindAllBlockedContactsResponse xmlns="${NS}"><FindAllBlockedContactsResult/></FindAllBlockedContactsResponse>`,
    ),
  );
  assert.deepEqual(parseBlockedContacts(empty.body), []);
  const added = parseSoapResponse(
    envelope(
      "",
      `<ABContactAddResponse xmlns="${NS}"><ABContactAddResult><guid>6a7f-1</guid></ABContactAddResult></ABContactAddResponse>`,
    ),
  );
  assert.equal(parseContactAddGuid(added.body), "6a7f-1");
});
