// SPDX-License-Identifier: Apache-2.0
/**
 * A one-shot check of an account against the HTTP side: sign in (password, or a pasted redirect URL of
 * the browser flow with state 999), then read the contacts (ActiveSync), incoming requests and blocked
 * people (ABCH). The result never contains a token.
 */
import type { Dispatcher } from "undici";
import { ContactSync } from "./activesync/contact-sync.js";
import { DEFAULT_STATE } from "./auth/authorize.js";
import { loginWithPassword, loginWithRedirect, type LoginResult } from "./auth/login-process.js";
import { SkypeError, SkypeErrorCode } from "./errors.js";
import { silentLogger, type SkypeLogger } from "./log.js";
import { type Mri, type Profile, type SkypeEndpoints } from "./model.js";
import { AddressBookClient } from "./soap/address-book.js";
import { TokenManager } from "./tokens.js";

export interface ProbeOptions {
  endpoints: SkypeEndpoints;
  /** The Microsoft account e-mail. */
  user: string;
  /** Password flow when given. */
  password?: string;
  /** Browser flow: the final URL (or its fragment) the user pasted; its state must be 999. */
  redirectUrl?: string;
  dispatcher?: Dispatcher;
  logger?: SkypeLogger;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ProbeResult {
  profile: Profile;
  /** The account's own identities, `1:` then `8:`. */
  identities: Mri[];
  contacts: { identities: Mri[]; displayName: string }[];
  /** MRIs of people who sent a contact request. */
  pending: Mri[];
  /** MRIs of blocked people. */
  blocked: Mri[];
}

/**
 * Runs the probe. @throws the typed errors of sign-in, tokens, ABCH and ActiveSync;
 * SkypeError `InvalidArgument` when neither a password nor a redirect URL is given.
 */
export async function runProbe(opts: ProbeOptions): Promise<ProbeResult> {
  const logger = opts.logger ?? silentLogger;
  const http = { dispatcher: opts.dispatcher, logger, timeoutMs: opts.timeoutMs };
  const { endpoints, signal } = opts;
  let login: LoginResult;
  if (opts.password) {
    login = await loginWithPassword(endpoints, opts.user, opts.password, { ...http, signal });
  } else if (opts.redirectUrl) {
    login = await loginWithRedirect(endpoints, opts.redirectUrl, { ...http, signal, state: DEFAULT_STATE });
  } else {
    throw new SkypeError(
      SkypeErrorCode.InvalidArgument,
      "the probe needs a password or a pasted redirect URL",
      false,
    );
  }
  const own = [login.identities.msa, login.identities.skype].filter((x): x is string => !!x);
  const named = opts.user.trim().toLowerCase();
  const known = [login.email, login.skypename, ...own].map((s) => s.toLowerCase());
  if (named && !known.includes(named))
    logger.warn("the account signed in is not the one named for the probe");
  const tokens = new TokenManager({ ...http, endpoints, refreshToken: login.refreshToken });
  const contacts = await new ContactSync(endpoints, tokens, http).syncAll(signal);
  const book = new AddressBookClient(endpoints, tokens, http);
  const pending = await book.findPendingRequests(signal);
  const blocked = await book.findBlockedContacts(signal);
  return {
    profile: login.profile,
    identities: own,
    contacts: contacts.map((c) => ({ identities: c.identities, displayName: c.displayName })),
    pending: pending.map((p) => p.mri),
    blocked: blocked.map((b) => b.mri),
  };
}
