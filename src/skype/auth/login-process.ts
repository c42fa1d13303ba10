// SPDX-License-Identifier: Apache-2.0
/**
 * Sign-in as a step machine (mautrix `LoginProcess` style): `start()` returns the first step (the
 * authorize URL to open, or the credentials to type), `submitUserInput()` moves on, and the last step is
 * `complete` with a LoginResult. A failed submission (wrong password, pasted the wrong URL) leaves the
 * process on the same step, so the user can try again.
 */
import { fetchProfile, fetchUserMap, type AccountCallOptions } from "../api/account.js";
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "../errors.js";
import type { HttpOptions } from "../http.js";
import { silentLogger } from "../log.js";
import type { AccountIdentities, Profile, SkypeEndpoints } from "../model.js";
import { authorizeUrl, DEFAULT_STATE, parseRedirect, type TokenFragment } from "./authorize.js";
import { passwordSignIn } from "./password.js";

/** What a finished sign-in yields. `refreshToken` is a secret: persist it, never log it. */
export interface LoginResult {
  refreshToken: string;
  /** 16 lower-case hex digits. */
  cid: string;
  profile: Profile;
  identities: AccountIdentities;
  /** The Skype name (`live:alice_1`). */
  skypename: string;
  /** The Microsoft account's e-mail. */
  email: string;
}

export interface LoginOptions extends HttpOptions {
  /** The OAuth `state`. Default "999", as PROFILE §2 fixes. */
  state?: string;
  /** Clock for cache busters. */
  now?: () => number;
}

export type LoginFlow = "password" | "browser";

export interface LoginField {
  id: "login" | "password" | "redirect_url";
  type: "email" | "password" | "url";
  label: string;
}

/** One step of the process. */
export type LoginStep =
  | {
      type: "user_input";
      stepId: "credentials" | "redirect";
      instructions: string;
      fields: LoginField[];
      /** For the browser flow: the address the user opens. */
      url?: string;
    }
  | { type: "complete"; stepId: "complete"; instructions: string; result: LoginResult };

/**
 * Finishes a sign-in from the redirect's tokens: `/rps/me` then usermap (PROFILE §2.2–2.3).
 * @throws AuthError `AccountNotActive`, SkypeError `Parse`/`HttpStatus`/`Network`.
 */
export async function completeSignIn(
  endpoints: Pick<SkypeEndpoints, "api">,
  tokens: TokenFragment,
  opts: AccountCallOptions = {},
): Promise<LoginResult> {
  const log = opts.logger ?? silentLogger;
  const profile = await fetchProfile(endpoints, tokens.accessToken, opts);
  const map = await fetchUserMap(endpoints, tokens.accessToken, opts);
  if (tokens.userId && tokens.userId !== profile.cid) {
    log.warn("the redirect's user_id differs from the profile's cid; using the profile's");
  }
  const email = map.partnerUsername ?? profile.email;
  if (!email) throw new ProtocolParseError(SkypeErrorCode.Parse, "the account has no e-mail address");
  const skypename = map.username;
  return {
    refreshToken: tokens.refreshToken,
    cid: profile.cid,
    profile: profile.displayName === profile.cid ? { ...profile, displayName: skypename } : profile,
    identities: map.identities,
    skypename,
    email,
  };
}

/** Password flow in one call (the probe and the CLI use it). */
export async function loginWithPassword(
  endpoints: Pick<SkypeEndpoints, "login" | "api">,
  login: string,
  password: string,
  opts: LoginOptions & { signal?: AbortSignal } = {},
): Promise<LoginResult> {
  const tokens = await passwordSignIn(endpoints, login, password, opts);
  return completeSignIn(endpoints, tokens, opts);
}

/** Browser flow in one call: `pasted` is the final URL or just its fragment (with or without `#`). */
export async function loginWithRedirect(
  endpoints: Pick<SkypeEndpoints, "api">,
  pasted: string,
  opts: LoginOptions & { signal?: AbortSignal } = {},
): Promise<LoginResult> {
  const tokens = parseRedirect(pasted, opts.state ?? DEFAULT_STATE);
  return completeSignIn(endpoints, tokens, opts);
}

const CREDENTIAL_FIELDS: LoginField[] = [
  { id: "login", type: "email", label: "Microsoft account e-mail" },
  { id: "password", type: "password", label: "Password" },
];

/** The sign-in step machine. One process serves one attempt; make a new one to start over. */
export class LoginProcess {
  private step?: LoginStep;
  private busy = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly endpoints: Pick<SkypeEndpoints, "login" | "api">,
    private readonly opts: LoginOptions = {},
  ) {}

  /** The current step, once started. */
  get current(): LoginStep | undefined {
    return this.step;
  }

  /** Starts the chosen flow; does no I/O. */
  start(flow: LoginFlow): LoginStep {
    if (this.step)
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "this login has already started", false);
    const url = authorizeUrl(this.endpoints, this.opts.state ?? DEFAULT_STATE);
    this.step =
      flow === "password"
        ? {
            type: "user_input",
            stepId: "credentials",
            instructions: "Enter the e-mail address and password of the Microsoft account used for Skype.",
            fields: CREDENTIAL_FIELDS,
          }
        : {
            type: "user_input",
            stepId: "redirect",
            instructions:
              "Open the address below, sign in, and when the page goes blank paste the whole address " +
              "from the browser's address bar (or just the part after #).",
            fields: [{ id: "redirect_url", type: "url", label: "Final address" }],
            url,
          };
    return this.step;
  }

  /**
   * Submits the fields of the current step. On failure the process stays on the same step.
   * @throws the typed errors of the password or browser flow; SkypeError `Aborted` after cancel().
   */
  async submitUserInput(input: Record<string, string | undefined>, signal?: AbortSignal): Promise<LoginStep> {
    const step = this.step;
    if (!step || step.type !== "user_input") {
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "there is no step waiting for input", false);
    }
    if (this.abort.signal.aborted)
      throw new SkypeError(SkypeErrorCode.Aborted, "the login was cancelled", false);
    if (this.busy)
      throw new SkypeError(
        SkypeErrorCode.InvalidArgument,
        "the previous input is still being checked",
        false,
      );
    this.busy = true;
    const opts = {
      ...this.opts,
      signal: signal ? AbortSignal.any([signal, this.abort.signal]) : this.abort.signal,
    };
    try {
      const result =
        step.stepId === "credentials"
          ? await loginWithPassword(this.endpoints, input.login ?? "", input.password ?? "", opts)
          : await loginWithRedirect(this.endpoints, input.redirect_url ?? "", opts);
      this.step = {
        type: "complete",
        stepId: "complete",
        instructions: `Signed in as ${result.skypename}.`,
        result,
      };
      return this.step;
    } finally {
      this.busy = false;
    }
  }

  /** Abandons the process; an in-flight submission fails with `Aborted`. */
  cancel(): void {
    this.abort.abort();
  }
}
