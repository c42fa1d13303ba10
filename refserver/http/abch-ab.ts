// SPDX-License-Identifier: Apache-2.0
/**
 * The AB service operations (REFERENCE §12.2, PROFILE §4, §5): `ABFindContactsPaged`, `ABContactAdd`
 * (sends a contact request), `ABContactDelete`, and `FindAllBlockedContacts` [A].
 */
import { createHash } from "node:crypto";
import type { Person } from "../world.js";
import {
  AbFault,
  deleteContact,
  lookup,
  outgoingRequests,
  passportName,
  sendContactRequest,
} from "./address-book.js";
import { signedCid } from "./http-util.js";
import { at, kids, textOf, type XmlNode } from "./safe-xml.js";
import { abTime, el, tx, type AbOp, type AbOpArgs } from "./soap.js";

const ZERO_GUID = "00000000-0000-0000-0000-000000000000";

/** A stable GUID for `who` in `owner`'s address book (`owner` itself for the Me contact). */
function contactId(owner: Person, who: Person): string {
  const h = createHash("sha256").update(`${owner.key}|contact|${who.key}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function contactXml(a: AbOpArgs, who: Person, type: "Me" | "Regular" | "LivePending"): string {
  const info = el(
    "contactInfo",
    tx("contactType", type),
    tx("quickName", who.firstName || who.displayName),
    tx("passportName", passportName(who)),
    tx("IsPassportNameHidden", false),
    tx("displayName", who.displayName),
    tx("puid", 0),
    tx("CID", signedCid(who.cid)),
    tx("IsNotMobileVisible", false),
    tx("isMobileIMEnabled", false),
    tx("isMessengerUser", true),
    tx("isFavorite", false),
    tx("isSmtp", false),
    tx("hasSpace", false),
    tx("spotWatchState", "NoDevice"),
    tx("birthdate", "0001-01-01T00:00:00"),
    tx("primaryEmailType", "ContactEmailPersonal"),
    tx("PrimaryLocation", "ContactLocationPersonal"),
    tx("PrimaryPhone", "ContactPhonePersonal"),
    tx("IsPrivate", false),
    tx("IsHidden", false),
    tx("Gender", "Unspecified"),
    tx("TimeZone", "None"),
  );
  return el(
    "Contact",
    tx("contactId", contactId(a.owner, who)),
    info,
    el("propertiesChanged"),
    tx("fDeleted", false),
    tx("lastChange", abTime(a.world.now())),
  );
}

const findContactsPaged: AbOp = (a) => {
  const contacts = [contactXml(a, a.owner, "Me")];
  const regular: string[] = [];
  for (const k of a.owner.contacts) {
    const p = a.world.people.get(k);
    if (p) contacts.push(contactXml(a, p, "Regular"));
    if (p) regular.push(p.key);
  }
  const pending = outgoingRequests(a.world, a.owner);
  for (const p of pending) contacts.push(contactXml(a, p, "LivePending"));
  a.note({ contacts: regular, outgoing: pending.map((p) => p.key) });
  const now = abTime(a.world.now());
  const ab = el(
    "Ab",
    tx("abId", ZERO_GUID),
    el(
      "abInfo",
      tx("ownerPuid", 0),
      tx("OwnerCID", signedCid(a.owner.cid)),
      tx("ownerEmail", a.owner.email ?? ""),
      tx("fDefault", true),
      tx("joinedNamespace", false),
      tx("IsBot", false),
      tx("IsParentManaged", false),
      tx("SubscribeExternalPartner", false),
      tx("NotifyExternalPartner", false),
      tx("AddressBookType", "Individual"),
    ),
    tx("lastChange", now),
    tx("DynamicItemLastChanged", "0001-01-01T00:00:00"),
    tx("createDate", "2014-06-20T00:00:00Z"),
    el("propertiesChanged"),
  );
  const circles = el(
    "CircleResult",
    tx("CircleTicket", Buffer.from(`circle-ticket:${a.owner.cid}`).toString("base64")),
  );
  return el("ABFindContactsPagedResult", el("Groups"), el("Contacts", ...contacts), circles, ab);
};

/** The invitation text of an `ABContactAdd` contact (`MSN.IM.InviteMessage`), or empty. */
function inviteMessage(contactInfo: XmlNode | undefined): string {
  const lists = [
    at(contactInfo, "MessengerMemberInfo", "PendingAnnotations"),
    at(contactInfo, "annotations"),
    at(contactInfo, "Annotations"),
  ];
  for (const list of lists) {
    for (const ann of kids(list, "Annotation")) {
      if (textOf(at(ann, "Name")) === "MSN.IM.InviteMessage") return textOf(at(ann, "Value"));
    }
  }
  return "";
}

function contactTarget(a: AbOpArgs, contactInfo: XmlNode | undefined): Person {
  const id =
    textOf(at(contactInfo, "passportName")).trim() ||
    textOf(at(contactInfo, "emails", "ContactEmail", "email")).trim() ||
    textOf(at(contactInfo, "skypeName")).trim();
  if (!id) throw new AbFault("BadArgument", "the contact has no passportName");
  const who = lookup(a.world, id);
  if (!who) throw new AbFault("InvalidPassportUser", "no account with that name");
  return who;
}

const contactAdd: AbOp = (a) => {
  const list = kids(at(a.body, "contacts"), "Contact");
  if (list.length === 0) throw new AbFault("BadArgument", "no contact given");
  const targets = list.map((c) => ({ who: contactTarget(a, at(c, "contactInfo")), c }));
  const outcomes: string[] = [];
  for (const { who, c } of targets) {
    const msg = inviteMessage(at(c, "contactInfo"));
    outcomes.push(`${who.key}:${sendContactRequest(a.world, a.owner, who, msg)}`);
  }
  a.note({ requests: outcomes });
  const first = targets[0];
  return el("ABContactAddResult", tx("guid", first ? contactId(a.owner, first.who) : ZERO_GUID));
};

const contactDelete: AbOp = (a) => {
  const done: string[] = [];
  for (const c of kids(at(a.body, "contacts"), "Contact")) {
    const id = textOf(at(c, "contactId")).trim().toLowerCase();
    const name = textOf(at(c, "contactInfo", "passportName")).trim();
    let who: Person | undefined;
    if (id) {
      const known = [...a.owner.contacts].flatMap((k) => a.world.people.get(k) ?? []);
      who = [...known, ...outgoingRequests(a.world, a.owner)].find((p) => contactId(a.owner, p) === id);
    } else if (name) {
      who = lookup(a.world, name);
    }
    if (!who) throw new AbFault("ContactDoesNotExist", "no such contact");
    deleteContact(a.world, a.owner, who);
    done.push(who.key);
  }
  a.note({ deleted: done });
  return "";
};

const findAllBlocked: AbOp = (a) => {
  if (a.options.blockedContactsResult === "empty") return el("FindAllBlockedContactsResult");
  const blocked: string[] = [];
  for (const k of a.owner.blocked) {
    const p = a.world.people.get(k);
    if (p)
      blocked.push(el("BlockedContact", tx("Mri", a.world.primaryMri(p)), tx("DisplayName", p.displayName)));
  }
  a.note({ blocked: blocked.length });
  return el("FindAllBlockedContactsResult", ...blocked);
};

/** The AB service's operations by name. */
export const AB_OPS: ReadonlyMap<string, AbOp> = new Map([
  ["ABFindContactsPaged", findContactsPaged],
  ["ABContactAdd", contactAdd],
  ["ABContactDelete", contactDelete],
  ["FindAllBlockedContacts", findAllBlocked],
]);
