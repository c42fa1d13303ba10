// SPDX-License-Identifier: Apache-2.0
/**
 * The Sharing service operations (REFERENCE §12.2, PROFILE §4, §5): `FindMembership`,
 * `FindMembershipByRole`, `AddMember`, `DeleteMember`. Memberships are the world's roles: Allow
 * (contacts), Block, Reverse (who has the account: the same people, contacts are mutual), Pending
 * (incoming requests, with their `MSN.IM.InviteMessage` annotation).
 */
import { createHash } from "node:crypto";
import type { Person, World } from "../world.js";
import {
  AbFault,
  addMember,
  deleteMember,
  lookup,
  passportName,
  roleMembers,
  ROLES,
  type Role,
} from "./address-book.js";
import { signedCid } from "./http-util.js";
import { at, attr, kids, textOf, type XmlNode } from "./safe-xml.js";
import { abTime, el, tx, type AbOp, type AbOpArgs } from "./soap.js";

/** A stable numeric `MembershipId` for a person in one of the owner's roles. */
function membershipId(owner: Person, role: string, who: Person): string {
  const h = createHash("sha256").update(`${owner.key}|${role}|${who.key}`).digest();
  return String(h.readUInt32BE(0) % 1_000_000_000);
}

function memberXml(a: AbOpArgs, role: Role, who: Person, message: string | undefined): string {
  const now = abTime(a.world.now());
  const annotations =
    message !== undefined
      ? el("Annotations", el("Annotation", tx("Name", "MSN.IM.InviteMessage"), tx("Value", message)))
      : "";
  return (
    `<Member xsi:type="PassportMember">` +
    tx("MembershipId", membershipId(a.owner, role, who)) +
    tx("Type", "Passport") +
    tx("DisplayName", who.displayName) +
    tx("State", "Accepted") +
    annotations +
    tx("Deleted", false) +
    tx("LastChanged", now) +
    tx("JoinedDate", now) +
    tx("ExpirationDate", "0001-01-01T00:00:00") +
    el("Changes") +
    tx("PassportName", passportName(who)) +
    tx("IsPassportNameHidden", false) +
    tx("PassportId", 0) +
    tx("CID", signedCid(who.cid)) +
    el("PassportChanges") +
    tx("LookedupByCID", false) +
    `</Member>`
  );
}

function ownerNamespace(a: AbOpArgs): string {
  const now = abTime(a.world.now());
  return el(
    "OwnerNamespace",
    el(
      "Info",
      el(
        "Handle",
        tx("Id", "00000000-0000-0000-0000-000000000000"),
        tx("IsPassportNameHidden", false),
        tx("CID", signedCid(a.owner.cid)),
      ),
      tx("CreatorPuid", 0),
      tx("CreatorCID", signedCid(a.owner.cid)),
      tx("CreatorPassportName", passportName(a.owner)),
      el("CircleAttributes", tx("IsPresenceEnabled", false), tx("Domain", "WindowsLive")),
      tx("MessengerApplicationServiceCreated", false),
    ),
    el("Changes"),
    tx("CreateDate", "2014-06-20T00:00:00Z"),
    tx("LastChange", now),
  );
}

/** The `FindMembership…Result` content for the given roles. */
function membershipResult(a: AbOpArgs, roles: Role[]): string {
  const memberships: string[] = [];
  for (const role of roles) {
    const members = roleMembers(a.world, a.owner, role);
    if (members.length === 0 && a.options.abchEmptyMemberships === "omit") continue;
    const xml = members.map((m) => memberXml(a, role, m.person, m.message)).join("");
    memberships.push(
      el("Membership", tx("MemberRole", role), el("Members", xml), tx("MembershipIsComplete", true)),
    );
  }
  a.note({ roles });
  if (memberships.length === 0 && a.options.abchEmptyMemberships === "omit") return ownerNamespace(a);
  const info = el(
    "Info",
    el("Handle", tx("Id", 1), tx("Type", "Messenger"), tx("ForeignId", "")),
    tx("InverseRequired", false),
    tx("AuthorizationCriteria", "Everyone"),
    tx("IsBot", false),
  );
  const service = el(
    "Service",
    el("Memberships", ...memberships),
    info,
    el("Changes"),
    tx("LastChange", abTime(a.world.now())),
    tx("Deleted", false),
  );
  return el("Services", service) + ownerNamespace(a);
}

function asRole(s: string): Role | undefined {
  return (ROLES as readonly string[]).includes(s) ? (s as Role) : undefined;
}

const findMembership: AbOp = (a) => {
  const types = kids(at(a.body, "serviceFilter", "Types"), "ServiceType").map(textOf);
  if (types.length > 0 && !types.includes("Messenger")) {
    return el("FindMembershipResult", ownerNamespace(a));
  }
  return el("FindMembershipResult", membershipResult(a, [...ROLES]));
};

const findMembershipByRole: AbOp = (a) => {
  const asked = kids(at(a.body, "includedRoles"), "RoleId").map((r) => textOf(r).trim());
  const roles = asked.length === 0 ? [...ROLES] : ROLES.filter((r) => asked.includes(r));
  return el("FindMembershipByRoleResult", membershipResult(a, roles));
};

/** Who a `Member` element names: PassportName, Email, CID or (for delete) a MembershipId. */
function memberPerson(world: World, owner: Person, role: string, m: XmlNode): Person | undefined {
  for (const field of ["PassportName", "Email", "PhoneNumber"]) {
    const v = textOf(at(m, field)).trim();
    if (v) return lookup(world, v);
  }
  const cid = textOf(at(m, "CID")).trim();
  if (cid) for (const p of world.people.values()) if (signedCid(p.cid) === cid) return p;
  const id = textOf(at(m, "MembershipId")).trim();
  if (id) for (const p of world.people.values()) if (membershipId(owner, role, p) === id) return p;
  return undefined;
}

type MemberChange = (world: World, owner: Person, role: Role, who: Person) => void;

function changeMembers(a: AbOpArgs, change: MemberChange, unknownFault: string): void {
  const done: string[] = [];
  for (const ms of kids(at(a.body, "memberships"), "Membership")) {
    const roleName = textOf(at(ms, "MemberRole")).trim();
    const role = asRole(roleName);
    for (const m of kids(at(ms, "Members"), "Member")) {
      const who = memberPerson(a.world, a.owner, roleName, m);
      if (!who) throw new AbFault(unknownFault, `no such member (${attr(m, "type") ?? "Member"})`);
      // Roles the profile does not use (ProfileExpression, …) are accepted and change nothing.
      if (role) change(a.world, a.owner, role, who);
      done.push(`${roleName}:${who.key}`);
    }
  }
  a.note({ members: done });
}

const addMemberOp: AbOp = (a) => {
  changeMembers(a, addMember, "UserDoesNotExist");
  return "";
};

const deleteMemberOp: AbOp = (a) => {
  changeMembers(a, deleteMember, "MemberDoesNotExist");
  return "";
};

/** The Sharing service's operations by name. */
export const SHARING_OPS: ReadonlyMap<string, AbOp> = new Map([
  ["FindMembership", findMembership],
  ["FindMembershipByRole", findMembershipByRole],
  ["AddMember", addMemberOp],
  ["DeleteMember", deleteMemberOp],
]);
