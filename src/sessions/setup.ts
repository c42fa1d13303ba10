// SPDX-License-Identifier: Apache-2.0
/**
 * From the bridge's configuration and store to what the protocol client takes: endpoints, the MSNP
 * address, and the persisted contact-sync bookkeeping (which holds no secret).
 */
import type { Config } from "../config/schema.js";
import type { ContactSyncState } from "../skype/activesync/contact-sync.js";
import type { SkypeLogger } from "../skype/log.js";
import { parseHostPort, type SkypeEndpoints } from "../skype/model.js";
import type { MsnpClientOptions } from "../skype/msnp/types.js";
import type { AddressBookState } from "../skype/soap/address-book.js";
import { TokenScope, type TokenManager } from "../skype/tokens.js";

/** The linked account as a session needs it. */
export interface SessionAccount {
  /** The Microsoft account e-mail (`1:` identity, `<id>` in ATH). */
  email: string;
  /** The Skype name (`8:` identity, `<alias>` in ATH). */
  skypename: string;
  /** The user's own identities, `1:` first. */
  identities: readonly string[];
  /** `IM-Display-Name` of sent messages and the name in front of `/me`. */
  displayName: string;
  /** This user's stable MSNP endpoint id. */
  epid: string;
}

/** Renew tokens this long before they expire (the TokenManager's margin; also used for ATH). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** The `skype.endpoints` block and `msnp_tls` as the client's endpoint set. */
export function endpointsFromConfig(config: Config): SkypeEndpoints {
  const e = config.skype.endpoints;
  return {
    login: e.login,
    api: e.api,
    skype_login: e.skype_login,
    abch: e.abch,
    activesync: e.activesync,
    msnp: e.msnp,
    msnpTls: config.skype.msnp_tls,
  };
}

/** What the session keeps in `users.contactSyncState`: ActiveSync keys and contacts, ABCH cache keys. */
export interface PersistedSyncState {
  version: 1;
  activeSync?: ContactSyncState;
  addressBook?: AddressBookState;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/**
 * Reads what an earlier run stored, tolerating older or foreign shapes: a bare ActiveSync state is
 * accepted as such; anything unusable yields an empty state (a full sync then runs). ActiveSync
 * states are validated later by ContactSync itself.
 */
export function readSyncState(stored: unknown): PersistedSyncState {
  if (!isRecord(stored)) return { version: 1 };
  if (!("activeSync" in stored) && !("addressBook" in stored)) {
    return "folderSyncKey" in stored
      ? { version: 1, activeSync: stored as unknown as ContactSyncState }
      : { version: 1 };
  }
  const out: PersistedSyncState = { version: 1 };
  if (isRecord(stored.activeSync)) out.activeSync = stored.activeSync as unknown as ContactSyncState;
  if (isRecord(stored.addressBook)) {
    out.addressBook = {
      cacheKeys: stringRecord(stored.addressBook.cacheKeys),
      preferredHosts: stringRecord(stored.addressBook.preferredHosts),
    };
  }
  return out;
}

/** What the MSNP client is wired to inside a session. */
export interface MsnpWiring {
  tokens: TokenManager;
  logger: SkypeLogger;
  /** The store's cursors of this user. May throw (the client logs it). */
  cursors(): Record<string, string>;
  /** MRIs of the last contact sync. */
  contacts(): string[];
}

/**
 * The MSNP client's options: address and TLS from the config, credentials from the tokens (ATH
 * ticket, UIC for the nonce), the stable epid, and a re-authentication delay that follows the
 * ticket's lifetime (read by the client each time it schedules one), unless `overrides` fix it.
 * @throws SkypeError `SKYPE_INVALID_ARGUMENT` for an unusable MSNP address.
 */
export function msnpClientOptions(
  config: Config,
  account: SessionAccount,
  wiring: MsnpWiring,
  overrides: Partial<MsnpClientOptions> = {},
): MsnpClientOptions {
  const { host, port } = parseHostPort(config.skype.endpoints.msnp);
  const { tokens } = wiring;
  const options: MsnpClientOptions = {
    host,
    port,
    tls: config.skype.msnp_tls,
    credentials: {
      email: account.email,
      skypename: account.skypename,
      getTicket: () => tokens.getToken(TokenScope.Ath),
      getUic: async (nonce) => (await tokens.getUic(nonce)).uic,
    },
    epid: account.epid,
    displayName: account.displayName,
    logger: wiring.logger,
    getCursors: () => Promise.resolve().then(() => wiring.cursors()),
    getContacts: () => Promise.resolve(wiring.contacts()),
    ...overrides,
  };
  // A function, not a getter: an accessor defined on each options object gave every session a
  // hidden class and a dictionary-mode property table of its own (~1 KB; BENCHMARKS.md, cause 5).
  options.reauthIntervalMs ??= () => reauthDelay(tokens.expiresAt(TokenScope.Ath), Date.now());
  return options;
}

/**
 * When to re-send ATH: just after the cached ticket enters its renewal margin (so the client's
 * `getTicket` fetches a new one) and before it expires. Ten minutes when no ticket is cached.
 */
export function reauthDelay(expiresAt: number | undefined, now: number): number {
  if (expiresAt === undefined) return 10 * 60_000;
  const remaining = expiresAt - now;
  const margin = Math.min(REFRESH_MARGIN_MS, remaining / 4);
  return Math.max(1000, Math.round(remaining - margin + Math.min(500, margin / 2)));
}
