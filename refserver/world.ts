// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's shared state: people (accounts and contacts), their address books,
 * tokens and UICs. Written from the protocol profile, independently of the client in src/.
 * The HTTP side (sign-in, api, ABCH, ActiveSync) and the MSNP side both read and change it.
 */
import { EventEmitter } from "node:events";
import { randomBytes, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { ObjectStore, sniffContentType } from "./media/objects.js";

export const SCOPES = {
  skype: "service::skype.com::MBI_SSL",
  uic: "service::login.skype.com::MBI_SSL",
  ath: "service::ssl.live.com::MBI_SSL",
  contacts: "service::contacts.msn.com::MBI_SSL",
  activesync: "service::m.hotmail.com::MBI_SSL",
} as const;

/** One person known to the server. A person with an e-mail can sign in; `8:echo123` cannot. */
export interface Person {
  /** Internal key: the e-mail if any, else the Skype name. */
  readonly key: string;
  readonly email?: string;
  readonly skypename?: string;
  displayName: string;
  firstName: string;
  lastName: string;
  /** 16 lower-case hex digits. */
  readonly cid: string;
  password?: string;
  /** Password sign-in shows the second-factor page. */
  twoFactor: boolean;
  /** usermap status: ACTIVE unless the fixture says otherwise; NOT_LINKED without a Skype name. */
  status: string;
  /** Keys of this person's contacts (the `Allow` role). */
  readonly contacts: Set<string>;
  /** Incoming contact requests: requester key → invitation message. */
  readonly pending: Map<string, string>;
  /** Keys of people this person blocked. */
  readonly blocked: Set<string>;
  /** The profile picture served at `{api}/users/{identity}/profile/avatar` (PROFILE §7.6), if any. */
  avatar?: Avatar;
}

/** A person's avatar. */
export interface Avatar {
  readonly bytes: Buffer;
  /** `image/png` or `image/jpeg` (whatever the setter gave). */
  readonly contentType: string;
  /** Quoted entity tag; a new one on every change. */
  readonly etag: string;
}

export interface FixtureAccount {
  email?: string;
  skypename?: string;
  display_name?: string;
  first_name?: string;
  last_name?: string;
  password?: string;
  two_factor?: boolean;
  status?: string;
  /** E-mails, Skype names or MRIs of this person's contacts (made mutual). */
  contacts?: string[];
  /** Incoming requests to this person. */
  pending?: { from: string; message?: string }[];
  blocked?: string[];
  /** The person's avatar (PROFILE §7.6): a PNG or JPEG, base64. */
  avatar_base64?: string;
}

export interface Fixtures {
  accounts: FixtureAccount[];
}

export interface IssuedToken {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  user_id: string;
}

interface AccessRecord {
  person: string;
  scope: string;
  expiresAt: number;
}

export type TokenCheck =
  { ok: true; person: Person } | { ok: false; reason: "invalid" | "expired" | "wrong_scope" };

/** A skypetoken check (PROFILE §7.1): the person, or why not. */
export type SkypetokenCheck = { ok: true; person: Person } | { ok: false; reason: "invalid" | "expired" };

export interface WorldEvents {
  /** The address book of `person` changed (contacts, pending, blocked): send `NFY MSGR\ABCH`. */
  abchChanged: [person: Person];
}

export class World extends EventEmitter<WorldEvents> {
  readonly people = new Map<string, Person>();
  /** Skype name → key, and cid → key, of the first person added with it (find() is called per frame). */
  private readonly bySkypename = new Map<string, string>();
  private readonly byCid = new Map<string, string>();
  private readonly access = new Map<string, AccessRecord>();
  private readonly refresh = new Map<string, { person: string; expiresAt: number }>();
  private readonly uics = new Map<string, { person: string; nonce: string }>();
  private readonly skypetokens = new Map<string, { person: string; expiresAt: number }>();
  private avatarVersion = 0;
  /** Objects of the object service (PROFILE §7.2). */
  readonly objects = new ObjectStore();
  /**
   * World keys of a thread's current members, or undefined for an unknown thread. Threads live on
   * the MSNP side, which sets this when it starts; the object service asks it at read time.
   */
  threadMembers: (threadId: string) => readonly string[] | undefined = () => undefined;
  /** Seconds an access token lives (knob). */
  tokenLifetime = 3600;
  /** Seconds a refresh token lives. */
  refreshLifetime = 14 * 86400;
  /** Clock, replaceable by tests. */
  now: () => number = () => Date.now();

  constructor(fixtures: Fixtures) {
    super();
    for (const a of fixtures.accounts) this.addPerson(a);
    // The echo contact exists on every server, so fixtures may list it as a contact.
    if (!this.find("8:echo123")) {
      this.addPerson({ skypename: "echo123", display_name: "Echo / Sound Test Service" });
    }
    for (const a of fixtures.accounts) {
      const p = this.mustFind(a.email ?? a.skypename ?? "");
      for (const c of a.contacts ?? []) this.makeContacts(p, this.mustFind(c));
      for (const r of a.pending ?? []) p.pending.set(this.mustFind(r.from).key, r.message ?? "");
      for (const b of a.blocked ?? []) p.blocked.add(this.mustFind(b).key);
    }
  }

  static fromFile(path: string): World {
    return new World(yaml.load(readFileSync(path, "utf8")) as Fixtures);
  }

  addPerson(a: FixtureAccount): Person {
    const key = (a.email ?? a.skypename ?? "").toLowerCase();
    if (!key) throw new Error("a fixture account needs an email or a skypename");
    const cid = createHash("sha256").update(key).digest("hex").slice(0, 16);
    const person: Person = {
      key,
      email: a.email?.toLowerCase(),
      skypename: a.skypename,
      displayName: a.display_name ?? [a.first_name, a.last_name].filter(Boolean).join(" ") ?? key,
      firstName: a.first_name ?? a.display_name?.split(" ")[0] ?? "",
      lastName: a.last_name ?? "",
      cid,
      password: a.password,
      twoFactor: a.two_factor ?? false,
      status: a.status ?? (a.skypename ? "ACTIVE" : "NOT_LINKED"),
      contacts: new Set(),
      pending: new Map(),
      blocked: new Set(),
    };
    if (!person.displayName) person.displayName = key;
    if (a.avatar_base64) {
      const bytes = Buffer.from(a.avatar_base64, "base64");
      person.avatar = {
        bytes,
        contentType: sniffContentType(bytes, "image/png"),
        etag: `"${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}-0"`,
      };
    }
    this.people.set(key, person);
    if (person.skypename !== undefined && !this.bySkypename.has(person.skypename))
      this.bySkypename.set(person.skypename, key);
    if (!this.byCid.has(cid)) this.byCid.set(cid, key);
    return person;
  }

  /** Finds a person by e-mail, Skype name, `1:`/`8:` MRI (an `;epid=` suffix is ignored). */
  find(id: string): Person | undefined {
    let s = id.split(";")[0]!.trim();
    if (s.startsWith("1:")) s = s.slice(2).toLowerCase();
    else if (s.startsWith("8:")) return this.bySkypenameOf(s.slice(2));
    return this.people.get(s.toLowerCase()) ?? this.bySkypenameOf(s);
  }

  private bySkypenameOf(name: string): Person | undefined {
    const key = this.bySkypename.get(name);
    return key === undefined ? undefined : this.people.get(key);
  }

  /** The person with this cid (16 hex digits), if any. */
  findByCid(cid: string): Person | undefined {
    const key = this.byCid.get(cid);
    return key === undefined ? undefined : this.people.get(key);
  }

  mustFind(id: string): Person {
    const p = this.find(id);
    if (!p) throw new Error(`fixture refers to unknown person ${id}`);
    return p;
  }

  /** The person's MRIs: `1:<email>` (if any) then `8:<skypename>` (if any). */
  identities(p: Person): string[] {
    const out: string[] = [];
    if (p.email) out.push(`1:${p.email}`);
    if (p.skypename) out.push(`8:${p.skypename}`);
    return out;
  }

  /** How a person appears to their Skype contacts: `8:` when they have a Skype name. */
  primaryMri(p: Person): string {
    return p.skypename ? `8:${p.skypename}` : `1:${p.email}`;
  }

  makeContacts(a: Person, b: Person): void {
    a.contacts.add(b.key);
    b.contacts.add(a.key);
  }

  removeContacts(a: Person, b: Person): void {
    a.contacts.delete(b.key);
    b.contacts.delete(a.key);
  }

  /** Signals that `p`'s address book changed. */
  touchAddressBook(p: Person): void {
    this.emit("abchChanged", p);
  }

  private token(): string {
    // Real tokens carry + / = : keep them so clients must encode them.
    return "EwA" + randomBytes(30).toString("base64") + "+/=";
  }

  issueTokens(p: Person, scope: string): IssuedToken {
    const access_token = this.token();
    const refresh_token = "M." + this.token();
    const now = this.now();
    this.access.set(access_token, { person: p.key, scope, expiresAt: now + this.tokenLifetime * 1000 });
    this.refresh.set(refresh_token, { person: p.key, expiresAt: now + this.refreshLifetime * 1000 });
    return { access_token, refresh_token, expires_in: this.tokenLifetime, scope, user_id: p.cid };
  }

  checkAccess(token: string | undefined | null, scope: string): TokenCheck {
    const rec = token ? this.access.get(token) : undefined;
    if (!rec) return { ok: false, reason: "invalid" };
    if (rec.scope !== scope) return { ok: false, reason: "wrong_scope" };
    if (rec.expiresAt <= this.now()) return { ok: false, reason: "expired" };
    const person = this.people.get(rec.person);
    return person ? { ok: true, person } : { ok: false, reason: "invalid" };
  }

  /** Redeems a refresh token for a new scoped token; the old refresh token stays valid until it expires. */
  redeemRefresh(rt: string, scope: string): IssuedToken | undefined {
    const rec = this.refresh.get(rt);
    if (!rec || rec.expiresAt <= this.now()) return undefined;
    const person = this.people.get(rec.person);
    return person ? this.issueTokens(person, scope) : undefined;
  }

  /** Revokes every token of a person, skypetokens included (test control: forces `invalid_grant`). */
  revokeAll(p: Person): void {
    for (const [k, v] of this.access) if (v.person === p.key) this.access.delete(k);
    for (const [k, v] of this.refresh) if (v.person === p.key) this.refresh.delete(k);
    for (const [k, v] of this.skypetokens) if (v.person === p.key) this.skypetokens.delete(k);
  }

  /** Expires every access token and skypetoken of a person now (test control). */
  expireAccess(p: Person): void {
    for (const v of this.access.values()) if (v.person === p.key) v.expiresAt = this.now();
    for (const v of this.skypetokens.values()) if (v.person === p.key) v.expiresAt = this.now();
  }

  /** A new skypetoken (PROFILE §7.1) for `p`, living `lifetimeS` seconds. Opaque, JWT-like characters. */
  issueSkypetoken(p: Person, lifetimeS: number): string {
    const token = `eyJ${randomBytes(24).toString("base64url")}.${randomBytes(48).toString("base64url")}`;
    this.skypetokens.set(token, { person: p.key, expiresAt: this.now() + lifetimeS * 1000 });
    return token;
  }

  checkSkypetoken(token: string | undefined | null): SkypetokenCheck {
    const rec = token ? this.skypetokens.get(token) : undefined;
    if (!rec) return { ok: false, reason: "invalid" };
    if (rec.expiresAt <= this.now()) return { ok: false, reason: "expired" };
    const person = this.people.get(rec.person);
    return person ? { ok: true, person } : { ok: false, reason: "invalid" };
  }

  /**
   * Sets (or with `undefined` clears) a person's avatar and tells their contacts, as any other
   * address-book change does (`NFY MSGR\ABCH`, PROFILE §7.6). Returns the new avatar.
   */
  setAvatar(p: Person, image: { bytes: Buffer; contentType: string } | undefined): Avatar | undefined {
    if (image) {
      const hash = createHash("sha256").update(image.bytes).digest("hex").slice(0, 16);
      p.avatar = { ...image, etag: `"${hash}-${++this.avatarVersion}"` };
    } else p.avatar = undefined;
    for (const key of p.contacts) {
      const contact = this.people.get(key);
      if (contact) this.touchAddressBook(contact);
    }
    return p.avatar;
  }

  issueUic(p: Person, nonce: string): string {
    const uic = randomBytes(48).toString("base64");
    this.uics.set(uic, { person: p.key, nonce });
    return uic;
  }

  /** A UIC is valid for the person and the CNT nonce it was issued for. */
  checkUic(uic: string, nonce: string): Person | undefined {
    const rec = this.uics.get(uic);
    if (!rec || rec.nonce !== nonce) return undefined;
    return this.people.get(rec.person);
  }
}
