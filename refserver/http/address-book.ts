// SPDX-License-Identifier: Apache-2.0
/**
 * Address-book changes on the world (PROFILE §4, §5 "Address book and contacts"), shared by the SOAP
 * endpoints and the control API: contact requests, accepting, declining, blocking, removing.
 * Every change calls `world.touchAddressBook` for each person whose address book changed, which
 * makes the MSNP side send `NFY MSGR\ABCH`.
 */
import type { Person, World } from "../world.js";

/** An ABCH fault code with a readable reason (never a secret). */
export class AbFault extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AbFault";
  }
}

/** The membership roles the server keeps. */
export type Role = "Allow" | "Block" | "Reverse" | "Pending";
export const ROLES: readonly Role[] = ["Allow", "Block", "Reverse", "Pending"];

/** `PassportName`: the e-mail when the person has a Microsoft account, else the bare Skype name. */
export function passportName(p: Person): string {
  return p.email ?? p.skypename ?? p.key;
}

/** Finds a person from an e-mail, a Skype name or a full MRI (liberal: surrounding spaces ignored). */
export function lookup(world: World, id: string): Person | undefined {
  const s = id.trim();
  return s ? world.find(s) : undefined;
}

/** The people in one of `owner`'s roles, with the invitation text for `Pending`. */
export function roleMembers(world: World, owner: Person, role: Role): { person: Person; message?: string }[] {
  const keys: [string, string | undefined][] =
    role === "Allow" || role === "Reverse"
      ? [...owner.contacts].map((k) => [k, undefined])
      : role === "Block"
        ? [...owner.blocked].map((k) => [k, undefined])
        : [...owner.pending].map(([k, m]) => [k, m]);
  const out: { person: Person; message?: string }[] = [];
  for (const [k, message] of keys) {
    const person = world.people.get(k);
    if (person) out.push(message === undefined ? { person } : { person, message });
  }
  return out;
}

/** People `owner` has asked and who have not answered yet (outgoing requests). */
export function outgoingRequests(world: World, owner: Person): Person[] {
  return [...world.people.values()].filter((p) => p.pending.has(owner.key));
}

/**
 * `from` asks `to` to become a contact. If `to` had already asked `from`, they become contacts at
 * once. A request to someone who blocked `from` is silently dropped (the sender cannot tell).
 */
export function sendContactRequest(
  world: World,
  from: Person,
  to: Person,
  message: string,
): "requested" | "completed" | "dropped" {
  if (from.key === to.key) throw new AbFault("ContactAlreadyExists", "that is the account itself");
  if (from.contacts.has(to.key)) throw new AbFault("ContactAlreadyExists", "already a contact");
  if (to.pending.has(from.key)) throw new AbFault("ContactAlreadyExists", "a request is already pending");
  if (from.pending.has(to.key)) {
    from.pending.delete(to.key);
    world.makeContacts(from, to);
    world.touchAddressBook(from);
    world.touchAddressBook(to);
    return "completed";
  }
  if (to.blocked.has(from.key)) return "dropped";
  to.pending.set(from.key, message);
  world.touchAddressBook(to);
  return "requested";
}

/**
 * `AddMember` on a role (PROFILE §5): Allow accepts a pending request (with none pending it still makes
 * the two contacts: the role means "allowed"), Block blocks; Pending and Reverse change nothing.
 */
export function addMember(world: World, owner: Person, role: Role, who: Person): void {
  if (role === "Allow") {
    if (owner.contacts.has(who.key)) throw new AbFault("MemberAlreadyExists", "already in the Allow role");
    owner.pending.delete(who.key);
    who.pending.delete(owner.key);
    world.makeContacts(owner, who);
    world.touchAddressBook(owner);
    world.touchAddressBook(who);
  } else if (role === "Block") {
    if (owner.blocked.has(who.key)) throw new AbFault("MemberAlreadyExists", "already in the Block role");
    owner.blocked.add(who.key);
    world.touchAddressBook(owner);
  } else if (role === "Pending") {
    if (owner.pending.has(who.key)) throw new AbFault("MemberAlreadyExists", "already in the Pending role");
  }
}

/** `DeleteMember` on a role: Allow removes the contact, Block unblocks, Pending declines; Reverse is ignored. */
export function deleteMember(world: World, owner: Person, role: Role, who: Person): void {
  if (role === "Reverse") return;
  if (role === "Allow") {
    if (!owner.contacts.has(who.key)) throw new AbFault("MemberDoesNotExist", `not in the ${role} role`);
    world.removeContacts(owner, who);
    world.touchAddressBook(owner);
    world.touchAddressBook(who);
  } else if (role === "Block") {
    if (!owner.blocked.delete(who.key)) throw new AbFault("MemberDoesNotExist", "not in the Block role");
    world.touchAddressBook(owner);
  } else {
    if (!owner.pending.delete(who.key)) throw new AbFault("MemberDoesNotExist", "not in the Pending role");
    world.touchAddressBook(owner);
  }
}

/** Removes a contact, or withdraws an outgoing request (`ABContactDelete`). */
export function deleteContact(world: World, owner: Person, who: Person): void {
  if (owner.contacts.has(who.key)) {
    world.removeContacts(owner, who);
    world.touchAddressBook(owner);
    world.touchAddressBook(who);
  } else if (who.pending.delete(owner.key)) {
    world.touchAddressBook(owner);
    world.touchAddressBook(who);
  } else {
    throw new AbFault("ContactDoesNotExist", "no such contact");
  }
}
