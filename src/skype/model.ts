// SPDX-License-Identifier: Apache-2.0
/**
 * Protocol-level model types of the Skype client: endpoints, identities (MRIs), profile and contacts.
 * See PROFILE.md §1 (endpoints), REFERENCE.md §2 (identities).
 */
import { SkypeError, SkypeErrorCode } from "./errors.js";

/**
 * Where the client talks to. Every base URL is configuration (PROFILE §1), never a constant in code.
 * HTTP bases carry no trailing path: `{login}/oauth20_token.srf` is built from `login`.
 */
export interface SkypeEndpoints {
  /** Microsoft account sign-in and OAuth (`https://login.live.com`). */
  login: string;
  /** Skype API: `/rps/me`, `/partners/999/usermap` (`https://api.skype.com`). */
  api: string;
  /** UIC issuer (`https://login.skype.com`). */
  skype_login: string;
  /** Address book SOAP (`https://proxy-blu-people.directory.live.com`). */
  abch: string;
  /** ActiveSync (`https://m.hotmail.com`). */
  activesync: string;
  /** MSNP24 stream as `host:port`. */
  msnp: string;
  /** Whether the MSNP stream is wrapped in TLS. */
  msnpTls: boolean;
}

/** The real-world defaults of PROFILE §1. */
export const DEFAULT_ENDPOINTS: Readonly<SkypeEndpoints> = Object.freeze({
  login: "https://login.live.com",
  api: "https://api.skype.com",
  skype_login: "https://login.skype.com",
  abch: "https://proxy-blu-people.directory.live.com",
  activesync: "https://m.hotmail.com",
  msnp: "s.gateway.messenger.live.com:443",
  msnpTls: true,
});

/** Joins a configured base URL and an absolute path, tolerating a trailing slash on the base. */
export function endpointUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

/** A Skype identity such as `8:live:alice_1` or `1:alice@hotmail.co.uk` (REFERENCE §2). */
export type Mri = string;

/** A parsed MRI: the network id and the account part (without `;epid=` or other suffixes). */
export interface ParsedMri {
  netId: number;
  account: string;
}

const MRI_RE = /^(\d{1,3}):(.+)$/s;

/** Parses `<netId>:<account>[;suffix…]`; returns undefined when the text is not an MRI. */
export function parseMri(text: string): ParsedMri | undefined {
  const m = MRI_RE.exec(text.trim());
  if (!m) return undefined;
  const account = m[2]!.split(";")[0]!.trim();
  if (!account) return undefined;
  return { netId: Number(m[1]), account };
}

/** Formats an MRI from its parts. */
export function formatMri(netId: number, account: string): Mri {
  return `${netId}:${account}`;
}

/** `1:<email>`: a Microsoft account identity. */
export function msaMri(email: string): Mri {
  return formatMri(1, email);
}

/** `8:<skypename>`: a Skype identity (including `live:` names). */
export function skypeMri(skypename: string): Mri {
  return formatMri(8, skypename);
}

/** True for an MRI with network id 1 (Microsoft account). */
export function isMsaMri(mri: string): boolean {
  return parseMri(mri)?.netId === 1;
}

/** True for an MRI with network id 8 (Skype). */
export function isSkypeMri(mri: string): boolean {
  return parseMri(mri)?.netId === 8;
}

/**
 * Turns what a user or a server wrote (an e-mail, a Skype name or a full MRI) into an MRI.
 * An address with `@` is a Microsoft account; anything else is a Skype name (PROFILE §5, PassportName).
 */
export function toMri(who: string): Mri {
  const text = who.trim();
  if (!text) throw new SkypeError(SkypeErrorCode.InvalidArgument, "an empty contact identity", false);
  const parsed = parseMri(text);
  if (parsed) return formatMri(parsed.netId, parsed.account);
  return text.includes("@") ? msaMri(text) : skypeMri(text);
}

/**
 * The `PassportName` form of an identity for address-book requests: the e-mail for `1:`,
 * the bare Skype name for `8:` (PROFILE §5).
 */
export function toPassportName(who: string): string {
  const parsed = parseMri(toMri(who));
  if (!parsed) throw new SkypeError(SkypeErrorCode.InvalidArgument, "not a contact identity", false);
  if (parsed.netId !== 1 && parsed.netId !== 8) {
    throw new SkypeError(
      SkypeErrorCode.InvalidArgument,
      `the address book only knows 1: and 8: identities, not ${parsed.netId}:`,
      false,
    );
  }
  return parsed.account;
}

/** Comparison key of an MRI: e-mails are case-insensitive, Skype names are kept as they are. */
export function mriKey(mri: string): string {
  const parsed = parseMri(mri);
  if (!parsed) return mri.trim();
  return parsed.netId === 1
    ? formatMri(1, parsed.account.toLowerCase())
    : formatMri(parsed.netId, parsed.account);
}

/** Sorts identities `1:` before `8:` (by network id), then alphabetically, without duplicates. */
export function sortIdentities(ids: Iterable<string>): Mri[] {
  const byKey = new Map<string, string>();
  for (const id of ids) if (!byKey.has(mriKey(id))) byKey.set(mriKey(id), id);
  return [...byKey.values()].sort((a, b) => {
    const na = parseMri(a)?.netId ?? 999;
    const nb = parseMri(b)?.netId ?? 999;
    return na !== nb ? na - nb : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** 16 lower-case hex digits, as `user_id` and `/rps/me` `cid` carry the account id (PROFILE §5). */
export function normalizeCid(cid: string | number): string | undefined {
  const text = String(cid).trim().toLowerCase();
  if (!/^[0-9a-f]{1,16}$/.test(text)) return undefined;
  return text.padStart(16, "0");
}

/** The hex CID as ABCH writes it: a signed 64-bit decimal (PROFILE §5). */
export function cidToSigned64(cidHex: string): string {
  return BigInt.asIntN(64, BigInt(`0x${cidHex}`)).toString();
}

/** ABCH's signed 64-bit decimal CID back to 16 lower-case hex digits. */
export function signed64ToCid(decimal: string): string | undefined {
  if (!/^-?\d{1,20}$/.test(decimal.trim())) return undefined;
  return BigInt.asUintN(64, BigInt(decimal.trim())).toString(16).padStart(16, "0");
}

/** The signed-in account's profile, from `/rps/me` (PROFILE §2.2). Never holds a token. */
export interface Profile {
  /** 16 lower-case hex digits. */
  cid: string;
  /** What to show for the account: first and last name, else the Skype name, else the e-mail. */
  displayName: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  country?: string;
  gender?: string;
  birthdate?: string;
  siteName?: string;
  siteId?: string;
}

/** The account's identities: `1:<email>` (Microsoft account) and `8:<skypename>`. */
export interface AccountIdentities {
  msa?: Mri;
  skype?: Mri;
}

/** A contact: one person, possibly known under two identities (`1:` and `8:`, PROFILE §4). */
export interface Contact {
  /** Sorted `1:` first, then `8:`; never empty. */
  identities: Mri[];
  displayName: string;
  firstName?: string;
  lastName?: string;
}

/**
 * Splits the `msnp` endpoint (`host:port`, IPv6 hosts in brackets) into its parts.
 * @throws SkypeError `SKYPE_INVALID_ARGUMENT` when it is not `host:port`.
 */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw new SkypeError(SkypeErrorCode.InvalidArgument, `"${value}" is not host:port`, false);
  }
  return { host: (m[1] ?? m[2])!, port };
}
